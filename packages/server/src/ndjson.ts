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

export function ndjson(req: FastifyRequest, reply: FastifyReply): NdjsonStream {
  const out = new PassThrough();
  let ended = false;
  const abortFns: Array<() => void> = [];
  reply.raw.on('close', () => {
    if (!ended) {
      ended = true;
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
      if (!ended) out.write(`${JSON.stringify(obj)}\n`);
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
