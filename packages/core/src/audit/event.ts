/**
 * Events: checking what callers pass, and the one canonical form every hash
 * is computed over, whether the fields come from an append, from the
 * database's columns or from an exported line.
 *
 *   hash = sha256_hex( prevHash + canonicalJson(event without hash) )
 *
 * prevHash is the 64 lower-case hex characters; both parts are UTF-8.
 */
import { WardenError } from '@warden/protocol';
import { DECISIONS, RISKS } from '../guard/types.js';
import { CanonicalJsonError, canonicalJson, isWellFormed } from './canonical.js';
import { sha256Hex } from './hash.js';
import { isHash } from './merkle.js';
import { redactPreview, redactSecrets } from './redact.js';
import type { AuditEvent } from './types.js';

export const GENESIS_HASH = '0'.repeat(64);

const ACTION = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)+$/;
const MAX_ACTION_CHARS = 128;
const MAX_FIELD_CHARS = 1024;
const MAX_RULE_IDS = 256;
const MAX_DETAILS_BYTES = 64 * 1024;
// eslint-disable-next-line no-control-regex -- identifiers must not carry control characters (log forging, terminals)
const CONTROL = /[\u0000-\u001f\u007f]/;
const INPUT_KEYS = new Set(['action', 'actor', 'tenant', 'sandboxId', 'inputDigest', 'preview', 'decision', 'ruleIds', 'risk', 'outcome', 'durationMs', 'details']);

/**
 * An event's fields in stored form: ruleIds and details as their canonical
 * JSON text (so verification hashes exactly what is stored, byte for byte).
 */
export interface EventFields {
  readonly seq: number;
  readonly ts: string;
  readonly prevHash: string;
  readonly action: string;
  readonly actor?: string | undefined;
  readonly tenant?: string | undefined;
  readonly sandboxId?: string | undefined;
  readonly inputDigest?: string | undefined;
  readonly preview?: string | undefined;
  readonly decision?: string | undefined;
  readonly ruleIdsJson?: string | undefined;
  readonly risk?: string | undefined;
  readonly outcome?: string | undefined;
  readonly durationMs?: number | undefined;
  readonly detailsJson?: string | undefined;
}

/** A validated input: what append stores, minus the chain fields. */
export type NormalizedInput = Omit<EventFields, 'seq' | 'ts' | 'prevHash'>;

/** The stored fields of an input placed in the chain. Built property by property: `{ ...n, seq }` is several times slower in V8. */
export function chained(n: NormalizedInput, seq: number, ts: string, prevHash: string): EventFields {
  return {
    seq,
    ts,
    prevHash,
    action: n.action,
    actor: n.actor,
    tenant: n.tenant,
    sandboxId: n.sandboxId,
    inputDigest: n.inputDigest,
    preview: n.preview,
    decision: n.decision,
    ruleIdsJson: n.ruleIdsJson,
    risk: n.risk,
    outcome: n.outcome,
    durationMs: n.durationMs,
    detailsJson: n.detailsJson,
  };
}

/** Thrown while building the canonical form of something that is not an event (a tampered row, a bad line). */
export class MalformedEvent extends Error {
  override readonly name = 'MalformedEvent';
}

const invalid = (message: string): WardenError => new WardenError('E_INVALID_ARGUMENT', message);
const show = (v: unknown): string => {
  const s = typeof v === 'string' ? JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v) : (JSON.stringify(v) ?? String(v));
  return `${s} (${v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v})`;
};

function text(name: string, v: unknown, maxChars: number): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length === 0 || v.length > maxChars || CONTROL.test(v) || !isWellFormed(v)) {
    throw invalid(`audit event ${name} must be a non-empty string of at most ${maxChars} characters without control characters, got ${show(v)}.`);
  }
  return v;
}

function oneOf<T extends string>(name: string, v: unknown, allowed: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) throw invalid(`audit event ${name} must be one of ${allowed.join(', ')}, got ${show(v)}.`);
  return v as T;
}

/**
 * Checks an AuditEventInput and returns it in stored form: preview redacted
 * and capped, secrets in details masked, ruleIds and details as canonical
 * JSON. Throws E_INVALID_ARGUMENT naming the field, the expected shape and
 * what was received.
 */
export function normalizeInput(raw: unknown, previewMaxChars: number): NormalizedInput {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalid(`audit event must be an object such as { action: 'sandbox.create' }, got ${show(raw)}.`);
  const e = raw as Record<string, unknown>;
  const unknown: string[] = [];
  for (const k in e) if (!INPUT_KEYS.has(k) && e[k] !== undefined && Object.hasOwn(e, k)) unknown.push(k);
  if (unknown.length > 0) throw invalid(`audit event has unknown field ${unknown.map((k) => JSON.stringify(k)).join(', ')}; put extra data in details.`);

  if (typeof e.action !== 'string' || e.action.length > MAX_ACTION_CHARS || !ACTION.test(e.action)) {
    throw invalid(`audit event action must be a dotted name such as 'command.start' (segments of letters, digits, _ or -; at most ${MAX_ACTION_CHARS} characters), got ${show(e.action)}.`);
  }
  if (e.inputDigest !== undefined && !isHash(e.inputDigest)) throw invalid(`audit event inputDigest must be a sha256 hex digest (64 lower-case hex digits), got ${show(e.inputDigest)}.`);
  if (e.preview !== undefined && typeof e.preview !== 'string') throw invalid(`audit event preview must be a string, got ${show(e.preview)}.`);

  let ruleIdsJson: string | undefined;
  if (e.ruleIds !== undefined) {
    const ids: unknown = e.ruleIds;
    if (!Array.isArray(ids) || ids.length > MAX_RULE_IDS) throw invalid(`audit event ruleIds must be an array of at most ${MAX_RULE_IDS} rule ids, got ${show(ids)}.`);
    const list = (ids as unknown[]).map((id, i) => text(`ruleIds[${i}]`, id, 256)!);
    ruleIdsJson = canonicalJson(list);
  }
  if (e.durationMs !== undefined && (typeof e.durationMs !== 'number' || !Number.isFinite(e.durationMs) || e.durationMs < 0)) {
    throw invalid(`audit event durationMs must be a finite number ≥ 0, got ${show(e.durationMs)}.`);
  }

  let detailsJson: string | undefined;
  if (e.details !== undefined) {
    if (typeof e.details !== 'object' || e.details === null || Array.isArray(e.details)) throw invalid(`audit event details must be a plain object, got ${show(e.details)}.`);
    try {
      detailsJson = canonicalJson(e.details, redactSecrets);
    } catch (err) {
      if (err instanceof CanonicalJsonError) throw invalid(`audit event details must be JSON-safe: ${err.message.replace(/^\$/, 'details')}.`);
      throw err;
    }
    if (Buffer.byteLength(detailsJson) > MAX_DETAILS_BYTES) throw invalid(`audit event details must be at most ${MAX_DETAILS_BYTES} bytes as JSON, got ${Buffer.byteLength(detailsJson)}; record a digest instead of the data.`);
  }

  return {
    action: e.action,
    actor: text('actor', e.actor, MAX_FIELD_CHARS),
    tenant: text('tenant', e.tenant, MAX_FIELD_CHARS),
    sandboxId: text('sandboxId', e.sandboxId, MAX_FIELD_CHARS),
    inputDigest: e.inputDigest,
    preview: e.preview === undefined ? undefined : redactPreview(e.preview, { maxChars: previewMaxChars }),
    decision: oneOf('decision', e.decision, DECISIONS),
    ruleIdsJson,
    risk: oneOf('risk', e.risk, RISKS),
    outcome: text('outcome', e.outcome, MAX_FIELD_CHARS),
    durationMs: e.durationMs,
    detailsJson,
  };
}

const str = (name: string, v: unknown): string => {
  if (typeof v !== 'string') throw new MalformedEvent(`${name} is ${v === null ? 'null' : typeof v}, not a string`);
  return JSON.stringify(v);
};
const num = (name: string, v: unknown): string => {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new MalformedEvent(`${name} is not a finite number`);
  return JSON.stringify(v);
};
const raw = (name: string, v: unknown): string => {
  if (typeof v !== 'string') throw new MalformedEvent(`${name} is not JSON text`);
  return v;
};
const present = (v: unknown): boolean => v !== undefined && v !== null;

/**
 * The canonical JSON of an event without its hash, built field by field in
 * sorted key order (action, actor, decision, details, durationMs,
 * inputDigest, outcome, prevHash, preview, risk, ruleIds, sandboxId, seq,
 * tenant, ts). ruleIdsJson and detailsJson are inserted as stored, so an
 * edit to their text changes the hash even if the JSON means the same.
 * null and undefined both mean absent. Throws MalformedEvent on wrong types.
 */
export function canonicalEvent(f: EventFields): string {
  let s = `{"action":${str('action', f.action)}`;
  if (present(f.actor)) s += `,"actor":${str('actor', f.actor)}`;
  if (present(f.decision)) s += `,"decision":${str('decision', f.decision)}`;
  if (present(f.detailsJson)) s += `,"details":${raw('details', f.detailsJson)}`;
  if (present(f.durationMs)) s += `,"durationMs":${num('durationMs', f.durationMs)}`;
  if (present(f.inputDigest)) s += `,"inputDigest":${str('inputDigest', f.inputDigest)}`;
  if (present(f.outcome)) s += `,"outcome":${str('outcome', f.outcome)}`;
  s += `,"prevHash":${str('prevHash', f.prevHash)}`;
  if (present(f.preview)) s += `,"preview":${str('preview', f.preview)}`;
  if (present(f.risk)) s += `,"risk":${str('risk', f.risk)}`;
  if (present(f.ruleIdsJson)) s += `,"ruleIds":${raw('ruleIds', f.ruleIdsJson)}`;
  if (present(f.sandboxId)) s += `,"sandboxId":${str('sandboxId', f.sandboxId)}`;
  if (typeof f.seq !== 'number' || !Number.isSafeInteger(f.seq)) throw new MalformedEvent('seq is not an integer');
  s += `,"seq":${f.seq}`;
  if (present(f.tenant)) s += `,"tenant":${str('tenant', f.tenant)}`;
  return `${s},"ts":${str('ts', f.ts)}}`;
}

export function eventHash(prevHash: string, canonical: string): string {
  return sha256Hex(prevHash + canonical);
}

/** The event as callers see it: absent fields left out, ruleIds and details parsed. */
export function toEvent(f: EventFields, hash: string): AuditEvent {
  const e: Record<string, unknown> = { seq: f.seq, ts: f.ts, prevHash: f.prevHash, hash, action: f.action };
  if (present(f.actor)) e.actor = f.actor;
  if (present(f.tenant)) e.tenant = f.tenant;
  if (present(f.sandboxId)) e.sandboxId = f.sandboxId;
  if (present(f.inputDigest)) e.inputDigest = f.inputDigest;
  if (present(f.preview)) e.preview = f.preview;
  if (present(f.decision)) e.decision = f.decision;
  if (present(f.ruleIdsJson)) e.ruleIds = JSON.parse(f.ruleIdsJson!) as unknown;
  if (present(f.risk)) e.risk = f.risk;
  if (present(f.outcome)) e.outcome = f.outcome;
  if (present(f.durationMs)) e.durationMs = f.durationMs;
  if (present(f.detailsJson)) e.details = JSON.parse(f.detailsJson!) as unknown;
  return e as unknown as AuditEvent;
}

const EVENT_KEYS = new Set(['seq', 'ts', 'prevHash', 'hash', 'action', 'actor', 'tenant', 'sandboxId', 'inputDigest', 'preview', 'decision', 'ruleIds', 'risk', 'outcome', 'durationMs', 'details']);

/** An exported event (a parsed JSON line) in stored form. Throws MalformedEvent for unknown fields or unserialisable values. */
export function fieldsOfExported(o: Record<string, unknown>): EventFields {
  const extra = Object.keys(o).filter((k) => !EVENT_KEYS.has(k));
  if (extra.length > 0) throw new MalformedEvent(`unknown field ${extra.map((k) => JSON.stringify(k)).join(', ')}`);
  // An export never writes null (absent fields are left out); a null would hash like an absent field.
  const nulls = Object.keys(o).filter((k) => o[k] === null);
  if (nulls.length > 0) throw new MalformedEvent(`${nulls.join(', ')} is null; absent fields are left out`);
  const json = (name: string, v: unknown): string | undefined => {
    if (v === undefined) return undefined;
    try {
      return canonicalJson(v);
    } catch (err) {
      throw new MalformedEvent(`${name}: ${(err as Error).message}`);
    }
  };
  return {
    seq: o.seq as number,
    ts: o.ts as string,
    prevHash: o.prevHash as string,
    action: o.action as string,
    actor: o.actor as string | undefined,
    tenant: o.tenant as string | undefined,
    sandboxId: o.sandboxId as string | undefined,
    inputDigest: o.inputDigest as string | undefined,
    preview: o.preview as string | undefined,
    decision: o.decision as string | undefined,
    ruleIdsJson: json('ruleIds', o.ruleIds),
    risk: o.risk as string | undefined,
    outcome: o.outcome as string | undefined,
    durationMs: o.durationMs as number | undefined,
    detailsJson: json('details', o.details),
  };
}
