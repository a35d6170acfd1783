/**
 * Writing a file from bytes or a stream. The helper acknowledges every
 * ACK_BYTES that reached the file, and we keep at most WINDOW_BYTES
 * unacknowledged: the agent queues a process's stdin in memory (and drops it
 * past 64 MiB), so its pipe accepting a frame says nothing about the disk.
 */
import { WardenError } from '@warden/protocol';
import { decodeAck, decodeEntry } from './decode.js';
import { FsHelper, type FilesContext } from './helper.js';
import { helperProtocolError, JsonLines } from './lines.js';
import type { OpLimits } from './options.js';
import { pathArg } from './paths.js';
import type { FileEntry, WriteData } from './types.js';

const ACK_BYTES = 1024 * 1024;
const WINDOW_BYTES = 8 * ACK_BYTES;
const STOPPED = Symbol('stopped');

/** The data as a stream of chunks; refuses anything else up front. */
export function writeSource(data: WriteData): AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string> {
  if (typeof data === 'string' || data instanceof Uint8Array) return [data];
  if (typeof data === 'object' && data !== null && (Symbol.asyncIterator in data || Symbol.iterator in data)) return data;
  throw new WardenError('E_INVALID_ARGUMENT', `data must be a string, a Uint8Array (Buffer), or an (async) iterable of them such as a Readable stream, got ${data === null ? 'null' : typeof data}.`);
}

function bytesOf(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  throw new WardenError('E_INVALID_ARGUMENT', `Every chunk of data must be a string or a Uint8Array (Buffer), got ${chunk === null ? 'null' : typeof chunk}.`);
}

export async function writeFile(ctx: FilesContext, path: string, source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>, limits: OpLimits): Promise<FileEntry> {
  let sent = 0;
  let acked = 0;
  let entry: FileEntry | undefined;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const lines = new JsonLines((v) => {
    const ack = decodeAck(v);
    if (ack === undefined) {
      if (entry) throw helperProtocolError('two results');
      entry = decodeEntry(v);
      return;
    }
    if (ack < acked || ack > sent) throw helperProtocolError('an acknowledgement of bytes it was never sent');
    acked = ack;
    notify();
  });
  const helper = new FsHelper(ctx, {
    op: 'write',
    path,
    args: ['write', pathArg(path), String(ACK_BYTES)],
    stdin: true,
    ...limits,
    onStdout: (d) => lines.push(d),
  });
  let finished = false;
  void helper.settled.then(() => {
    finished = true;
    notify();
  });
  const it: AsyncIterator<Uint8Array | string> | Iterator<Uint8Array | string> =
    Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
  // A stalled source must not outlive a timeout or an abort. (Not Promise.race against one
  // long-lived promise: every race would leave a reaction on it holding that chunk, so a
  // 200 MB upload would stay in memory until the end.)
  const waiting = new Set<(v: typeof STOPPED) => void>();
  void helper.settled.then(() => {
    for (const stop of waiting) stop(STOPPED);
    waiting.clear();
  });
  const nextOrStopped = (): Promise<IteratorResult<Uint8Array | string> | typeof STOPPED> => {
    if (finished) return Promise.resolve(STOPPED);
    return new Promise((resolve, reject) => {
      waiting.add(resolve);
      Promise.resolve(it.next()).then(
        (r) => {
          waiting.delete(resolve);
          resolve(r);
        },
        (err: unknown) => {
          waiting.delete(resolve);
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  };
  let exhausted = false;
  try {
    send: for (;;) {
      const next = await nextOrStopped();
      if (next === STOPPED) break;
      if (next.done === true) {
        exhausted = true;
        await helper.end();
        break;
      }
      const chunk = bytesOf(next.value);
      for (let off = 0; off < chunk.length; off += ACK_BYTES) {
        const piece = chunk.subarray(off, off + ACK_BYTES);
        while (!finished && sent + piece.length - acked > WINDOW_BYTES) await new Promise<void>((resolve) => (wake = resolve));
        if (finished) break send;
        sent += piece.length;
        await helper.write(piece);
      }
    }
  } catch (err) {
    // The source failed (or gave a bad chunk): the temp file goes, the old file stays.
    helper.stop(err);
  }
  // Stopped early: let the source release what it holds (a file handle, say).
  if (!exhausted) void Promise.resolve(it.return?.()).catch(() => undefined);
  await helper.done;
  try {
    lines.end();
    if (!entry) throw helperProtocolError('no result for a write');
  } catch (err) {
    throw helper.fatal(err);
  }
  return entry;
}
