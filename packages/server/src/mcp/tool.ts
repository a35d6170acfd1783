/**
 * What an MCP tool is here: a name, a description written for a model, an
 * input schema and a run function. The schema is TypeBox, so it is JSON
 * Schema on the wire and reuses the API's own field schemas (one contract);
 * run works through the SDK, so a tool is a client of the public API wherever
 * it runs. Both transports (stdio in `warden mcp`, streamable HTTP on the
 * server) list and call these same definitions.
 */
import type { Static, TObject } from '@sinclair/typebox';
import type { CallToolResult, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import type { ConnectionOptions } from '@warden/sdk';

export interface ToolContext {
  /** The Warden API to call and the caller's key (the SDK's defaults: WARDEN_URL, WARDEN_API_KEY). */
  readonly connection: ConnectionOptions;
  /** Aborted when the client cancels the call or goes away; a running command or cell then ends. */
  readonly signal: AbortSignal;
}

export interface Tool<S extends TObject = TObject> {
  /** snake_case, as models and MCP clients expect. */
  readonly name: string;
  readonly title: string;
  /** What it does, when to use it and what comes back: the model decides from this alone. */
  readonly description: string;
  readonly input: S;
  readonly annotations: ToolAnnotations;
  /** Called with arguments already checked against `input`. Throws WardenError for refusals and failures. */
  run(args: Static<S>, ctx: ToolContext): Promise<CallToolResult>;
}

/** Keeps `run`'s argument type tied to the schema. */
export function defineTool<S extends TObject>(tool: Tool<S>): Tool<S> {
  return tool;
}
