/**
 * Connect RPC over fastify, JSON codec only (what the E2B SDK's connect-web
 * transport sends): unary calls as `POST /<service>/<Method>` with an
 * application/json body and answer, server-streaming calls with one
 * enveloped request message and a stream of enveloped answers
 * (application/connect+json) closed by an end-of-stream message that carries
 * the error, if any. Client streaming is not offered (fetch cannot send it).
 */
import { PassThrough } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Static, TSchema } from '@sinclair/typebox';
import { WardenError, parseWith } from '@warden/protocol';
import { ConnectFailure, toConnectError } from '../errors.js';
import type { HostPaths } from '../respond.js';
import { targetOf, type SandboxTarget } from '../target.js';
import { FLAG_END_STREAM, jsonEnvelope, parseSingleMessage } from './framing.js';

export interface RpcContext {
  readonly req: FastifyRequest;
  readonly target: SandboxTarget;
  /** The caller's deadline for the call (Connect-Timeout-Ms), if it set one. */
  readonly timeoutMs: number | undefined;
  /** Aborted when the caller hangs up (and, for a stream, when the stream ends). */
  readonly signal: AbortSignal;
}

export interface RpcStream {
  /** Sends a message; ignored once the stream has ended. */
  send(message: unknown): void;
  /** Ends the stream, with an error when given. Idempotent. */
  end(err?: unknown): void;
  /** Runs `fn` once the stream is over (ended, or the caller hung up). */
  onClose(fn: () => void): void;
}

export interface StreamOptions {
  /** The message sent when nothing else was for the interval the caller asked for (Keepalive-Ping-Interval). */
  readonly keepalive: unknown;
  /** End the stream with deadline_exceeded at the caller's deadline. Default true; false when the handler enforces it. */
  readonly enforceDeadline?: boolean;
  /** A caller this far behind (bytes waiting) is cut off with resource_exhausted. */
  readonly maxBufferedBytes: number;
}

export interface RpcRouter {
  unary<S extends TSchema>(path: string, schema: S, handler: (input: Static<S>, ctx: RpcContext) => Promise<unknown>): void;
  stream<S extends TSchema>(path: string, schema: S, opts: StreamOptions, handler: (input: Static<S>, ctx: RpcContext, out: RpcStream) => Promise<void>): void;
  /** A method of the service that Warden does not offer: answers unimplemented with `message`. */
  unsupported(method: string, message: string): void;
}

/** Bodies of unary calls: stdin chunks are the largest. */
const UNARY_BODY_LIMIT = 16 * 1024 * 1024;
/** The SDK pings every 50 s, well inside undici's 300 s body timeout. */
const DEFAULT_KEEPALIVE_S = 50;

/** Connect-Timeout-Ms: at most 10 digits (the protocol's bound). */
function timeoutOf(req: FastifyRequest): number | undefined {
  const raw = req.headers['connect-timeout-ms'];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !/^\d{1,10}$/.test(raw)) {
    throw new WardenError('E_INVALID_REQUEST', `Connect-Timeout-Ms must be a whole number of milliseconds (at most 10 digits), got ${JSON.stringify(raw)}.`);
  }
  const ms = Number(raw);
  return ms > 0 ? ms : undefined;
}

function keepaliveMs(req: FastifyRequest): number {
  const raw = req.headers['keepalive-ping-interval'];
  const s = typeof raw === 'string' && /^\d{1,6}$/.test(raw) ? Number(raw) : DEFAULT_KEEPALIVE_S;
  return Math.min(Math.max(s, 1), 600) * 1000;
}

/**
 * Routes for one service on the in-sandbox port `constraint`. `service` is the
 * fully qualified name, e.g. `process.Process`.
 */
export function rpcRouter(app: FastifyInstance, service: string, constraints: Record<string, string>, hostPaths: HostPaths): RpcRouter {
  return {
    unsupported(method, message) {
      app.post(`/${service}/${method}`, { constraints, config: { scope: null, e2b: 'unary' }, schema: { hide: true } }, async () => {
        throw new WardenError('E_UNSUPPORTED', message, { details: { feature: `${service}/${method}` } });
      });
    },
    unary(method, schema, handler) {
      app.post(
        `/${service}/${method}`,
        { constraints, bodyLimit: UNARY_BODY_LIMIT, config: { scope: null, e2b: 'unary' }, schema: { hide: true } },
        async (req, reply) => {
          const input = parseWith(schema, req.body ?? {}, `${method} request`, 'E_INVALID_REQUEST');
          const abort = new AbortController();
          reply.raw.on('close', () => abort.abort());
          const answer = await handler(input, { req, target: targetOf(req), timeoutMs: timeoutOf(req), signal: abort.signal });
          return reply.header('content-type', 'application/json').send(answer ?? {});
        },
      );
    },
    stream(method, schema, opts, handler) {
      app.post(
        `/${service}/${method}`,
        { constraints, config: { scope: null, e2b: 'stream' }, schema: { hide: true } },
        async (req, reply) => {
          const input = parseWith(schema, parseSingleMessage(requestBody(req)), `${method} request`, 'E_INVALID_REQUEST');
          const timeoutMs = timeoutOf(req);
          const out = openStream(req, reply, opts, hostPaths);
          if (timeoutMs !== undefined && opts.enforceDeadline !== false) {
            const timer = setTimeout(() => out.end(deadline(timeoutMs)), timeoutMs);
            out.onClose(() => clearTimeout(timer));
          }
          try {
            await handler(input, { req, target: targetOf(req), timeoutMs, signal: out.signal }, out);
          } catch (err) {
            out.end(err);
          }
          return reply;
        },
      );
    },
  };
}

/** The error a stream ends with at the caller's deadline. */
export function deadline(timeoutMs: number): ConnectFailure {
  return new ConnectFailure('deadline_exceeded', `The call passed its deadline of ${timeoutMs} ms (the SDK's timeoutMs option; 0 for none).`);
}

function requestBody(req: FastifyRequest): Buffer {
  if (!Buffer.isBuffer(req.body)) {
    throw new WardenError('E_UNSUPPORTED_MEDIA_TYPE', 'A streaming call takes one enveloped JSON message with Content-Type: application/connect+json.');
  }
  return req.body;
}

function openStream(req: FastifyRequest, reply: FastifyReply, opts: StreamOptions, hostPaths: HostPaths): RpcStream & { readonly signal: AbortSignal } {
  const body = new PassThrough();
  const abort = new AbortController();
  const closers: Array<() => void> = [];
  let ended = false;
  const interval = keepaliveMs(req);
  let ping: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(ping);
    if (ended) return;
    ping = setTimeout(() => {
      write(jsonEnvelope(opts.keepalive));
      arm();
    }, interval);
  };
  const finish = (): void => {
    if (ended) return;
    ended = true;
    clearTimeout(ping);
    abort.abort();
    for (const fn of closers.splice(0)) fn();
  };
  const write = (chunk: Buffer): void => {
    if (ended) return;
    if (body.writableLength > opts.maxBufferedBytes) {
      end(new ConnectFailure('resource_exhausted', `The client fell more than ${opts.maxBufferedBytes} bytes behind this stream, so it was ended. Read the stream as it arrives.`));
      return;
    }
    body.write(chunk);
  };
  const end = (err?: unknown): void => {
    if (ended) return;
    let trailer: unknown = {};
    if (err !== undefined) {
      const c = toConnectError(err, req.id, hostPaths);
      if (c.internal) req.log.error({ err }, 'e2b stream failed');
      trailer = { error: { code: c.code, message: c.message } };
    }
    body.end(jsonEnvelope(trailer, FLAG_END_STREAM));
    finish();
  };
  reply.raw.on('close', () => {
    if (!ended) {
      finish();
      body.destroy(); // the caller is gone; an open source would hold server.close()
    }
  });
  void reply.code(200).header('content-type', 'application/connect+json').header('cache-control', 'no-store').header('x-accel-buffering', 'no').send(body);
  // Pings start after the first message: the SDK reads the first one as the stream's start event.
  return {
    signal: abort.signal,
    send(message) {
      write(jsonEnvelope(message));
      arm();
    },
    end,
    onClose(fn) {
      if (ended) fn();
      else closers.push(fn);
    },
  };
}
