/**
 * The code interpreter's server (port 49999) over Warden's code contexts:
 * `POST /execute` streams a cell's output, results and error as NDJSON;
 * `/contexts` creates, lists, restarts and deletes contexts. Each cell passes
 * the guard and is audited like any Warden cell. The SDK bounds a cell with its
 * own timeout and hangs up; hanging up interrupts the cell.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { WardenError, isWardenError, type CodeLanguage, type Execution } from '@warden/protocol';
import type { CodeContextInfo } from '@warden/core';
import { safeError } from '../errors.js';
import type { HostPaths } from '../respond.js';
import { targetOf } from '../target.js';
import { sandboxPath } from '../paths.js';
import { errorLine, normaliseLanguage, outputLine, resultLine, type ExecuteLine } from './lines.js';
import { openLines, type LineStream } from './stream.js';

const ExecuteBody = Type.Object({
  code: Type.String({ maxLength: 4 * 1024 * 1024 }),
  context_id: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
  language: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
  env_vars: Type.Optional(Type.Union([Type.Record(Type.String(), Type.String()), Type.Null()])),
});
const CreateContextBody = Type.Object({
  language: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
  cwd: Type.Optional(Type.Union([Type.String({ maxLength: 4096 }), Type.Null()])),
});
const ContextParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

/** A cell runs until it ends or the caller hangs up (the SDK's timeoutMs); the sandbox's TTL bounds it in any case. */
const CELL_MAX_MS = 86_400_000;

function language(raw: string | null | undefined): CodeLanguage {
  const l = normaliseLanguage(raw ?? undefined);
  if (l === undefined) {
    throw new WardenError('E_UNSUPPORTED', `Language ${JSON.stringify(raw)} is not supported: Warden's code contexts run python and javascript.`, { details: { feature: 'language', language: raw } });
  }
  return l;
}

function contextView(i: CodeContextInfo): { id: string; language: string; cwd: string } {
  return { id: i.id, language: i.language, cwd: i.cwd };
}

export function interpreterRoutes(app: FastifyInstance, constraints: Record<string, string>, hostPaths: HostPaths): void {
  const config = { scope: null, e2b: 'jupyter' } as const;

  app.get('/health', { constraints, config, schema: { hide: true } }, async (req, reply) => {
    targetOf(req);
    return reply.header('content-type', 'text/plain; charset=utf-8').send('OK');
  });

  app.post<{ Body: Static<typeof ExecuteBody> }>('/execute', { constraints, config, bodyLimit: 8 * 1024 * 1024, schema: { hide: true, body: ExecuteBody } }, async (req, reply) => {
    const { sandbox, actor } = targetOf(req);
    const b = req.body;
    if (b.context_id && b.language) throw new WardenError('E_INVALID_REQUEST', 'Only one of context_id or language can be provided.');
    if (b.env_vars && Object.keys(b.env_vars).length > 0) {
      throw new WardenError('E_UNSUPPORTED', 'Per-execution environment variables (envs) are not supported. Set them when creating the sandbox (envs), or in the code itself.', { details: { feature: 'envs' } });
    }
    const abort = new AbortController();
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) abort.abort();
    });
    // The stream opens when the cell starts: a refusal (guard, unknown context) is still an error response.
    let out: LineStream | undefined;
    const write = (line: ExecuteLine): void => out?.write(line);
    let execution: Execution;
    try {
      execution = await sandbox.runCode(b.code, {
        ...(b.context_id ? { context: b.context_id } : { language: language(b.language) }),
        timeoutMs: CELL_MAX_MS,
        actor,
        signal: abort.signal,
        onStart: () => {
          out = openLines(reply);
          out.onAbort(() => abort.abort());
        },
        onStdout: (text) => write(outputLine('stdout', text)),
        onStderr: (text) => write(outputLine('stderr', text)),
        onResult: (result) => write(resultLine(result)),
      });
    } catch (err) {
      if (!out) throw err;
      // Past the start there is no status to change: the failure becomes the cell's error.
      if (!isWardenError(err)) req.log.error({ err }, 'e2b cell failed');
      const e = safeError(err, req.id, hostPaths);
      write({ type: 'error', name: e.code, value: e.message, traceback: '' });
      out.end();
      return reply;
    }
    out ??= openLines(reply);
    if (execution.error) write(errorLine(execution.error));
    write({ type: 'number_of_executions', execution_count: execution.executionCount });
    write({ type: 'end_of_execution' });
    out.end();
    return reply;
  });

  app.post<{ Body: Static<typeof CreateContextBody> | undefined }>('/contexts', { constraints, config, schema: { hide: true, body: CreateContextBody } }, async (req) => {
    const { sandbox } = targetOf(req);
    const ctx = await sandbox.code.create({ language: language(req.body?.language), cwd: sandboxPath(req.body?.cwd) });
    return contextView(ctx.info());
  });

  app.get('/contexts', { constraints, config, schema: { hide: true } }, async (req) => targetOf(req).sandbox.code.list().map(contextView));

  app.delete<{ Params: Static<typeof ContextParams> }>('/contexts/:id', { constraints, config, schema: { hide: true, params: ContextParams } }, async (req, reply) => {
    await targetOf(req).sandbox.code.delete(req.params.id);
    return reply.code(204).send();
  });

  app.post<{ Params: Static<typeof ContextParams> }>('/contexts/:id/restart', { constraints, config, schema: { hide: true, params: ContextParams } }, async (req, reply) => {
    await targetOf(req).sandbox.code.restart(req.params.id);
    return reply.code(204).send();
  });
}
