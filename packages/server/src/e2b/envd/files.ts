/**
 * envd's REST routes: `GET /files` (download), `POST /files` (upload, as
 * multipart/form-data or a raw application/octet-stream body, optionally
 * gzip-encoded) and `GET /health`. Content streams both ways without being
 * held in memory, through the tenant's scan gate like every Warden transfer.
 * Downloads are sent uncompressed whatever Accept-Encoding says (every fetch
 * asks for gzip; the SDK decodes either).
 */
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { PassThrough } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { WardenError } from '@warden/protocol';
import type { ScanService } from '../../services/scans.js';
import { targetOf, type SandboxTarget } from '../target.js';
import { sandboxPath } from '../paths.js';
import { eachFile } from './multipart.js';

export interface FilesDeps {
  readonly scans: ScanService;
}

/** What envd answers for each written file. */
export interface WriteInfoJson {
  readonly name: string;
  readonly type: 'file';
  readonly path: string;
}

const FilesQuery = Type.Object({ path: Type.Optional(Type.String({ maxLength: 4096 })), username: Type.Optional(Type.String({ maxLength: 256 })) });
type FilesQuery = Static<typeof FilesQuery>;

/** A transfer lasts as long as the client keeps sending or reading (a day at most); hanging up ends it. */
const TRANSFER_TIMEOUT_MS = 86_400_000;

/** The upload body, decoded: `Content-Encoding: gzip` (the SDK's gzip option) is undone here. */
function decoded(req: FastifyRequest, body: Readable): Readable {
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase().trim();
  if (encoding === 'identity' || encoding === '') return body;
  if (encoding !== 'gzip') throw new WardenError('E_UNSUPPORTED_MEDIA_TYPE', `Content-Encoding ${JSON.stringify(encoding)} is not supported; send the body plain or gzip-encoded.`);
  const out = new PassThrough();
  pipeline(body, createGunzip(), out).catch((err: unknown) => out.destroy(new WardenError('E_INVALID_REQUEST', `The gzip-encoded body could not be decoded: ${(err as Error).message}.`, { cause: err })));
  return out;
}

function refuseMetadata(req: FastifyRequest): void {
  const names = Object.keys(req.headers).filter((h) => h.startsWith('x-metadata-'));
  if (names.length > 0) {
    throw new WardenError('E_UNSUPPORTED', `File metadata (${names.join(', ')}) is not supported: Warden does not keep extended attributes on sandbox files. Write without metadata.`, { details: { feature: 'metadata' } });
  }
}

export function filesRoutes(app: FastifyInstance, constraints: Record<string, string>, deps: FilesDeps): void {
  const config = { scope: null, e2b: 'envd' } as const;

  app.get('/health', { constraints, config, schema: { hide: true } }, async (req, reply) => {
    targetOf(req); // resolved by the hook: the sandbox is running and the caller may reach it
    return reply.code(204).send();
  });

  /** Scans (when the tenant's policy says so) and writes one file; parents are made. */
  const writeOne = async (t: SandboxTarget, path: string, data: AsyncIterable<Uint8Array>, signal: AbortSignal): Promise<WriteInfoJson> => {
    const gated = await deps.scans.gate(t.tenant, t.sandbox.id, 'upload', path, data);
    try {
      const e = await t.sandbox.files.write(path, gated.source, { signal, timeoutMs: TRANSFER_TIMEOUT_MS, actor: t.actor });
      return { name: e.name, type: 'file', path: e.path };
    } finally {
      await gated.cleanup();
    }
  };

  app.get<{ Querystring: FilesQuery }>('/files', { constraints, config, schema: { hide: true, querystring: FilesQuery } }, async (req, reply) => {
    const t = targetOf(req);
    if (req.query.path === undefined || req.query.path === '') throw new WardenError('E_INVALID_REQUEST', 'path is required: the file to download.');
    const path = sandboxPath(req.query.path);
    const abort = new AbortController();
    reply.raw.on('close', () => abort.abort());
    const it = t.sandbox.files.read(path, { signal: abort.signal, timeoutMs: TRANSFER_TIMEOUT_MS })[Symbol.asyncIterator]();
    // The first chunk before the answer: a missing file is a 404, not a broken 200.
    const first = await it.next();
    async function* rest(): AsyncGenerator<Uint8Array> {
      if (first.done) return;
      yield first.value;
      for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
    }
    const gated = await deps.scans.gate(t.tenant, t.sandbox.id, 'download', path, rest());
    reply.raw.on('close', () => void gated.cleanup());
    return reply.header('content-type', 'application/octet-stream').send(Readable.from(gated.source));
  });

  app.post<{ Querystring: FilesQuery }>('/files', { constraints, config, schema: { hide: true, querystring: FilesQuery } }, async (req, reply) => {
    const t = targetOf(req);
    refuseMetadata(req);
    const body: unknown = req.body;
    if (!(body instanceof Readable)) {
      throw new WardenError('E_UNSUPPORTED_MEDIA_TYPE', 'Send the file as multipart/form-data (a "file" part per file) or as an application/octet-stream body with ?path=.');
    }
    const abort = new AbortController();
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) abort.abort();
    });
    const given = req.query.path !== undefined && req.query.path !== '' ? sandboxPath(req.query.path) : undefined;
    const data = decoded(req, body);
    if ((req.headers['content-type'] ?? '').toLowerCase().startsWith('multipart/form-data')) {
      let count = 0;
      const written = await eachFile(req.headers, data, async (filename, file) => {
        count++;
        const path = given ?? (filename !== '' ? sandboxPath(filename) : undefined);
        if (path === undefined) throw new WardenError('E_INVALID_REQUEST', 'A file part has no filename and the request no ?path=: name the destination of each file.');
        if (given !== undefined && count > 1) throw new WardenError('E_INVALID_REQUEST', 'With ?path= an upload carries one file; leave path out and name each part by its destination to upload several.');
        return writeOne(t, path, file, abort.signal);
      });
      return reply.send(written);
    }
    if (given === undefined) throw new WardenError('E_INVALID_REQUEST', 'An application/octet-stream upload needs ?path=: the file to write.');
    return reply.send([await writeOne(t, given, data, abort.signal)]);
  });
}
