/**
 * Files inside a sandbox. Every operation runs in the sandbox as the
 * sandbox's user, so the kernel applies the same permissions the code inside
 * has; content streams both ways without being held in memory.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ExistsView, FileEntry, FileList, ListQuery, MkdirBody, MoveBody, PathQuery, SandboxIdParams, WardenError, WatchEvent, WatchQuery, isWardenError } from '@warden/protocol';
import type { FileEntry as CoreEntry } from '@warden/core';
import { actorOf, principalOf } from '../auth/authenticate.js';
import { wireError } from '../errors.js';
import { ndjson, type NdjsonStream } from '../ndjson.js';
import type { SandboxService } from '../services/sandboxes.js';
import type { ScanService } from '../services/scans.js';

type P<Q> = { Params: Static<typeof SandboxIdParams>; Querystring: Q };
const WatchLine = Type.Union([
  Type.Object({ type: Type.Literal('ready') }),
  WatchEvent,
  Type.Object({ type: Type.Literal('error'), code: Type.String(), message: Type.String() }),
]);
const entry = (e: CoreEntry): FileEntry => ({ ...e, mtime: e.mtime.toISOString() });
/** Uploads and downloads last as long as the client keeps sending or reading (a day at most); hanging up ends them. */
const TRANSFER_TIMEOUT_MS = 86_400_000;
const WATCH_SETUP_TIMEOUT_MS = 15_000;

export function fileRoutes(app: FastifyInstance, sandboxes: SandboxService, scans: ScanService): void {
  const tags = ['files'];
  const read = { scope: 'sandboxes:read' as const };
  const write = { scope: 'sandboxes:write' as const };

  app.get<P<Static<typeof PathQuery>>>(
    '/v1/sandboxes/:id/files',
    {
      config: read,
      schema: {
        tags,
        summary: 'Download a file (application/octet-stream, streamed)',
        params: SandboxIdParams,
        querystring: PathQuery,
        response: { 200: { description: 'The file content', content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } } },
      },
    },
    async (req, reply) => {
      const sbx = sandboxes.live(principalOf(req).tenant, req.params.id);
      const abort = new AbortController();
      // Hanging up aborts the read, also while it waits for the first chunk (a FIFO, a slow disk).
      reply.raw.on('close', () => abort.abort());
      // No deadline of its own: a download lasts as long as the client reads; hanging up aborts it.
      const it = sbx.files.read(req.query.path, { signal: abort.signal, timeoutMs: TRANSFER_TIMEOUT_MS })[Symbol.asyncIterator]();
      // Pull the first chunk before answering, so a missing file is a 404 rather than a broken 200.
      const first = await it.next();
      async function* rest(): AsyncGenerator<Uint8Array> {
        if (first.done) return;
        yield first.value;
        for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
      }
      // With a scan policy the file is spooled and scanned before any of it is sent.
      const gated = await scans.gate(principalOf(req).tenant, sbx.id, 'download', req.query.path, rest());
      reply.raw.on('close', () => void gated.cleanup());
      if (gated.scan) void reply.header('x-warden-scan-level', gated.scan.level);
      return reply.header('content-type', 'application/octet-stream').send(Readable.from(gated.source));
    },
  );

  app.put<P<Static<typeof PathQuery>>>(
    '/v1/sandboxes/:id/files',
    {
      config: write,
      schema: { tags, summary: 'Upload a file (application/octet-stream body, streamed; replaces it atomically, makes parents)', params: SandboxIdParams, querystring: PathQuery, response: { 200: FileEntry } },
    },
    async (req, reply) => {
      const sbx = sandboxes.live(principalOf(req).tenant, req.params.id);
      const body: unknown = req.body;
      if (!(body instanceof Readable)) {
        throw new WardenError('E_UNSUPPORTED_MEDIA_TYPE', 'Send the file content as the request body with Content-Type: application/octet-stream.');
      }
      const abort = new AbortController();
      reply.raw.on('close', () => {
        if (!reply.raw.writableFinished) abort.abort();
      });
      // With a scan policy the upload is spooled and scanned before any of it reaches the sandbox.
      const gated = await scans.gate(principalOf(req).tenant, sbx.id, 'upload', req.query.path, body as AsyncIterable<Uint8Array>);
      try {
        if (gated.scan) void reply.header('x-warden-scan-level', gated.scan.level);
        return entry(await sbx.files.write(req.query.path, gated.source, { signal: abort.signal, timeoutMs: TRANSFER_TIMEOUT_MS, actor: actorOf(principalOf(req)) }));
      } finally {
        await gated.cleanup();
      }
    },
  );

  app.get<P<Static<typeof ListQuery>>>(
    '/v1/sandboxes/:id/files/list',
    { config: read, schema: { tags, summary: 'List a directory, depth levels deep', params: SandboxIdParams, querystring: ListQuery, response: { 200: FileList } } },
    async (req) => {
      const sbx = sandboxes.live(principalOf(req).tenant, req.params.id);
      return { entries: (await sbx.files.list(req.query.path, { depth: req.query.depth ?? 1 })).map(entry) };
    },
  );

  app.get<P<Static<typeof PathQuery>>>(
    '/v1/sandboxes/:id/files/stat',
    { config: read, schema: { tags, summary: 'Stat a path (symlinks are not followed)', params: SandboxIdParams, querystring: PathQuery, response: { 200: FileEntry } } },
    async (req) => entry(await sandboxes.live(principalOf(req).tenant, req.params.id).files.stat(req.query.path)),
  );

  app.get<P<Static<typeof PathQuery>>>(
    '/v1/sandboxes/:id/files/exists',
    { config: read, schema: { tags, summary: 'Whether a path exists', params: SandboxIdParams, querystring: PathQuery, response: { 200: ExistsView } } },
    async (req) => ({ exists: await sandboxes.live(principalOf(req).tenant, req.params.id).files.exists(req.query.path) }),
  );

  app.post<{ Params: Static<typeof SandboxIdParams>; Body: Static<typeof MkdirBody> }>(
    '/v1/sandboxes/:id/files/mkdir',
    { config: write, schema: { tags, summary: 'Make a directory and its parents', params: SandboxIdParams, body: MkdirBody, response: { 200: FileEntry } } },
    async (req) => {
      const sbx = sandboxes.live(principalOf(req).tenant, req.params.id);
      await sbx.files.mkdir(req.body.path, { actor: actorOf(principalOf(req)) });
      return entry(await sbx.files.stat(req.body.path));
    },
  );

  app.post<{ Params: Static<typeof SandboxIdParams>; Body: Static<typeof MoveBody> }>(
    '/v1/sandboxes/:id/files/move',
    { config: write, schema: { tags, summary: 'Rename or move (refuses to replace)', params: SandboxIdParams, body: MoveBody, response: { 200: FileEntry } } },
    async (req) => {
      const sbx = sandboxes.live(principalOf(req).tenant, req.params.id);
      await sbx.files.move(req.body.from, req.body.to, { actor: actorOf(principalOf(req)) });
      return entry(await sbx.files.stat(req.body.to));
    },
  );

  app.delete<P<Static<typeof PathQuery>>>(
    '/v1/sandboxes/:id/files',
    { config: write, schema: { tags, summary: 'Remove a file or directory tree (symlinks are never followed)', params: SandboxIdParams, querystring: PathQuery, response: { 200: Type.Object({ ok: Type.Boolean() }) } } },
    async (req) => {
      await sandboxes.live(principalOf(req).tenant, req.params.id).files.remove(req.query.path, { actor: actorOf(principalOf(req)) });
      return { ok: true };
    },
  );

  app.get<P<Static<typeof WatchQuery>>>(
    '/v1/sandboxes/:id/files/watch',
    {
      config: read,
      schema: {
        tags,
        summary: 'Watch a directory: NDJSON lines {type, path}; the first line is {"type":"ready"}, an {"type":"error"} line ends a failed watch',
        params: SandboxIdParams,
        querystring: WatchQuery,
        response: { 200: { description: 'One line per event', content: { 'application/x-ndjson': { schema: WatchLine } } } },
      },
    },
    async (req, reply) => {
      const sbx = sandboxes.live(principalOf(req).tenant, req.params.id);
      const abort = new AbortController();
      // Hanging up ends the watch, also while it is being set up (before the stream exists).
      reply.raw.on('close', () => abort.abort());
      const buffered: unknown[] = [];
      // The stream opens once the watch is in place, so a failure to start is a plain error response.
      const sink: { out?: NdjsonStream; failed?: boolean } = {};
      const send = (v: unknown): void => (sink.out ? sink.out.write(v) : void buffered.push(v));
      const handle = await sbx.files.watch(req.query.path, {
        recursive: req.query.recursive ?? false,
        signal: abort.signal,
        // Setting the watches up is bounded on its own (not by the sandbox's command timeout):
        // a client waiting for the ready line gets E_FILE_TIMEOUT instead of a silent hang.
        timeoutMs: WATCH_SETUP_TIMEOUT_MS,
        onEvent: (e) => send(e),
        onError: (err) => {
          if (!isWardenError(err)) req.log.error({ err }, 'watch failed');
          send({ type: 'error', ...wireError(err) });
          // The watch is over (the sandbox ended, the helper died): so is the stream, even if it has not opened yet.
          sink.failed = true;
          sink.out?.end();
        },
      });
      const out = (sink.out = ndjson(req, reply, { lossyAfterBytes: 1_048_576, overflowEvent: (dropped) => ({ type: 'overflow', path: req.query.path, dropped }) }));
      out.onAbort(() => void handle.close());
      out.write({ type: 'ready' });
      for (const v of buffered) out.write(v);
      if (sink.failed) out.end();
      return reply;
    },
  );
}
