/**
 * Live output as NDJSON over plain HTTP (one JSON object per line), which
 * fetch streams in every runtime without a WebSocket library.
 */
import { PassThrough } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';

export interface NdjsonStream {
  write(obj: unknown): void;
  end(): void;
  /** Called once if the client goes away before end(). */
  onAbort(fn: () => void): void;
}

export interface NdjsonOptions {
  /**
   * For endless streams (watches): once this many bytes wait for a slow client, further
   * events are dropped and, when it catches up, replaced by one `{ type: 'overflow', dropped }`.
   * Streams without it are bounded by their source (a command's output cap).
   */
  readonly lossyAfterBytes?: number;
  /** The line that replaces dropped events. */
  readonly overflowEvent?: (dropped: number) => unknown;
}

export function ndjson(req: FastifyRequest, reply: FastifyReply, opts: NdjsonOptions = {}): NdjsonStream {
  const out = new PassThrough();
  let ended = false;
  let dropped = 0;
  out.on('drain', () => {
    if (dropped > 0 && !ended) {
      out.write(`${JSON.stringify(opts.overflowEvent?.(dropped) ?? { type: 'overflow', dropped })}\n`);
      dropped = 0;
    }
  });
  const abortFns: Array<() => void> = [];
  reply.raw.on('close', () => {
    if (!ended) {
      ended = true;
      out.destroy(); // the client is gone: nothing will read this, and an open source would hold server.close()
      for (const fn of abortFns) fn();
    }
  });
  void reply
    .header('content-type', 'application/x-ndjson; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('x-accel-buffering', 'no')
    .send(out);
  req.log.debug('ndjson stream opened');
  return {
    write(obj) {
      if (ended) return;
      if (opts.lossyAfterBytes !== undefined && (dropped > 0 || out.writableLength > opts.lossyAfterBytes)) {
        dropped++;
        return;
      }
      out.write(`${JSON.stringify(obj)}\n`);
    },
    end() {
      if (!ended) {
        ended = true;
        out.end();
      }
    },
    onAbort(fn) {
      abortFns.push(fn);
    },
  };
}
