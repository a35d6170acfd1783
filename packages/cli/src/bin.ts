#!/usr/bin/env node
/** The `warden` command. Thin: parses arguments and calls the engine. */
import { reportError, UsageError } from './output.js';

type Command = (args: string[]) => Promise<number>;

/**
 * Each command is loaded when it runs: `warden mcp` or `warden e2b env` need
 * not load the engine, the server and the dashboard to start.
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  run: async () => (await import('./commands/run.js')).runCommand,
  serve: async () => (await import('./commands/serve.js')).serveCommand,
  keys: async () => (await import('./commands/keys.js')).keysCommand,
  secrets: async () => (await import('./commands/secrets.js')).secretsCommand,
  scan: async () => (await import('./commands/scan.js')).scanCommand,
  guard: async () => (await import('./commands/guard.js')).guardCommand,
  approvals: async () => (await import('./commands/approvals.js')).approvalsCommand,
  audit: async () => (await import('./commands/audit.js')).auditCommand,
  mcp: async () => (await import('./commands/mcp.js')).mcpCommand,
  codebase: async () => (await import('./commands/codebase.js')).codebaseCommand,
  doctor: async () => (await import('./commands/doctor.js')).doctorCommand,
  e2b: async () => (await import('./commands/e2b.js')).e2bCommand,
  demo: async () => (await import('./commands/demo.js')).demoCommand,
};

/** The full usage text (loads every command for its own usage lines). */
async function usage(): Promise<string> {
  const [run, serve, keys, secrets, scan, codebase, guard, approvals, audit, mcp, e2b] = await Promise.all([
    import('./commands/run.js').then((m) => m.RUN_USAGE),
    import('./commands/serve.js').then((m) => m.SERVE_USAGE),
    import('./commands/keys.js').then((m) => m.KEYS_USAGE),
    import('./commands/secrets.js').then((m) => m.SECRETS_USAGE),
    import('./commands/scan.js').then((m) => m.SCAN_USAGE),
    import('./commands/codebase.js').then((m) => m.CODEBASE_USAGE),
    import('./commands/guard.js').then((m) => m.GUARD_USAGE),
    import('./commands/approvals.js').then((m) => m.APPROVALS_USAGE),
    import('./commands/audit.js').then((m) => m.AUDIT_USAGE),
    import('./commands/mcp.js').then((m) => m.MCP_USAGE),
    import('./commands/e2b.js').then((m) => m.E2B_USAGE),
  ]);
  return `${SUMMARY}
${run}
${serve}
${keys}
${secrets}
${scan}
${codebase}
${guard}
${approvals}
${audit}
${mcp}
${e2b}`;
}

const SUMMARY = `usage: warden <command> [options]

commands:
  run       run one command in a fresh sandbox      (warden run --help)
  serve     start the HTTP API server
  keys      create, list and revoke API keys
  secrets   store, list and delete your tenant's secrets (values from stdin, never shown)
  scan      give each file a threat verdict (level, score, confidence, why)
  guard     check code against the guard's policy without running it; validate policies
  approvals list, approve and deny actions the guard held for a person
  mcp       an MCP server over stdio: sandbox tools for agents (Claude Desktop, …)
  audit     query, verify and export the tamper-evident audit log
  codebase  add, list, show and delete codebases
  doctor    check what this host supports and how to fix what is missing
  e2b env   print the environment that points the E2B SDKs at this server
  demo      start a sandbox, run a command and Python, print timings

every command takes --json for machine-readable output.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const json = rest.includes('--json') && (command !== 'run' || rest.indexOf('--json') < (rest.includes('--') ? rest.indexOf('--') : Infinity));
  try {
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      process.stdout.write(`${await usage()}\n`);
      return command === undefined ? 2 : 0;
    }
    if (command === 'run' && (rest[0] === '--help' || rest[0] === '-h')) {
      process.stdout.write(`${(await import('./commands/run.js')).RUN_USAGE}\n`);
      return 0;
    }
    const load = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
    if (!load) throw new UsageError(`unknown command ${JSON.stringify(command)}.\n${await usage()}`);
    return await (await load())(rest);
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      if (json) process.stdout.write(`${JSON.stringify({ error: { code: 'E_USAGE', message: (err as Error).message } })}\n`);
      else process.stderr.write(`warden: ${(err as Error).message}\n`);
      return 2;
    }
    return reportError(err, json);
  }
}

process.exitCode = await main(process.argv.slice(2));
