/**
 * `warden mcp`: an MCP server on stdin/stdout for agent frameworks and
 * desktop clients. Thin: the tools are the server package's, and they call
 * the Warden server's API through the SDK (WARDEN_URL or --server, with the
 * key in WARDEN_API_KEY). stdout carries only the protocol; notes go to stderr.
 */
import { parseArgs } from 'node:util';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createMcpServer, VERSION } from '@warden/server';
import { UsageError } from '../output.js';

export const MCP_USAGE = `usage: warden mcp [--server URL]
  an MCP server over stdio: tools to create sandboxes, run commands and code, read, write and list files,
  show a codebase sandbox's diff and kill sandboxes, through the Warden server at --server or $WARDEN_URL
  (default http://127.0.0.1:8765) with the API key in $WARDEN_API_KEY. Runs until stdin closes.`;

export async function mcpCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { server: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(`${MCP_USAGE}\n`);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`warden mcp takes no arguments, got ${JSON.stringify(positionals)}.\n${MCP_USAGE}`);
  if (!process.env.WARDEN_API_KEY) {
    throw new UsageError('warden mcp needs an API key in WARDEN_API_KEY (in an MCP client config: "env": { "WARDEN_API_KEY": "…" }). Create one with `warden keys create`.');
  }
  const url = values.server ?? process.env.WARDEN_URL ?? 'http://127.0.0.1:8765';
  const server = createMcpServer({ version: VERSION, connection: { url } });
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => (server.onclose = resolve));
  await server.connect(transport);
  // For the client's log: stdout is the protocol's.
  process.stderr.write(`warden mcp: serving Warden tools from ${url} over stdio until stdin closes\n`);
  // The client ends the session by closing our stdin (then SIGTERM if we linger).
  const end = (): void => void server.close();
  process.stdin.once('end', end);
  process.once('SIGTERM', end);
  process.once('SIGINT', end);
  await closed;
  return 0;
}
