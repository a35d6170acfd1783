#!/usr/bin/env node
/** The `warden` command. Thin: parses arguments and calls the engine. */
import { APPROVALS_USAGE, approvalsCommand } from './commands/approvals.js';
import { AUDIT_USAGE, auditCommand } from './commands/audit.js';
import { CODEBASE_USAGE, codebaseCommand } from './commands/codebase.js';
import { GUARD_USAGE, guardCommand } from './commands/guard.js';
import { demoCommand } from './commands/demo.js';
import { E2B_USAGE, e2bCommand } from './commands/e2b.js';
import { doctorCommand } from './commands/doctor.js';
import { KEYS_USAGE, keysCommand } from './commands/keys.js';
import { MCP_USAGE, mcpCommand } from './commands/mcp.js';
import { RUN_USAGE, runCommand } from './commands/run.js';
import { SCAN_USAGE, scanCommand } from './commands/scan.js';
import { SECRETS_USAGE, secretsCommand } from './commands/secrets.js';
import { SERVE_USAGE, serveCommand } from './commands/serve.js';
import { reportError, UsageError } from './output.js';

const USAGE = `usage: warden <command> [options]

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

every command takes --json for machine-readable output.
${RUN_USAGE}
${SERVE_USAGE}
${KEYS_USAGE}
${SECRETS_USAGE}
${SCAN_USAGE}
${CODEBASE_USAGE}
${GUARD_USAGE}
${APPROVALS_USAGE}
${AUDIT_USAGE}
${MCP_USAGE}
${E2B_USAGE}`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const json = rest.includes('--json') && (command !== 'run' || rest.indexOf('--json') < (rest.includes('--') ? rest.indexOf('--') : Infinity));
  try {
    switch (command) {
      case 'run':
        if (rest[0] === '--help' || rest[0] === '-h') {
          process.stdout.write(`${RUN_USAGE}\n`);
          return 0;
        }
        return await runCommand(rest);
      case 'serve':
        return await serveCommand(rest);
      case 'keys':
        return await keysCommand(rest);
      case 'secrets':
        return await secretsCommand(rest);
      case 'scan':
        return await scanCommand(rest);
      case 'guard':
        return await guardCommand(rest);
      case 'approvals':
        return await approvalsCommand(rest);
      case 'audit':
        return await auditCommand(rest);
      case 'mcp':
        return await mcpCommand(rest);
      case 'codebase':
        return await codebaseCommand(rest);
      case 'doctor':
        return await doctorCommand(rest);
      case 'e2b':
        return await e2bCommand(rest);
      case 'demo':
        return await demoCommand(rest);
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        process.stdout.write(`${USAGE}\n`);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}.\n${USAGE}`);
    }
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
