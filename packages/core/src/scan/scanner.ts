/**
 * The scanner: streams a file's bytes through every detector in chunks (bounded
 * memory, one pass, sha256 on the way), scans archive members through the same
 * pipeline within depth/count/byte budgets, and turns the findings into a
 * verdict. Every limit that runs out, and every detector that fails, is a
 * finding: a scan that could not look at everything is never clean.
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { WardenError, type ErrorCode } from '@warden/protocol';
import { defaultDetectors } from './detectors.js';
import { HeadBuffer } from './head.js';
import { scannerConfig, type ScannerConfig, type ScannerOptions } from './options.js';
import { sniff } from './sniff.js';
import { ABORTED, abandon, isPromiseLike, iterate, readChunks, untilAborted } from './source.js';
import type { Detector, DetectorReport, DetectorRun, Evidence, FinishInfo, Finding, MemberInfo, ScanContext, Severity, Verdict } from './types.js';
import { assess, SCANNER_DETECTOR } from './verdict.js';

export type { ScannerOptions } from './options.js';

export interface ScanOptions {
  /** Cancels the scan: the call rejects with the signal's reason (a time limit, by contrast, gives a verdict). */
  readonly signal?: AbortSignal;
}

/** What is known about a stream before its bytes arrive. */
export interface StreamInfo {
  /** File name or path, for extension checks; may be empty. */
  readonly name: string;
  /** Size in bytes when known; a stream that delivers another amount gets a `size/declared-mismatch` finding. */
  readonly size?: number;
}

export interface Scanner {
  /** Scans a regular file on this host (opened non-blocking, so a FIFO cannot stall it). */
  scanFile(path: string, options?: ScanOptions): Promise<Verdict>;
  /** Scans a stream of bytes (a Node Readable works: it yields Buffers). */
  scanStream(data: AsyncIterable<Uint8Array>, info: StreamInfo, options?: ScanOptions): Promise<Verdict>;
  scanBytes(bytes: Uint8Array, name: string, options?: ScanOptions): Promise<Verdict>;
}

/** One scan of a file and all its members: the shared budgets. */
interface Session {
  readonly config: ScannerConfig;
  readonly detectors: readonly Detector[];
  /** Aborts at the deadline or when the caller cancels. */
  readonly signal: AbortSignal;
  readonly caller: AbortSignal | undefined;
  readonly deadline: number;
  members: number;
  expandedBytes: number;
  /** Limit findings already reported (each limit is reported once per file, not once per member). */
  readonly limitsHit: Set<string>;
}

interface FileSpec {
  readonly name: string;
  readonly size: number | undefined;
  readonly depth: number;
  readonly member: boolean;
}

interface Slot {
  readonly name: string;
  run: DetectorRun | undefined;
  ran: boolean;
  error: string | undefined;
  ms: number;
  findings: Finding[];
}

const SEVERITIES: ReadonlySet<string> = new Set<Severity>(['info', 'low', 'medium', 'high', 'critical']);
const LIMIT_RULE = /^(scan|archive)\/limit-/;
const MAX_MEMBER_NAME = 512;

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err)).slice(0, 500);

function scannerFinding(ruleId: string, message: string, member?: string): Finding {
  return { detector: SCANNER_DETECTOR, ruleId, severity: 'medium', certainty: 1, message, evidence: [], ...(member === undefined ? {} : { member }), incomplete: true };
}

function invalid(message: string): WardenError {
  return new WardenError('E_INVALID_ARGUMENT', message);
}

/**
 * Creates a scanner. Options are checked here, once; detectors default to
 * `defaultDetectors()`, loaded on the first scan.
 *
 * @example
 * const scanner = createScanner({ timeoutMs: 30_000 });
 * const v = await scanner.scanFile('/tmp/upload.bin');
 * if (v.level !== 'clean') console.log(v.explanation);
 */
export function createScanner(options?: ScannerOptions): Scanner {
  const config = scannerConfig(options);
  let detectors: Promise<readonly Detector[]> | undefined;
  const resolveDetectors = (): Promise<readonly Detector[]> => (detectors ??= config.detectors ? Promise.resolve(config.detectors) : defaultDetectors());

  async function scanTop(data: AsyncIterable<Uint8Array> | Uint8Array, name: string, size: number | undefined, opts: ScanOptions | undefined): Promise<Verdict> {
    const caller = opts?.signal;
    if (caller !== undefined && !(caller instanceof AbortSignal)) throw invalid('signal must be an AbortSignal (for example AbortSignal.timeout(5000)).');
    caller?.throwIfAborted();
    const list = await resolveDetectors();
    const timer = new AbortController();
    // A ref'd timer (unlike AbortSignal.timeout) keeps the process alive while a stalled source is waited on.
    const handle = setTimeout(() => timer.abort(new WardenError('E_INTERNAL', `scan time budget of ${config.timeoutMs} ms ran out`)), config.timeoutMs);
    const signal = caller === undefined ? timer.signal : AbortSignal.any([caller, timer.signal]);
    const session: Session = {
      config,
      detectors: list,
      signal,
      caller,
      deadline: performance.now() + config.timeoutMs,
      members: 0,
      expandedBytes: 0,
      limitsHit: new Set(),
    };
    try {
      return await scanOne(session, data, { name, size, depth: 0, member: false });
    } finally {
      clearTimeout(handle);
    }
  }

  return Object.freeze({
    async scanFile(path: string, opts?: ScanOptions): Promise<Verdict> {
      if (typeof path !== 'string' || path === '') throw invalid(`scanFile needs a file path, got ${JSON.stringify(path) ?? typeof path}.`);
      let fh: FileHandle;
      try {
        // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, forever.
        fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
      } catch (err) {
        throw fileError(path, err);
      }
      try {
        const st = await fh.stat();
        if (!st.isFile()) throw invalid(`scanFile needs a regular file; ${path} is ${st.isDirectory() ? 'a directory' : 'a device, FIFO or socket'}.`);
        return await scanTop(readChunks(fh, config.chunkBytes, st.size), path, st.size, opts);
      } finally {
        await fh.close();
      }
    },

    async scanStream(data: AsyncIterable<Uint8Array>, info: StreamInfo, opts?: ScanOptions): Promise<Verdict> {
      if (typeof data !== 'object' || data === null || !(Symbol.asyncIterator in data || Symbol.iterator in data)) {
        throw invalid('scanStream needs an async iterable of Uint8Array chunks (a Node Readable, or an async generator).');
      }
      if (typeof info !== 'object' || info === null || typeof info.name !== 'string') throw invalid('scanStream needs info such as { name: "upload.zip", size: 1234 } (size optional).');
      if (info.size !== undefined && (typeof info.size !== 'number' || !Number.isSafeInteger(info.size) || info.size < 0)) {
        throw invalid(`scanStream info.size must be a non-negative integer number of bytes, got ${JSON.stringify(info.size) ?? typeof info.size}.`);
      }
      return scanTop(data, info.name, info.size, opts);
    },

    async scanBytes(bytes: Uint8Array, name: string, opts?: ScanOptions): Promise<Verdict> {
      if (!(bytes instanceof Uint8Array)) throw invalid(`scanBytes needs a Uint8Array (a Buffer works), got ${typeof bytes}.`);
      if (typeof name !== 'string') throw invalid(`scanBytes needs a name (may be ""), got ${typeof name}.`);
      return scanTop(bytes, name, bytes.length, opts);
    },
  });
}

function fileError(path: string, err: unknown): WardenError {
  const errno = typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : 'EIO';
  const [code, what]: [ErrorCode, string] =
    errno === 'ENOENT' || errno === 'ENOTDIR'
      ? ['E_FILE_NOT_FOUND', 'there is no such file']
      : errno === 'EACCES' || errno === 'EPERM'
        ? ['E_PERMISSION_DENIED', 'this process may not read it']
        : ['E_FILE_OPERATION_FAILED', errorText(err)];
  return new WardenError(code, `Cannot scan ${path}: ${what} (${errno}).`, { details: { errno }, cause: err });
}

const timeUp = (s: Session): boolean => s.signal.aborted || performance.now() >= s.deadline;

/** Scans one file or member; rejects only on caller cancellation or (top level) a failing source. */
async function scanOne(session: Session, data: unknown, file: FileSpec): Promise<Verdict> {
  const { config } = session;
  /** Findings of members, relative to this file. */
  const collected: Finding[] = [];
  const scannerFindings: Finding[] = [];
  const pendingMembers = new Set<Promise<Verdict>>();
  let closed = false;

  const ctx: ScanContext = {
    name: file.name,
    ...(file.size === undefined ? {} : { size: file.size }),
    depth: file.depth,
    signal: session.signal,
    scanMember: (name, memberData, info) => {
      if (closed) return Promise.resolve(unscanned(scannerFinding('scan/read-error', 'A member scan was asked for after its archive had been scanned; the archive detector must await scanMember.')));
      const task = scanMember(session, file.depth, collected, name, memberData, info);
      pendingMembers.add(task);
      return task.finally(() => pendingMembers.delete(task));
    },
  };

  const slots: Slot[] = session.detectors.map((d) => {
    const slot: Slot = { name: d.name, run: undefined, ran: false, error: undefined, ms: 0, findings: [] };
    const t = performance.now();
    try {
      slot.run = d.start(ctx);
      if (typeof slot.run !== 'object' || slot.run === null || typeof slot.run.update !== 'function' || typeof slot.run.finish !== 'function') {
        throw new Error('start() did not return { update, finish }');
      }
    } catch (err) {
      slot.run = undefined;
      slot.error = `start failed: ${errorText(err)}`;
    }
    slot.ms += performance.now() - t;
    return slot;
  });

  const hash = createHash('sha256');
  const head = new HeadBuffer();
  let bytes = 0;
  let stopped: Finding | undefined;
  const budget = (): number => (file.member ? config.maxExpandedBytes - session.expandedBytes : config.maxFileBytes - bytes);

  const feed = (piece: Uint8Array): void => {
    hash.update(piece);
    if (!head.full) head.push(piece);
    for (const s of slots) {
      if (s.run === undefined) continue;
      const t = performance.now();
      try {
        s.run.update(piece, bytes);
      } catch (err) {
        s.run = undefined;
        s.error = `update failed at offset ${bytes}: ${errorText(err)}`;
      }
      s.ms += performance.now() - t;
    }
    bytes += piece.length;
    if (file.member) session.expandedBytes += piece.length;
  };

  const timeLimit = (): Finding =>
    scannerFinding('scan/limit-time', `Scanning stopped after ${config.timeoutMs} ms (timeoutMs) at byte ${bytes}${file.member ? ` of member ${file.name}` : ''}; the rest was not checked.`);

  const it = iterate(data as AsyncIterable<Uint8Array>);
  let exhausted = false;
  try {
    read: for (;;) {
      if (timeUp(session)) {
        session.caller?.throwIfAborted();
        stopped = timeLimit();
        break;
      }
      const next = await untilAborted(Promise.resolve(it.next()), session.signal);
      if (next === ABORTED) {
        session.caller?.throwIfAborted();
        stopped = timeLimit();
        break;
      }
      if (next.done === true) {
        exhausted = true;
        break;
      }
      const chunk = next.value;
      if (!(chunk instanceof Uint8Array)) throw new TypeError(`the source yielded ${typeof chunk} where a Uint8Array was expected`);
      for (let off = 0; off < chunk.length; off += config.chunkBytes) {
        let piece = chunk.subarray(off, off + config.chunkBytes);
        const room = budget();
        if (piece.length > room) {
          piece = piece.subarray(0, Math.max(0, room));
          stopped = file.member
            ? scannerFinding('archive/limit-bytes', `Archive members past ${config.maxExpandedBytes} expanded bytes (maxExpandedBytes) were not scanned; ${file.name} was cut at byte ${bytes + piece.length}.`)
            : scannerFinding('scan/limit-size', `Only the first ${config.maxFileBytes} bytes (maxFileBytes) were scanned; the rest was not checked.`);
        }
        if (piece.length > 0) feed(piece);
        if (stopped !== undefined) break read;
        if (timeUp(session)) {
          session.caller?.throwIfAborted();
          stopped = timeLimit();
          break read;
        }
      }
    }
  } catch (err) {
    if (session.caller?.aborted === true) throw session.caller.reason;
    if (!file.member) {
      throw new WardenError('E_FILE_OPERATION_FAILED', `Reading ${file.name || 'the stream'} failed after ${bytes} bytes, so it could not be scanned: ${errorText(err)}`, { cause: err });
    }
    stopped = scannerFinding('scan/read-error', `Reading member ${file.name} failed after ${bytes} bytes (${errorText(err)}); the rest was not checked.`);
  } finally {
    if (!exhausted) abandon(it);
  }
  if (stopped !== undefined) session.limitsHit.add(stopped.ruleId);

  const truncated = stopped !== undefined;
  const h = head.bytes();
  const contentType = sniff(h, !truncated && bytes === h.length).type;
  const info: FinishInfo = { contentType, bytes, truncated };
  let timedOut = false;
  await Promise.all(
    slots.map(async (s) => {
      if (s.run === undefined) return;
      const t = performance.now();
      try {
        const r = s.run.finish(info);
        const out = isPromiseLike(r) ? await untilAborted(r, session.signal) : r;
        if (out === ABORTED) {
          timedOut = true;
          throw new Error(`did not finish within the ${config.timeoutMs} ms time budget`);
        }
        if (typeof out !== 'object' || out === null || !Array.isArray(out.findings)) throw new Error('finish() did not return { ran, findings }');
        const findings = (out.findings as unknown[]).map((f) => normalizeFinding(f, s.name)).filter((f): f is Finding => f !== undefined);
        s.ran = out.ran === true || findings.length > 0;
        s.findings = findings;
      } catch (err) {
        s.error = `finish failed: ${errorText(err)}`;
      }
      s.ms += performance.now() - t;
    }),
  );
  session.caller?.throwIfAborted();
  // Members a detector started without awaiting still count; they end by the deadline at the latest.
  while (pendingMembers.size > 0) await Promise.all([...pendingMembers]);
  closed = true;
  session.caller?.throwIfAborted();
  if (timedOut && stopped === undefined) scannerFindings.push(timeLimit());

  const own: Finding[] = [];
  for (const s of slots) {
    if (s.error !== undefined) own.push(scannerFinding('scan/detector-error', `Detector ${s.name} failed (${s.error}); its analysis of this file is missing.`));
    else own.push(...s.findings);
  }
  if (stopped !== undefined) own.push(stopped);
  own.push(...scannerFindings);

  const reports: DetectorReport[] = slots.map((s) => ({
    name: s.name,
    ran: s.error === undefined ? s.ran : false,
    durationMs: Math.round(s.ms * 1000) / 1000,
    ...(s.error === undefined ? {} : { error: s.error }),
  }));
  const a = assess({ findings: dedupe([...own, ...collected]), detectors: reports });
  return Object.freeze({
    level: a.level,
    score: a.score,
    confidence: a.confidence,
    findings: a.findings,
    explanation: a.explanation,
    detectors: reports,
    bytes,
    sha256: hash.digest('hex'),
    contentType,
    ...(truncated ? { truncated: true } : {}),
  });
}

/** Member names come from archives (hostile): printable, bounded, no separator confusion. */
function memberName(raw: unknown): string {
  let s: string;
  try {
    s = typeof raw === 'string' ? raw : String(raw);
  } catch {
    s = '?';
  }
  // eslint-disable-next-line no-control-regex
  const clean = s.replace(/[\u0000-\u001f\u007f]/g, '?');
  return clean.length > MAX_MEMBER_NAME ? `${clean.slice(0, MAX_MEMBER_NAME)}…` : clean;
}

/** The verdict for a member that was not scanned (a limit ran out before it). */
function unscanned(f: Finding): Verdict {
  const a = assess({ findings: [f], detectors: [] });
  return Object.freeze({ level: a.level, score: a.score, confidence: a.confidence, findings: a.findings, explanation: a.explanation, detectors: [], bytes: 0, sha256: '', contentType: 'unknown', truncated: true });
}

/** Findings of a member's verdict, re-rooted at the file that holds it. */
function reRooted(v: Verdict, name: string): Finding[] {
  return v.findings.map((f) => ({ ...f, member: f.member === undefined ? name : `${name}!${f.member}` }));
}

async function scanMember(session: Session, parentDepth: number, collected: Finding[], rawName: unknown, data: unknown, info: MemberInfo | undefined): Promise<Verdict> {
  const { config } = session;
  const name = memberName(rawName);
  const refuse = (ruleId: string, message: string): Verdict => {
    const f = scannerFinding(ruleId, message);
    if (!session.limitsHit.has(ruleId)) {
      session.limitsHit.add(ruleId);
      collected.push({ ...f, member: name });
    }
    if (typeof data === 'object' && data !== null && !(data instanceof Uint8Array) && (Symbol.asyncIterator in data || Symbol.iterator in data)) {
      abandon(iterate(data as AsyncIterable<Uint8Array>));
    }
    return unscanned(f);
  };
  if (parentDepth + 1 > config.maxDepth) return refuse('archive/limit-depth', `Archives nested deeper than ${config.maxDepth} levels (maxDepth) were not scanned, starting with ${name}.`);
  if (session.members >= config.maxMembers) return refuse('archive/limit-members', `Only ${config.maxMembers} archive members (maxMembers) were scanned; ${name} and later ones were not.`);
  const empty = data instanceof Uint8Array && data.length === 0;
  if (!empty && session.expandedBytes >= config.maxExpandedBytes) {
    return refuse('archive/limit-bytes', `Archive members past ${config.maxExpandedBytes} expanded bytes (maxExpandedBytes) were not scanned, starting with ${name}.`);
  }
  if (timeUp(session)) {
    if (session.caller?.aborted === true) return unscanned(scannerFinding('scan/limit-time', 'The scan was cancelled.'));
    return refuse('scan/limit-time', `Scanning ran out of its ${config.timeoutMs} ms time budget (timeoutMs) before member ${name}.`);
  }
  const validData = data instanceof Uint8Array || (typeof data === 'object' && data !== null && (Symbol.asyncIterator in data || Symbol.iterator in data));
  if (!validData) {
    const f = scannerFinding('scan/read-error', `The archive detector passed ${typeof data} for member ${name} instead of bytes; the member was not checked.`);
    collected.push({ ...f, member: name });
    return unscanned(f);
  }
  const declared = info?.size;
  const size = typeof declared === 'number' && Number.isSafeInteger(declared) && declared >= 0 ? declared : data instanceof Uint8Array ? data.length : undefined;
  session.members++;
  let v: Verdict;
  try {
    v = await scanOne(session, data, { name, size, depth: parentDepth + 1, member: true });
  } catch (err) {
    // Only cancellation gets here; the top-level scan rethrows it.
    v = unscanned(scannerFinding('scan/read-error', `Member ${name} was not scanned: ${errorText(err)}.`));
  }
  collected.push(...reRooted(v, name));
  return v;
}

function normalizeEvidence(e: unknown): Evidence | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const { offset, length, excerpt } = e as Partial<Evidence>;
  if (typeof offset !== 'number' || !Number.isFinite(offset) || typeof length !== 'number' || !Number.isFinite(length)) return undefined;
  return typeof excerpt === 'string' ? { offset, length, excerpt: excerpt.slice(0, 200) } : { offset, length };
}

/** A detector's finding in a shape the verdict engine can trust (a detector is code we run, not code we trust to be right). */
function normalizeFinding(raw: unknown, detector: string): Finding | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const f = raw as Partial<Finding>;
  const ruleId = typeof f.ruleId === 'string' && f.ruleId !== '' ? f.ruleId : `${detector}/unnamed`;
  const certainty = typeof f.certainty === 'number' && !Number.isNaN(f.certainty) ? Math.min(1, Math.max(0, f.certainty)) : 1;
  return {
    detector: typeof f.detector === 'string' && f.detector !== '' ? f.detector : detector,
    ruleId,
    severity: typeof f.severity === 'string' && SEVERITIES.has(f.severity) ? f.severity : 'medium',
    certainty,
    message: typeof f.message === 'string' ? f.message : ruleId,
    evidence: Array.isArray(f.evidence) ? (f.evidence as unknown[]).map(normalizeEvidence).filter((e): e is Evidence => e !== undefined) : [],
    ...(typeof f.member === 'string' ? { member: f.member } : {}),
    ...(f.incomplete === true ? { incomplete: true } : {}),
  };
}

/** One finding per (detector, rule, member, offsets); the scanner's limit findings once per rule. */
function dedupe(findings: readonly Finding[]): Finding[] {
  const seen = new Set<string>();
  const out: Finding[] = [];
  for (const f of findings) {
    const key =
      f.detector === SCANNER_DETECTOR && LIMIT_RULE.test(f.ruleId)
        ? `limit\0${f.ruleId}`
        : `${f.detector}\0${f.ruleId}\0${f.member ?? ''}\0${f.evidence.map((e) => `${e.offset}:${e.length}`).join(',')}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(f);
  }
  return out;
}
