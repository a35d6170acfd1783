/**
 * Streaming multipart/form-data uploads (the SDK's default for files.write):
 * each `file` part goes to `each` as it arrives, one after another, so no file
 * is held in memory whole. A failed file stops the upload; its bytes and those
 * of the parts after it are drained and dropped, and files written before it stay.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Busboy } from '@fastify/busboy';
import { WardenError } from '@warden/protocol';

/** Files one upload may carry. */
export const MAX_FILES = 1000;

export async function eachFile<T>(headers: IncomingHttpHeaders, body: Readable, each: (filename: string, file: Readable) => Promise<T>): Promise<T[]> {
  const contentType = headers['content-type'] ?? '';
  const busboy = new Busboy({ headers: { ...headers, 'content-type': contentType }, preservePath: true, limits: { files: MAX_FILES, fields: 100, parts: MAX_FILES + 100, headerPairs: 100 } });
  const results: T[] = [];
  let failure: Error | undefined;
  let chain = Promise.resolve();
  busboy.on('file', (_field, file, filename) => {
    chain = chain.then(async () => {
      try {
        if (failure === undefined) results.push(await each(filename, file));
      } catch (err) {
        failure ??= err instanceof Error ? err : new Error('The file could not be written.');
      } finally {
        file.resume(); // whatever is left of this part, so the parser reaches the next one
      }
    });
  });
  busboy.on('filesLimit', () => {
    failure ??= new WardenError('E_INVALID_REQUEST', `An upload may carry at most ${MAX_FILES} files; split it.`);
  });
  await pipeline(body, busboy).catch((err: unknown) => {
    failure ??= err instanceof WardenError ? err : new WardenError('E_INVALID_REQUEST', `The multipart/form-data body could not be read: ${(err as Error).message}.`, { cause: err });
  });
  await chain;
  if (failure !== undefined) throw failure;
  return results;
}
