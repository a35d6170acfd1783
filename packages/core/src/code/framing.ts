/**
 * The framing between the host and an interpreter server (servers/*.py|js).
 * Pure: no I/O.
 *
 * - Start: the host writes the server's source as `<decimal byte length>\n`
 *   followed by the bytes; the loader in the interpreter's argv reads and
 *   runs it. The server answers `ready`.
 * - Requests, host → server: one JSON object per line,
 *   `{"op":"run","id":N,"code":"…","async":bool}`. JSON escapes newlines,
 *   so a line is a whole request.
 * - Events, server → host: one JSON object per line: `stdout`/`stderr` as
 *   output arrives, `result` `{result}`, `error` `{name, value, traceback}`,
 *   then `done` `{id, executionCount}` ends the cell. Output text travels raw
 *   rather than as a JSON string, so a megabyte of output costs no escaping
 *   and no parsing on either side: the line `{"type":"stdout","bytes":N}` is
 *   followed by exactly N bytes of UTF-8 text, and the next event starts right
 *   after them. (`{"type":"stdout","text":"…"}` is understood too.)
 *
 * The server runs as the sandbox's user next to the code it runs, so every
 * event is checked here as untrusted input: unknown types, wrong shapes and
 * over-long lines are protocol errors, and the host then ends the
 * interpreter. The framing keeps honest output exact; it is not a security
 * boundary (the sandbox is).
 */
import type { CodeResult } from '@warden/protocol';

/** An event line may not be longer than this (a 48 MiB PNG, base64, still fits). */
export const MAX_EVENT_BYTES = 64 * 1024 * 1024;

export type ServerEvent =
  | { readonly type: 'ready'; readonly language: string; readonly version: string; readonly pid: number }
  | { readonly type: 'stdout' | 'stderr'; readonly text: string }
  | { readonly type: 'result'; readonly result: CodeResult }
  | { readonly type: 'error'; readonly name: string; readonly value: string; readonly traceback: string }
  | { readonly type: 'done'; readonly id: number; readonly executionCount: number };

/** The server broke the framing; the interpreter cannot be trusted to go on. */
export class ProtocolViolation extends Error {
  override readonly name = 'ProtocolViolation';
}

/** What the loader reads first: the server's source, length-prefixed. */
export function bootstrapFrame(source: string): Buffer {
  const body = Buffer.from(source, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length}\n`, 'latin1'), body]);
}

export interface RunRequest {
  readonly id: number;
  readonly code: string;
  /** JavaScript only: the code was rewritten into an async function for top-level await (see js-async.ts). */
  readonly async?: boolean;
}

export function encodeRun(req: RunRequest): Buffer {
  return Buffer.from(`${JSON.stringify({ op: 'run', id: req.id, code: req.code, ...(req.async ? { async: true } : {}) })}\n`, 'utf8');
}

/** A text event announced by its header line; its N raw bytes follow. */
export interface TextHeader {
  readonly type: 'stdout' | 'stderr';
  readonly bytes: number;
}

/** Splits a byte stream into lines (without the `\n`), bounded in length. */
export class LineSplitter {
  readonly #maxBytes: number;
  #parts: Buffer[] = [];
  #partBytes = 0;

  constructor(maxBytes = MAX_EVENT_BYTES) {
    this.#maxBytes = maxBytes;
  }

  /** Bytes of the line not yet ended. */
  get pendingBytes(): number {
    return this.#partBytes;
  }

  /** The lines `chunk` completes. Throws ProtocolViolation when a line passes the limit. */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let from = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, from);
      if (nl < 0) break;
      const piece = chunk.subarray(from, nl);
      if (this.#parts.length > 0) {
        this.#check(this.#partBytes + piece.length);
        this.#parts.push(piece);
        lines.push(Buffer.concat(this.#parts).toString('utf8'));
        this.#parts = [];
        this.#partBytes = 0;
      } else {
        this.#check(piece.length);
        lines.push(piece.toString('utf8'));
      }
      from = nl + 1;
    }
    if (from < chunk.length) {
      const rest = chunk.subarray(from);
      this.#check(this.#partBytes + rest.length);
      // Copy: the agent's buffer may be reused after this callback.
      this.#parts.push(Buffer.from(rest));
      this.#partBytes += rest.length;
    }
    return lines;
  }

  #check(bytes: number): void {
    if (bytes > this.#maxBytes) throw new ProtocolViolation(`an event line passed ${this.#maxBytes} bytes`);
  }
}

const STRING_KEYS = ['text', 'html', 'markdown', 'svg', 'png', 'jpeg', 'pdf', 'latex', 'javascript'] as const;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(o: Record<string, unknown>, key: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw new ProtocolViolation(`${String(o.type)} event: ${key} must be a string`);
  return v;
}

function int(o: Record<string, unknown>, key: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new ProtocolViolation(`${String(o.type)} event: ${key} must be a non-negative integer`);
  return v;
}

/** The known fields of a result, each of the right type; anything else is dropped. */
function parseResult(v: unknown): CodeResult {
  if (!isRecord(v) || typeof v.isMainResult !== 'boolean') throw new ProtocolViolation('result event: result must be an object with isMainResult');
  const r: Record<string, unknown> = { isMainResult: v.isMainResult };
  for (const key of STRING_KEYS) if (typeof v[key] === 'string') r[key] = v[key];
  if (v.json !== undefined) r.json = v.json;
  if (isRecord(v.extra)) r.extra = v.extra;
  return r as CodeResult;
}

/** Parses and checks one event line. Throws ProtocolViolation. */
export function parseEvent(line: string): ServerEvent {
  const e = parseLine(line);
  if ('bytes' in e) throw new ProtocolViolation(`a ${e.type} header outside a stream of events`);
  return e;
}

/** One event line: an event, or the header of raw text that follows it. Throws ProtocolViolation. */
export function parseLine(line: string): ServerEvent | TextHeader {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    throw new ProtocolViolation(`an event is not JSON: ${JSON.stringify(line.slice(0, 80))}`);
  }
  if (!isRecord(o)) throw new ProtocolViolation('an event is not a JSON object');
  switch (o.type) {
    case 'stdout':
    case 'stderr':
      if (o.bytes !== undefined) {
        const bytes = int(o, 'bytes');
        if (bytes > MAX_EVENT_BYTES) throw new ProtocolViolation(`a ${o.type} event of ${bytes} bytes passed ${MAX_EVENT_BYTES}`);
        return { type: o.type, bytes };
      }
      return { type: o.type, text: str(o, 'text') };
    case 'result':
      return { type: 'result', result: parseResult(o.result) };
    case 'error':
      return { type: 'error', name: str(o, 'name'), value: str(o, 'value'), traceback: str(o, 'traceback') };
    case 'done':
      return { type: 'done', id: int(o, 'id'), executionCount: int(o, 'executionCount') };
    case 'ready':
      return { type: 'ready', language: str(o, 'language'), version: str(o, 'version'), pid: int(o, 'pid') };
    default:
      throw new ProtocolViolation(`unknown event type ${JSON.stringify(o.type)}`);
  }
}

/** Bytes a result takes against a cell's output cap. */
export function resultBytes(r: CodeResult): number {
  let n = 0;
  for (const key of STRING_KEYS) {
    const v = r[key];
    if (v !== undefined) n += Buffer.byteLength(v);
  }
  if (r.json !== undefined || r.extra !== undefined) n += Buffer.byteLength(JSON.stringify([r.json, r.extra]) ?? '');
  return n;
}

/** Turns the byte stream of a server into events: JSON lines, and the raw text that follows a text header. */
export class EventReader {
  readonly #lines: LineSplitter;
  /** The text event being read: what is left to read, and what was read. */
  #raw: { readonly type: 'stdout' | 'stderr'; need: number; readonly parts: Buffer[] } | undefined;

  constructor(maxBytes = MAX_EVENT_BYTES) {
    this.#lines = new LineSplitter(maxBytes);
  }

  /** The events `chunk` completes. Throws ProtocolViolation. */
  push(chunk: Buffer): ServerEvent[] {
    const events: ServerEvent[] = [];
    let at = 0;
    while (at < chunk.length) {
      const raw = this.#raw;
      if (raw) {
        const take = Math.min(raw.need, chunk.length - at);
        const slice = chunk.subarray(at, at + take);
        at += take;
        raw.need -= take;
        if (raw.need > 0) {
          // Copy what waits for more: the caller may reuse its buffer.
          raw.parts.push(Buffer.from(slice));
          continue;
        }
        this.#raw = undefined;
        events.push({ type: raw.type, text: (raw.parts.length === 0 ? slice : Buffer.concat([...raw.parts, slice])).toString('utf8') });
        continue;
      }
      const nl = chunk.indexOf(0x0a, at);
      const piece = nl < 0 ? chunk.subarray(at) : chunk.subarray(at, nl + 1);
      at += piece.length;
      for (const line of this.#lines.push(piece)) {
        const e = parseLine(line);
        if (!('bytes' in e)) events.push(e);
        else if (e.bytes === 0) events.push({ type: e.type, text: '' });
        else this.#raw = { type: e.type, need: e.bytes, parts: [] };
      }
    }
    return events;
  }
}
