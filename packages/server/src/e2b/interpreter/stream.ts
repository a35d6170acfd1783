/**
 * The `/execute` answer: NDJSON whose headers go out as soon as the cell
 * starts. The SDK starts its execution timeout (runCode's timeoutMs) only
 * once the response headers arrive, so a cell that prints nothing for a while
 * must not hold them back: the reply is taken over from fastify and its
 * headers flushed at once.
 */
import type { FastifyReply } from 'fastify';

export interface LineStream {
  write(line: unknown): void;
  end(): void;
  /** Called once if the client goes away before end(). */
  onAbort(fn: () => void): void;
}

export function openLines(reply: FastifyReply): LineStream {
  const res = reply.raw;
  const headers = { ...reply.getHeaders(), 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' };
  reply.hijack();
  res.writeHead(200, headers as Record<string, string>);
  res.flushHeaders();
  let ended = false;
  const aborts: Array<() => void> = [];
  res.on('close', () => {
    if (!ended) {
      ended = true;
      for (const fn of aborts) fn();
    }
  });
  return {
    write(line) {
      if (!ended) res.write(`${JSON.stringify(line)}\n`);
    },
    end() {
      if (!ended) {
        ended = true;
        res.end();
      }
    },
    onAbort(fn) {
      aborts.push(fn);
    },
  };
}
