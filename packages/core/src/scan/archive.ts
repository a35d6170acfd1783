/**
 * The archive detector: zip, tar, gzip (and so tar.gz). It checks member
 * names, types and sizes, and hands every member to `ctx.scanMember`, so the
 * whole scanner examines it one level deeper (the scanner puts the member's
 * findings in this file's verdict, with their member path).
 *
 * Zip's central directory is at the end, so the archive is kept whole before
 * anything is inspected: in memory up to `memoryBytes` (1 MiB), beyond that
 * in a temp file under `tmpDir` that is unlinked as soon as it is opened (see
 * archive/spool.ts). Non-archives cost only the first 8 KiB.
 *
 * Nothing trusts declared sizes: decompression is streamed and metered, and
 * stops at the first limit; a scanner that stops reading a member stops its
 * decompression too. The scanner enforces depth, member, byte and time limits
 * for the whole scan; this detector's own are backstops (larger by default)
 * for use without it, shared by an archive and everything nested in it
 * through AsyncLocalStorage. What is only this detector's: the expansion
 * ratio (a bomb is stopped after `bombMinBytes`), a cap per member, overlapping
 * zip entries (shared data is expanded once) and archives that contain
 * themselves.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, type Hash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { WardenError } from '@warden/protocol';
import { ArchiveFindings, RULES } from './archive/findings.js';
import { Budget, Inspector, type ArchiveLimits, type Expansion } from './archive/inspect.js';
import { Spool } from './archive/spool.js';
import { ByteReader } from './archive/streams.js';
import { HeadBuffer } from './head.js';
import { sniff } from './sniff.js';
import type { Detector, DetectorRun, Finding, FinishInfo, ScanContext } from './types.js';

const MIB = 1024 * 1024;

export interface ArchiveOptions {
  /** Archives at this nesting depth (`ScanContext.depth`) or deeper are not opened: names and declared sizes are still checked. Default 8 (the scanner stops at 4). */
  readonly maxDepth?: number;
  /** Members looked at in an archive and all the archives inside it. Default 100_000 (the scanner scans 10_000). */
  readonly maxMembers?: number;
  /** Decompressed bytes of one member handed to the scanner. Default 1 GiB. */
  readonly maxMemberBytes?: number;
  /** Decompressed bytes for an archive and all the archives inside it. Default 4 GiB (the scanner stops at 1 GiB). */
  readonly maxTotalBytes?: number;
  /** Expansion (output ÷ compressed input) above which large output is a bomb. Default 100. */
  readonly bombRatio?: number;
  /** Output size from which `bombRatio` applies; small, very compressible members are normal. Default 16 MiB. */
  readonly bombMinBytes?: number;
  /** Archive bytes kept in memory; larger archives go to an unlinked temp file. Default 1 MiB. */
  readonly memoryBytes?: number;
  /** Archive bytes kept at all; past this only the start is inspected (zip's directory is then missing). Default 2 GiB. */
  readonly maxArchiveBytes?: number;
  /** Time for an archive and everything nested in it; `ScanContext.signal` also stops it. Default 600_000. */
  readonly timeoutMs?: number;
  /** Directory for the temp file. Default `os.tmpdir()`. */
  readonly tmpDir?: string;
}

interface Settings extends ArchiveLimits {
  readonly memoryBytes: number;
  readonly maxArchiveBytes: number;
  readonly tmpDir: string;
}

type ArchiveType = 'zip' | 'tar' | 'gzip';
const ARCHIVE_TYPES: ReadonlySet<string> = new Set<ArchiveType>(['zip', 'tar', 'gzip']);

/**
 * Inspects zip, tar and gzip archives; rule ids are `archive/<kind>`. Other
 * content answers `ran: false`.
 *
 * @example
 * const scanner = createScanner({ detectors: [archiveDetector({ maxDepth: 3 }), secretsDetector()] });
 */
export function archiveDetector(options: ArchiveOptions = {}): Detector {
  const settings = normalize(options);
  const als = new AsyncLocalStorage<Expansion>();
  return { name: 'archive', start: (ctx) => new ArchiveRun(ctx, settings, als) };
}

function normalize(o: ArchiveOptions): Settings {
  const int = (name: keyof ArchiveOptions, value: unknown, def: number, min: number, max: number): number => {
    if (value === undefined) return def;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new WardenError('E_INVALID_ARGUMENT', `archiveDetector option ${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value) ?? typeof value} (${typeof value}).`);
    }
    return value;
  };
  const ratio = o.bombRatio ?? 100;
  if (typeof ratio !== 'number' || !Number.isFinite(ratio) || ratio < 2) {
    throw new WardenError('E_INVALID_ARGUMENT', `archiveDetector option bombRatio must be a number of at least 2, got ${JSON.stringify(ratio) ?? typeof ratio} (${typeof ratio}).`);
  }
  if (o.tmpDir !== undefined && (typeof o.tmpDir !== 'string' || o.tmpDir === '')) {
    throw new WardenError('E_INVALID_ARGUMENT', `archiveDetector option tmpDir must be a non-empty path, got ${JSON.stringify(o.tmpDir) ?? typeof o.tmpDir} (${typeof o.tmpDir}).`);
  }
  const maxSafe = Number.MAX_SAFE_INTEGER;
  return Object.freeze({
    maxDepth: int('maxDepth', o.maxDepth, 8, 0, 64),
    maxMembers: int('maxMembers', o.maxMembers, 100_000, 1, 10_000_000),
    maxMemberBytes: int('maxMemberBytes', o.maxMemberBytes, 1024 * MIB, 1, maxSafe),
    maxTotalBytes: int('maxTotalBytes', o.maxTotalBytes, 4096 * MIB, 1, maxSafe),
    bombRatio: ratio,
    bombMinBytes: int('bombMinBytes', o.bombMinBytes, 16 * MIB, 1, maxSafe),
    memoryBytes: int('memoryBytes', o.memoryBytes, MIB, 0, 1024 * MIB),
    maxArchiveBytes: int('maxArchiveBytes', o.maxArchiveBytes, 2048 * MIB, 1, maxSafe),
    timeoutMs: int('timeoutMs', o.timeoutMs, 600_000, 1, 24 * 3600_000),
    tmpDir: o.tmpDir ?? tmpdir(),
  });
}

class ArchiveRun implements DetectorRun {
  readonly #ctx: ScanContext;
  readonly #settings: Settings;
  readonly #als: AsyncLocalStorage<Expansion>;
  readonly #head = new HeadBuffer();
  /** Of the kept bytes; made with the spool. */
  #hash: Hash | undefined;
  /** undefined: not known yet; null: not an archive. */
  #type: ArchiveType | null | undefined;
  #spool: Spool | undefined;
  #failure: unknown;

  constructor(ctx: ScanContext, settings: Settings, als: AsyncLocalStorage<Expansion>) {
    this.#ctx = ctx;
    this.#settings = settings;
    this.#als = als;
  }

  update(chunk: Uint8Array): void {
    if (this.#type === null || this.#failure !== undefined) return;
    try {
      if (this.#type === undefined) {
        // Until the header is complete, every byte so far is in it: nothing is kept or hashed before the decision,
        // so a non-archive costs only its first 8 KiB.
        const took = this.#head.push(chunk);
        if (!this.#head.full) return;
        this.#decide(false);
        if (this.#type === null) return;
        this.#keep(this.#head.bytes());
        chunk = chunk.subarray(took);
      }
      this.#keep(chunk);
    } catch (e) {
      // Disk full or an unwritable tmpDir: finish reports it, so the file is not taken for clean.
      this.#failure = e;
      this.#spool?.close();
    }
  }

  /** Keeps archive bytes, in order, for inspection, and hashes them. */
  #keep(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    (this.#spool ??= new Spool({ memoryBytes: this.#settings.memoryBytes, maxBytes: this.#settings.maxArchiveBytes, tmpDir: this.#settings.tmpDir })).append(bytes);
    (this.#hash ??= createHash('sha256')).update(bytes);
  }

  #decide(complete: boolean): void {
    const type = sniff(this.#head.bytes(), complete).type;
    this.#type = ARCHIVE_TYPES.has(type) ? (type as ArchiveType) : null;
  }

  async finish(info: FinishInfo): Promise<{ ran: boolean; findings: Finding[] }> {
    try {
      if (this.#type === undefined && this.#failure === undefined) {
        // A file shorter than the header: decide now, and keep it if it is an archive.
        this.#decide(true);
        try {
          if (this.#type !== null) this.#keep(this.#head.bytes());
        } catch (e) {
          this.#failure = e;
        }
      }
      if (this.#failure !== undefined) {
        const why = this.#failure instanceof Error ? this.#failure.message : JSON.stringify(this.#failure);
        throw new Error(`The archive could not be kept for inspection (${why}); check that ${this.#settings.tmpDir} is writable and has space, or set tmpDir.`, { cause: this.#failure });
      }
      const type = this.#type;
      const spool = this.#spool;
      if (type === null || type === undefined || spool === undefined) return { ran: false, findings: [] };
      return { ran: true, findings: await this.#inspect(type, spool, info.truncated === true) };
    } finally {
      this[Symbol.dispose]();
    }
  }

  /** Frees the spool (memory or temp file); for a scanner that abandons a run without finishing it. */
  [Symbol.dispose](): void {
    this.#spool?.close();
  }

  async #inspect(type: ArchiveType, spool: Spool, cut: boolean): Promise<Finding[]> {
    const s = this.#settings;
    const sha = (this.#hash ??= createHash('sha256')).digest('hex');
    const parent = this.#als.getStore();
    if (parent?.ancestors.includes(sha) === true) {
      const f = new ArchiveFindings();
      f.add(RULES.recursive, `this ${type} is identical to an archive it is inside`, { offset: 0, length: spool.size }, 1);
      return f.toFindings();
    }
    const expand = this.#ctx.depth < s.maxDepth;
    const inspector = new Inspector({
      src: spool,
      ctx: this.#ctx,
      limits: s,
      budget: parent?.budget ?? new Budget(s),
      als: this.#als,
      ancestors: [...(parent?.ancestors ?? []), sha],
      expand,
    });
    const start = { offset: 0, length: 0 };
    if (!expand) inspector.findings.add(RULES.tooDeep, `a ${type} nested ${this.#ctx.depth} levels deep (the limit is ${s.maxDepth})`, start, 0.9);
    if (spool.dropped > 0) inspector.findings.add(RULES.partlyInspected, `the archive is larger than ${s.maxArchiveBytes} bytes (maxArchiveBytes); only the start was inspected`, start, 1);
    if (cut) inspector.findings.add(RULES.partlyInspected, `the scanner delivered only the first ${spool.size} bytes of the archive`, start, 1);
    switch (type) {
      case 'zip':
        await inspector.zip();
        break;
      case 'tar':
        await inspector.tar(new ByteReader(spool.chunks(0, spool.size)), true);
        break;
      case 'gzip':
        await inspector.gzip();
        break;
    }
    const overall = inspector.expanded / Math.max(1, spool.size);
    if (inspector.expanded >= s.bombMinBytes && overall > s.bombRatio) {
      inspector.findings.add(RULES.zipBomb, `the archive expands ${Math.round(overall)}:1 overall (${inspector.expanded} bytes from ${spool.size})`, start, 0.9);
    }
    return inspector.results();
  }
}
