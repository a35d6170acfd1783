/** openAuditLog's options, checked once at the edge: raw input → a complete, frozen object. */
import { WardenError } from '@warden/protocol';
import { silentLogger, type Logger } from '../logger.js';
import { DEFAULT_PREVIEW_MAX_CHARS } from './redact.js';
import type { AuditLogOptions } from './types.js';

export interface AuditLogConfig {
  readonly file: string;
  readonly keyFile: string | undefined;
  readonly readOnly: boolean;
  readonly publicKey: string | undefined;
  readonly flushIntervalMs: number;
  readonly maxBatch: number;
  readonly checkpointEvery: number;
  readonly checkpointIntervalMs: number;
  readonly previewMaxChars: number;
  readonly maxBufferedEvents: number;
  readonly now: () => Date;
  readonly logger: Logger;
}

const invalid = (message: string): WardenError => new WardenError('E_INVALID_ARGUMENT', message);
const show = (v: unknown): string => `${JSON.stringify(v) ?? String(v)} (${v === null ? 'null' : typeof v})`;

function int(name: string, v: unknown, min: number, max: number, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) throw invalid(`openAuditLog: ${name} must be an integer from ${min} to ${max}, got ${show(v)}.`);
  return v;
}

function path(name: string, v: unknown): string {
  if (typeof v !== 'string' || v === '' || v.includes('\0')) throw invalid(`openAuditLog: ${name} must be a file path such as '/var/lib/warden/audit.sqlite', got ${show(v)}.`);
  return v;
}

function isLogger(l: unknown): l is Logger {
  const o = l as Record<string, unknown> | null;
  return typeof o === 'object' && o !== null && ['debug', 'info', 'warn', 'error'].every((m) => typeof o[m] === 'function');
}

export function auditLogConfig(raw: AuditLogOptions): AuditLogConfig {
  if (typeof raw !== 'object' || raw === null) throw invalid(`openAuditLog options must be an object such as { file, keyFile }, got ${show(raw)}.`);
  const o = raw;
  const file = path('file', o.file);
  if (o.readOnly !== undefined && typeof o.readOnly !== 'boolean') throw invalid(`openAuditLog: readOnly must be a boolean, got ${show(o.readOnly)}.`);
  const readOnly = o.readOnly ?? false;
  const keyFile = o.keyFile === undefined && readOnly && o.publicKey !== undefined ? undefined : path('keyFile', o.keyFile);
  if (keyFile !== undefined && keyFile === file) throw invalid('openAuditLog: keyFile must not be the database file; keep the signing key outside the database.');
  if (o.publicKey !== undefined && (!readOnly || typeof o.publicKey !== 'string')) {
    throw invalid('openAuditLog: publicKey is for readOnly logs only (a writable log signs with keyFile), as SPKI PEM or base64 of the raw key.');
  }
  if (o.now !== undefined && typeof o.now !== 'function') throw invalid(`openAuditLog: now must be a function returning a Date, got ${show(o.now)}.`);
  if (o.logger !== undefined && !isLogger(o.logger)) throw invalid('openAuditLog: logger must have debug, info, warn and error methods.');
  return Object.freeze({
    file,
    keyFile,
    readOnly,
    publicKey: o.publicKey,
    flushIntervalMs: int('flushIntervalMs', o.flushIntervalMs, 0, 60_000, 5),
    maxBatch: int('maxBatch', o.maxBatch, 1, 65_536, 256),
    checkpointEvery: int('checkpointEvery', o.checkpointEvery, 1, 10_000_000, 1000),
    checkpointIntervalMs: int('checkpointIntervalMs', o.checkpointIntervalMs, 10, 86_400_000, 60_000),
    previewMaxChars: int('previewMaxChars', o.previewMaxChars, 32, 65_536, DEFAULT_PREVIEW_MAX_CHARS),
    maxBufferedEvents: int('maxBufferedEvents', o.maxBufferedEvents, 1, 10_000_000, 100_000),
    now: o.now ?? ((): Date => new Date()),
    logger: o.logger ?? silentLogger,
  });
}
