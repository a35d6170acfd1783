import type { FastifyBaseLogger } from 'fastify';
import type { Logger } from '@warden/core';

/** The core's logger interface on top of the server's pino logger. */
export function coreLogger(log: FastifyBaseLogger): Logger {
  return {
    debug: (msg, fields) => log.debug(fields ?? {}, msg),
    info: (msg, fields) => log.info(fields ?? {}, msg),
    warn: (msg, fields) => log.warn(fields ?? {}, msg),
    error: (msg, fields) => log.error(fields ?? {}, msg),
  };
}
