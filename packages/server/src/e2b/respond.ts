/**
 * Error responses of the adapter's routes, each in the format its SDK code
 * parses (errors.ts). Every route says which one in `config.e2b`; this one
 * handler serves them all, including errors raised before a handler runs
 * (authentication, a body that does not parse).
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { FLAG_END_STREAM, jsonEnvelope } from './connect/framing.js';
import { apiStatus, connectHttpStatus, reasonPhrase, safeError, sandboxStatus, toConnectError } from './errors.js';

/**
 * api: the control plane. envd: the daemon's REST routes (/files, /health).
 * unary / stream: Connect RPC. jupyter: the code interpreter.
 */
export type Wire = 'api' | 'envd' | 'unary' | 'stream' | 'jupyter';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The wire format of an E2B adapter route (and of its errors). */
    e2b?: Wire;
  }
}

export type HostPaths = ReadonlyArray<readonly [string, string]>;

export function e2bErrorHandler(hostPaths: HostPaths): (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => FastifyReply {
  return (err, req, reply) => {
    const wire = req.routeOptions.config.e2b ?? 'api';
    if (wire === 'unary' || wire === 'stream') {
      const c = toConnectError(err, req.id, hostPaths);
      log(req, c.internal, err, c.code);
      // Streaming errors travel in the end-of-stream message of a 200: the SDK reads only that for streams.
      if (wire === 'stream') return reply.code(200).header('content-type', 'application/connect+json').send(jsonEnvelope({ error: { code: c.code, message: c.message } }, FLAG_END_STREAM));
      return reply.code(connectHttpStatus(c.code)).header('content-type', 'application/json').send({ code: c.code, message: c.message });
    }
    const e = safeError(err, req.id, hostPaths);
    log(req, e.internal, err, e.code);
    if (wire === 'jupyter') {
      const status = sandboxStatus(e);
      reply.raw.statusMessage = reasonPhrase(e.message);
      return reply.code(status).header('content-type', 'text/plain; charset=utf-8').send(e.message);
    }
    const status = wire === 'envd' ? sandboxStatus(e) : apiStatus(e);
    return reply.code(status).header('content-type', 'application/json').send({ code: status, message: e.message });
  };
}

function log(req: FastifyRequest, internal: boolean, err: unknown, code: string): void {
  if (internal) req.log.error({ err }, 'e2b request failed');
  else req.log.info({ code }, 'e2b request refused');
}
