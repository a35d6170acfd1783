/**
 * MCP over streamable HTTP at /mcp, stateless: each POST carries a whole
 * exchange (initialize, tools/list, tools/call …), so nothing is kept between
 * requests and no session can be hijacked. The request is authenticated with
 * an API key like every route; the tools then call the API with that same key
 * over this server's own socket — the same routes, scopes, tenant checks,
 * scan gates and audit actor as any other client — and a client that hangs up
 * closes the transport, which ends the command or cell it was waiting for.
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { WardenError } from '@warden/protocol';
import { presentedKey } from '../auth/authenticate.js';
import { createMcpServer } from '../mcp/server.js';

/** write_file content travels inside the JSON-RPC body (8 MiB of text, or base64 of 6 MiB). */
const MCP_BODY_LIMIT_BYTES = 12 * 1024 * 1024;

/** The URL this server answers on, from the socket it listens on (an unspecified address means loopback). */
export function selfUrl(address: AddressInfo | string | null): string {
  if (address === null || typeof address === 'string') {
    throw new WardenError('E_UNSUPPORTED', 'MCP over HTTP needs the server to listen on a TCP port (its tools call the API over it). Start it with `warden serve`.');
  }
  const host = address.address === '0.0.0.0' ? '127.0.0.1' : address.address === '::' ? '::1' : address.address;
  return `http://${address.family === 'IPv6' ? `[${host}]` : host}:${address.port}`;
}

/**
 * A browser page of another origin must not drive the tools (DNS rebinding):
 * MCP clients send no Origin header, and a page on this server's own origin
 * sends a matching one.
 */
function checkOrigin(req: FastifyRequest): void {
  const origin = req.headers.origin;
  if (origin === undefined) return;
  let host: string | undefined;
  try {
    host = new URL(origin).host;
  } catch {
    host = undefined;
  }
  if (host === undefined || host !== req.headers.host) {
    throw new WardenError('E_FORBIDDEN', `MCP requests from a web page of another origin (${origin}) are refused, to stop DNS-rebinding attacks. Call /mcp from an MCP client, or from a page served by this server.`);
  }
}

const methodNotAllowed = { jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed: this MCP endpoint is stateless; send every message with POST /mcp.' }, id: null };

export function mcpRoutes(app: FastifyInstance, opts: { version: string }): void {
  app.post(
    '/mcp',
    // No scope of its own: any valid key may connect; each tool's API call checks the scope it needs.
    { config: {}, bodyLimit: MCP_BODY_LIMIT_BYTES, schema: { hide: true } },
    async (req, reply) => {
      checkOrigin(req);
      const apiKey = presentedKey(req) ?? '';
      const server = createMcpServer({ version: opts.version, connection: { url: selfUrl(app.server.address()), apiKey } });
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      // From here on the transport writes the response (JSON, or an SSE stream for a tool call).
      reply.hijack();
      reply.raw.setHeader('x-request-id', req.id);
      reply.raw.on('close', () => {
        // Aborts the calls still running, so their commands end with the request.
        void transport.close();
        void server.close();
      });
      try {
        await server.connect(transport);
        await transport.handleRequest(req.raw, reply.raw, req.body);
      } catch (err) {
        req.log.error({ err }, 'MCP request failed');
        if (!reply.raw.headersSent) reply.raw.writeHead(500, { 'content-type': 'application/json' });
        reply.raw.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32603, message: 'Internal error' }, id: null }));
      }
    },
  );
  for (const method of ['GET', 'DELETE'] as const) {
    app.route({
      method,
      url: '/mcp',
      config: {},
      schema: { hide: true },
      handler: async (_req, reply) => reply.code(405).header('allow', 'POST').send(methodNotAllowed),
    });
  }
}
