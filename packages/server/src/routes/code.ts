/** Code contexts: stateful Python and JavaScript interpreters in a sandbox, and cells run in them. */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { CodeContextParams, CodeContextView, CreateCodeContextBody, Execution, RunCodeBody, SandboxIdParams, isWardenError, type CodeEvent } from '@warden/protocol';
import type { CodeContextInfo, RunCodeOptions } from '@warden/core';
import { actorOf, principalOf } from '../auth/authenticate.js';
import { wireError } from '../errors.js';
import { ndjson, type NdjsonStream } from '../ndjson.js';
import type { SandboxService } from '../services/sandboxes.js';

type Cid = { Params: Static<typeof CodeContextParams> };
const Ok = Type.Object({ ok: Type.Boolean() });
/** A CodeEvent before it is numbered. */
type Unnumbered = { [T in CodeEvent['type']]: Omit<Extract<CodeEvent, { type: T }>, 'seq'> }[CodeEvent['type']];

function view(i: CodeContextInfo): CodeContextView {
  return { id: i.id, sandboxId: i.sandboxId, language: i.language, cwd: i.cwd, isDefault: i.isDefault, createdAt: i.createdAt, started: i.started, busy: i.busy, executionCount: i.executionCount, restarts: i.restarts };
}

export function codeRoutes(app: FastifyInstance, sandboxes: SandboxService): void {
  const tags = ['code'];

  app.post<{ Params: Static<typeof SandboxIdParams>; Body: RunCodeBody }>(
    '/v1/sandboxes/:id/code',
    {
      config: { scope: 'sandboxes:write' },
      schema: {
        tags,
        summary: 'Run a cell of Python or JavaScript in a stateful context (calls on one context are serialised); stream: NDJSON events',
        params: SandboxIdParams,
        body: RunCodeBody,
        response: { 200: Execution },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      const sbx = sandboxes.live(p.tenant, req.params.id);
      const b = req.body;
      // The caller hanging up interrupts the cell (they could not see the result anyway).
      const abort = new AbortController();
      reply.raw.on('close', () => {
        if (!reply.raw.writableFinished) abort.abort();
      });
      const opts: RunCodeOptions = {
        ...(b.language !== undefined ? { language: b.language } : {}),
        ...(b.contextId !== undefined ? { context: b.contextId } : {}),
        ...(b.timeoutMs !== undefined ? { timeoutMs: b.timeoutMs } : {}),
        ...(b.maxOutputBytes !== undefined ? { maxOutputBytes: b.maxOutputBytes } : {}),
        actor: actorOf(p),
        ...(b.approvalId !== undefined ? { approvalId: b.approvalId } : {}),
        ...(b.approvalWaitMs !== undefined ? { approvalWaitMs: b.approvalWaitMs } : {}),
        signal: abort.signal,
      };
      if (!b.stream) return sbx.runCode(b.code, opts);
      // The stream opens when the cell starts: a refusal by the guard, a missing context or a bad
      // argument is still an ordinary error response with its status.
      let out: NdjsonStream | undefined;
      let seq = 0;
      const write = (e: Unnumbered): void => out?.write({ ...e, seq: seq++ });
      let execution: Execution;
      try {
        execution = await sbx.runCode(b.code, {
          ...opts,
          onStart: () => {
            out = ndjson(req, reply);
            out.onAbort(() => abort.abort());
          },
          onStdout: (text) => write({ type: 'stdout', text }),
          onStderr: (text) => write({ type: 'stderr', text }),
          onResult: (result) => write({ type: 'result', result }),
        });
      } catch (err) {
        if (!out) throw err;
        if (!isWardenError(err)) req.log.error({ err }, 'code cell failed');
        write({ type: 'error', ...wireError(err) });
        out.end();
        return reply;
      }
      if (!out) return execution;
      // Output and results went out as events already.
      write({ type: 'end', execution: { ...execution, results: [], logs: { stdout: [], stderr: [] } } });
      out.end();
      return reply;
    },
  );

  app.post<{ Params: Static<typeof SandboxIdParams>; Body: Static<typeof CreateCodeContextBody> }>(
    '/v1/sandboxes/:id/code/contexts',
    { config: { scope: 'sandboxes:write' }, schema: { tags, summary: 'Create a code context (its interpreter starts with the first cell)', params: SandboxIdParams, body: CreateCodeContextBody, response: { 201: CodeContextView } } },
    async (req, reply) => {
      const sbx = sandboxes.live(principalOf(req).tenant, req.params.id);
      const b = req.body;
      const ctx = await sbx.code.create({ ...(b.language !== undefined ? { language: b.language } : {}), ...(b.cwd !== undefined ? { cwd: b.cwd } : {}), ...(b.env !== undefined ? { env: b.env } : {}) });
      return reply.code(201).send(view(ctx.info()));
    },
  );

  app.get<{ Params: Static<typeof SandboxIdParams> }>(
    '/v1/sandboxes/:id/code/contexts',
    { config: { scope: 'sandboxes:read' }, schema: { tags, summary: "List the sandbox's code contexts", params: SandboxIdParams, response: { 200: Type.Object({ contexts: Type.Array(CodeContextView) }) } } },
    async (req) => {
      const sbx = sandboxes.live(principalOf(req).tenant, req.params.id);
      return { contexts: sbx.code.list().map(view) };
    },
  );

  app.get<Cid>(
    '/v1/sandboxes/:id/code/contexts/:cid',
    { config: { scope: 'sandboxes:read' }, schema: { tags, summary: 'Get a code context', params: CodeContextParams, response: { 200: CodeContextView } } },
    async (req) => view(sandboxes.live(principalOf(req).tenant, req.params.id).code.get(req.params.cid).info()),
  );

  app.delete<Cid>(
    '/v1/sandboxes/:id/code/contexts/:cid',
    { config: { scope: 'sandboxes:write' }, schema: { tags, summary: 'Delete a code context (its interpreter and everything it started end)', params: CodeContextParams, response: { 200: Ok } } },
    async (req) => {
      await sandboxes.live(principalOf(req).tenant, req.params.id).code.delete(req.params.cid);
      return { ok: true };
    },
  );

  app.post<Cid>(
    '/v1/sandboxes/:id/code/contexts/:cid/restart',
    { config: { scope: 'sandboxes:write' }, schema: { tags, summary: 'Restart a code context: a fresh interpreter, all state lost', params: CodeContextParams, response: { 200: CodeContextView } } },
    async (req) => {
      const ctx = sandboxes.live(principalOf(req).tenant, req.params.id).code.get(req.params.cid);
      await ctx.restart();
      return view(ctx.info());
    },
  );
}
