/** Sessions: stateful shells inside a sandbox. */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { CreateSessionBody, SandboxIdParams, SessionParams, SessionResult, SessionRunBody, SessionView, isWardenError } from '@warden/protocol';
import type { Sandbox } from '@warden/core';
import { actorOf, principalOf } from '../auth/authenticate.js';
import { wireError } from '../errors.js';
import { ndjson } from '../ndjson.js';
import type { SandboxService } from '../services/sandboxes.js';

type Sid = { Params: Static<typeof SessionParams> };

function view(sbx: Sandbox, id: string): SessionView {
  const i = sbx.sessions.get(id).info();
  return { id: i.id, sandboxId: sbx.id, createdAt: i.createdAt, busy: i.busy, commandsRun: i.commandsRun };
}

export function sessionRoutes(app: FastifyInstance, sandboxes: SandboxService): void {
  const tags = ['sessions'];
  app.post<{ Params: Static<typeof SandboxIdParams>; Body: Static<typeof CreateSessionBody> }>(
    '/v1/sandboxes/:id/sessions',
    { config: { scope: 'sandboxes:write' }, schema: { tags, summary: 'Start a shell session', params: SandboxIdParams, body: CreateSessionBody, response: { 201: SessionView } } },
    async (req, reply) => {
      const sbx = sandboxes.live(principalOf(req).tenant, req.params.id);
      const s = await sbx.sessions.create({ ...(req.body.cwd !== undefined ? { cwd: req.body.cwd } : {}), ...(req.body.env !== undefined ? { env: req.body.env } : {}) });
      return reply.code(201).send(view(sbx, s.id));
    },
  );
  app.get<{ Params: Static<typeof SandboxIdParams> }>(
    '/v1/sandboxes/:id/sessions',
    { config: { scope: 'sandboxes:read' }, schema: { tags, summary: "List the sandbox's open sessions", params: SandboxIdParams, response: { 200: Type.Object({ sessions: Type.Array(SessionView) }) } } },
    async (req) => {
      const sbx = sandboxes.live(principalOf(req).tenant, req.params.id);
      return { sessions: sbx.sessions.list().filter((i) => i.state === 'open').map((i) => view(sbx, i.id)) };
    },
  );
  app.delete<Sid>(
    '/v1/sandboxes/:id/sessions/:sid',
    { config: { scope: 'sandboxes:write' }, schema: { tags, summary: 'Close a session (its shell and everything it started end)', params: SessionParams, response: { 200: Type.Object({ ok: Type.Boolean() }) } } },
    async (req) => {
      const sbx = sandboxes.live(principalOf(req).tenant, req.params.id);
      await sbx.sessions.get(req.params.sid).close();
      return { ok: true };
    },
  );
  app.post<Sid & { Body: SessionRunBody }>(
    '/v1/sandboxes/:id/sessions/:sid/run',
    {
      config: { scope: 'sandboxes:write' },
      schema: { tags, summary: 'Run a command line in the session (calls are serialised); stream: NDJSON events', params: SessionParams, body: SessionRunBody, response: { 200: SessionResult } },
    },
    async (req, reply) => {
      const p = principalOf(req);
      const sbx = sandboxes.live(p.tenant, req.params.id);
      const session = sbx.sessions.get(req.params.sid);
      const b = req.body;
      const limits = {
        ...(b.timeoutMs !== undefined ? { timeoutMs: b.timeoutMs } : {}),
        ...(b.maxOutputBytes !== undefined ? { maxOutputBytes: b.maxOutputBytes } : {}),
        actor: actorOf(p),
        ...(b.approvalId !== undefined ? { approvalId: b.approvalId } : {}),
        ...(b.approvalWaitMs !== undefined ? { approvalWaitMs: b.approvalWaitMs } : {}),
      };
      // The caller hanging up aborts the command (it could not see the result anyway).
      const abort = new AbortController();
      // (The request's own 'close' fires once its body is read; the response's fires on hang-up.)
      reply.raw.on('close', () => {
        if (!reply.raw.writableFinished) abort.abort();
      });
      if (!req.body.stream) return session.run(req.body.command, { ...limits, signal: abort.signal });
      const out = ndjson(req, reply);
      let seq = 0;
      out.onAbort(() => abort.abort());
      try {
        const r = await session.run(req.body.command, {
          ...limits,
          signal: abort.signal,
          onStdout: (d) => out.write({ type: 'stdout', seq: seq++, data: d.toString('base64') }),
          onStderr: (d) => out.write({ type: 'stderr', seq: seq++, data: d.toString('base64') }),
        });
        out.write({ type: 'end', seq: seq++, result: { ...r, stdout: '', stderr: '' } });
      } catch (err) {
        if (!isWardenError(err)) req.log.error({ err }, 'session run failed');
        out.write({ type: 'error', seq: seq++, ...wireError(err) });
      }
      out.end();
      return reply;
    },
  );
}
