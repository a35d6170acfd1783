/** Commands: run to completion, stream, background and reattach, stdin, signals, PTY resize. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import {
  CommandEvent,
  CommandParams,
  CommandView,
  EventsQuery,
  ExecResult,
  ResizeBody,
  RunCommandBody,
  SandboxIdParams,
  SignalBody,
  StdinBody,
} from '@warden/protocol';
import { actorOf, principalOf } from '../auth/authenticate.js';
import { ndjson } from '../ndjson.js';
import type { Command, CommandRegistry } from '../services/commands.js';
import type { SandboxService } from '../services/sandboxes.js';

type Cmd = { Params: Static<typeof CommandParams> };
const Ok = Type.Object({ ok: Type.Boolean() });

export function commandRoutes(app: FastifyInstance, sandboxes: SandboxService, commands: CommandRegistry): void {
  const tags = ['commands'];
  const find = (req: FastifyRequest<Cmd>): Command => {
    const sbx = sandboxes.get(principalOf(req).tenant, req.params.id);
    return commands.get(sbx.id, req.params.cid);
  };

  app.post<{ Params: Static<typeof SandboxIdParams>; Body: RunCommandBody }>(
    '/v1/sandboxes/:id/commands',
    {
      config: { scope: 'sandboxes:write' },
      schema: {
        tags,
        summary: 'Run a command: wait for its result (default), stream NDJSON events (stream), or start it in the background (background)',
        params: SandboxIdParams,
        body: RunCommandBody,
        response: { 200: Type.Intersect([ExecResult, Type.Object({ id: Type.String() })]), 202: CommandView },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      const sbx = sandboxes.live(p.tenant, req.params.id);
      // A foreground caller who hangs up, even while the command waits for an approval, ends it.
      const hangup = new AbortController();
      if (!req.body.background) reply.raw.on('close', () => reply.raw.writableFinished || hangup.abort());
      const cmd = await commands.start(sbx, req.body, actorOf(p), req.body.background ? undefined : hangup.signal);
      if (req.body.background) {
        // A command that cannot start (E_EXEC_FAILED) is an error response, as in the foreground.
        await cmd.started();
        return reply.code(202).send(cmd.view());
      }
      if (req.body.stream) {
        const out = ndjson(req, reply);
        // A foreground stream belongs to its caller: when they hang up, the command ends.
        out.onAbort(() => cmd.process.kill('SIGKILL', 'tree'));
        const unsubscribe = cmd.subscribe(-1, (e) => {
          out.write(e);
          if (e.type === 'end' || e.type === 'error') out.end();
        });
        out.onAbort(unsubscribe);
        return reply;
      }
      // As with a stream: a caller who hangs up before the result cannot see it, so the command ends.
      reply.raw.on('close', () => {
        if (!reply.raw.writableFinished) cmd.process.kill('SIGKILL', 'tree');
      });
      return { ...(await cmd.result()), id: cmd.id };
    },
  );

  app.get<{ Params: Static<typeof SandboxIdParams> }>(
    '/v1/sandboxes/:id/commands',
    { config: { scope: 'sandboxes:read' }, schema: { tags, summary: 'List running and recently finished commands', params: SandboxIdParams, response: { 200: Type.Object({ commands: Type.Array(CommandView) }) } } },
    async (req) => {
      const sbx = sandboxes.get(principalOf(req).tenant, req.params.id);
      return { commands: commands.list(sbx.id).map((c) => c.view()) };
    },
  );

  app.get<Cmd>(
    '/v1/sandboxes/:id/commands/:cid',
    { config: { scope: 'sandboxes:read' }, schema: { tags, summary: 'Get a command (result is null while it runs)', params: CommandParams, response: { 200: CommandView } } },
    async (req) => find(req).view(),
  );

  app.get<Cmd & { Querystring: Static<typeof EventsQuery> }>(
    '/v1/sandboxes/:id/commands/:cid/events',
    {
      config: { scope: 'sandboxes:read' },
      schema: { tags, summary: 'Reattach: NDJSON events after `after` (replayed), then live until the command ends', params: CommandParams, querystring: EventsQuery, response: { 200: { description: 'One CommandEvent per line', content: { 'application/x-ndjson': { schema: CommandEvent } } } } },
    },
    async (req, reply) => {
      const cmd = find(req);
      const out = ndjson(req, reply);
      const unsubscribe = cmd.subscribe(req.query.after ?? -1, (e) => {
        out.write(e);
        if (e.type === 'end' || e.type === 'error') out.end();
      });
      out.onAbort(unsubscribe); // detaching leaves the command running
      if (!cmd.running) out.end();
      return reply;
    },
  );

  app.post<Cmd & { Body: Static<typeof StdinBody> }>(
    '/v1/sandboxes/:id/commands/:cid/stdin',
    { config: { scope: 'sandboxes:write' }, schema: { tags, summary: 'Write to stdin (started with stdin: true); eof closes it', params: CommandParams, body: StdinBody, response: { 200: Ok } } },
    async (req) => {
      const cmd = find(req);
      if (req.body.data) await cmd.process.write(Buffer.from(req.body.data, 'base64'));
      if (req.body.eof) await cmd.process.end();
      return { ok: true };
    },
  );

  app.post<Cmd & { Body: Static<typeof SignalBody> }>(
    '/v1/sandboxes/:id/commands/:cid/signal',
    { config: { scope: 'sandboxes:write' }, schema: { tags, summary: 'Send a signal to the command (default SIGKILL to its whole tree)', params: CommandParams, body: SignalBody, response: { 200: Ok } } },
    async (req) => {
      find(req).process.kill(req.body.signal ?? 'SIGKILL', req.body.scope ?? 'tree');
      return { ok: true };
    },
  );

  app.post<Cmd & { Body: Static<typeof ResizeBody> }>(
    '/v1/sandboxes/:id/commands/:cid/resize',
    { config: { scope: 'sandboxes:write' }, schema: { tags, summary: "Resize a PTY command's terminal", params: CommandParams, body: ResizeBody, response: { 200: Ok } } },
    async (req) => {
      find(req).process.resize(req.body.cols, req.body.rows);
      return { ok: true };
    },
  );
}
