/**
 * The MCP server both transports run: it lists the tools and calls them.
 * It is the SDK's low-level Server rather than McpServer because the tools'
 * schemas are TypeBox (JSON Schema shared with the API), which McpServer
 * does not take; validation uses the API's own checker, so a model gets the
 * same "field must be …, got …" messages as any API client.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError, type CallToolResult, type Tool as McpTool } from '@modelcontextprotocol/sdk/types.js';
import { parseWith } from '@warden/protocol';
import type { ConnectionOptions } from '@warden/sdk';
import { failure } from './results.js';
import type { Tool } from './tool.js';
import { TOOLS } from './tools/index.js';

export interface McpServerOptions {
  /** The Warden API the tools call and the key they call it with. Default: the SDK's (WARDEN_URL, WARDEN_API_KEY). */
  readonly connection?: ConnectionOptions;
  /** Reported to clients as the server's version. */
  readonly version: string;
}

const INSTRUCTIONS = `Warden runs code in isolated Linux sandboxes (no network by default, resource limits, a guard over every command).
Start with create_sandbox, then pass its sandboxId to run_command, run_code, read_file, write_file, list_files and show_diff; call kill_sandbox when done.
When a result says an action awaits a person's approval, tell the user the approval id and why it was held, and retry with approvalId once they approve. A refused action must not be retried unchanged.`;

/** Warden's own schema keywords (for its error messages); clients get plain JSON Schema. */
const OWN_KEYWORDS = new Set(['expects', 'hint']);

function plainJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(plainJsonSchema);
  if (typeof node !== 'object' || node === null) return node;
  // Only string values are keywords: a property *named* hint has a schema (an object) as its value.
  return Object.fromEntries(Object.entries(node).filter(([k, v]) => !(OWN_KEYWORDS.has(k) && typeof v === 'string')).map(([k, v]) => [k, plainJsonSchema(v)]));
}

/** The tools as tools/list shows them. Pure; computed once. */
export const TOOL_LISTING: readonly McpTool[] = TOOLS.map((t) => ({
  name: t.name,
  title: t.title,
  description: t.description,
  inputSchema: plainJsonSchema(JSON.parse(JSON.stringify(t.input))) as McpTool['inputSchema'],
  annotations: t.annotations,
}));

const BY_NAME: ReadonlyMap<string, Tool> = new Map(TOOLS.map((t) => [t.name, t]));

/** Runs one call: arguments checked against the tool's schema, every failure a tool result with isError. */
export async function callTool(name: string, args: unknown, ctx: { connection: ConnectionOptions; signal: AbortSignal }): Promise<CallToolResult> {
  const tool = BY_NAME.get(name);
  if (!tool) throw new McpError(ErrorCode.InvalidParams, `Unknown tool ${JSON.stringify(name)}. Tools: ${TOOLS.map((t) => t.name).join(', ')}.`);
  try {
    const given = args ?? {};
    parseWith(tool.input, given, `${name} arguments`, 'E_INVALID_REQUEST');
    // Validated, but run with the arguments as given: defaults are the API's to apply, not ours.
    return await tool.run(given as Parameters<typeof tool.run>[0], ctx);
  } catch (err) {
    return failure(err);
  }
}

/**
 * A server for one client connection. Connect it to a transport
 * (`StdioServerTransport`, `StreamableHTTPServerTransport`) and it serves the
 * Warden tools until the transport closes.
 * @example
 * const server = createMcpServer({ version: '0.1.0' }); // WARDEN_URL, WARDEN_API_KEY
 * await server.connect(new StdioServerTransport());
 */
export function createMcpServer(opts: McpServerOptions): Server {
  const connection = opts.connection ?? {};
  const server = new Server({ name: 'warden', title: 'Warden sandboxes', version: opts.version }, { capabilities: { tools: {} }, instructions: INSTRUCTIONS });
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: [...TOOL_LISTING] }));
  server.setRequestHandler(CallToolRequestSchema, (req, extra) => callTool(req.params.name, req.params.arguments, { connection, signal: extra.signal }));
  return server;
}
