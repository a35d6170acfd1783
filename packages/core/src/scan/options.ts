/** Scanner options, checked once at the edge: raw input → a complete, frozen object. */
import { WardenError } from '@warden/protocol';
import type { Detector } from './types.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

export interface ScannerOptions {
  /**
   * Detectors to run on every file. undefined: `defaultDetectors()` (resolved on
   * the first scan). `[]`: none, and then every verdict is at least suspicious
   * because nothing looked at the file.
   */
  readonly detectors?: readonly Detector[];
  /** Bytes handed to detectors at a time (larger pieces of a stream are split). Default 1 MiB; 4 KiB to 64 MiB. */
  readonly chunkBytes?: number;
  /**
   * Wall-time budget for one file, including its archive members. When it runs
   * out, the scan stops and the verdict carries `scan/limit-time` (never clean).
   * Default 60000; 1 to 86400000.
   */
  readonly timeoutMs?: number;
  /** Bytes of one file the scanner reads; beyond them the verdict carries `scan/limit-size`. Default 4 GiB. */
  readonly maxFileBytes?: number;
  /** Deepest archive nesting scanned (a member of a member of the file is depth 2). Default 4; 0 scans no members. */
  readonly maxDepth?: number;
  /** Archive members scanned per file, at all depths together. Default 10000. */
  readonly maxMembers?: number;
  /** Bytes of archive members scanned per file, at all depths together (zip bombs stop here). Default 1 GiB. */
  readonly maxExpandedBytes?: number;
}

export interface ScannerConfig {
  readonly detectors: readonly Detector[] | undefined;
  readonly chunkBytes: number;
  readonly timeoutMs: number;
  readonly maxFileBytes: number;
  readonly maxDepth: number;
  readonly maxMembers: number;
  readonly maxExpandedBytes: number;
}

function invalid(message: string): WardenError {
  return new WardenError('E_INVALID_ARGUMENT', message);
}

const show = (v: unknown): string => `${JSON.stringify(v) ?? String(v)} (${typeof v})`;

function int(name: string, v: unknown, min: number, max: number, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw invalid(`createScanner: ${name} must be an integer from ${min} to ${max}, got ${show(v)}.`);
  }
  return v;
}

function isDetector(d: unknown): d is Detector {
  return typeof d === 'object' && d !== null && typeof (d as Detector).name === 'string' && typeof (d as Detector).start === 'function';
}

export function scannerConfig(raw: ScannerOptions | undefined): ScannerConfig {
  if (raw !== undefined && (typeof raw !== 'object' || raw === null)) throw invalid(`createScanner options must be an object such as { timeoutMs: 30000 }, got ${show(raw)}.`);
  const o = raw ?? {};
  let detectors: readonly Detector[] | undefined;
  if (o.detectors !== undefined) {
    if (!Array.isArray(o.detectors)) throw invalid(`createScanner: detectors must be an array of detectors (see defaultDetectors()), got ${show(o.detectors)}.`);
    const list: readonly unknown[] = o.detectors;
    const bad = list.findIndex((d) => !isDetector(d));
    if (bad !== -1) throw invalid(`createScanner: detectors[${bad}] must be an object with a string name and a start(ctx) method.`);
    const names = list.map((d) => (d as Detector).name);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup !== undefined) throw invalid(`createScanner: two detectors are named ${JSON.stringify(dup)}; names identify detectors in verdicts, so they must be unique.`);
    detectors = Object.freeze([...(list as readonly Detector[])]);
  }
  return Object.freeze({
    detectors,
    chunkBytes: int('chunkBytes', o.chunkBytes, 4096, 64 * MiB, MiB),
    timeoutMs: int('timeoutMs', o.timeoutMs, 1, 86_400_000, 60_000),
    maxFileBytes: int('maxFileBytes', o.maxFileBytes, 0, Number.MAX_SAFE_INTEGER, 4 * GiB),
    maxDepth: int('maxDepth', o.maxDepth, 0, 32, 4),
    maxMembers: int('maxMembers', o.maxMembers, 0, 10_000_000, 10_000),
    maxExpandedBytes: int('maxExpandedBytes', o.maxExpandedBytes, 0, Number.MAX_SAFE_INTEGER, GiB),
  });
}
