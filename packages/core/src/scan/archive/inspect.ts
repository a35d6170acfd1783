/**
 * Inspects one spooled archive: checks every member's name, type and sizes,
 * and hands member contents to `ctx.scanMember` through a meter that enforces
 * the limits (bytes per member, bytes and members for the whole nested tree,
 * time, expansion ratio) by ending the stream, which stops decompression.
 */
import type { AsyncLocalStorage } from 'node:async_hooks';
import { HEAD_BYTES, sniff } from '../sniff.js';
import type { Finding, MemberInfo, ScanContext } from '../types.js';
import { ArchiveFindings, RULES, quoteName } from './findings.js';
import { linkEscapes, pathProblem } from './paths.js';
import type { Source } from './spool.js';
import { ByteReader, inflate } from './streams.js';
import { walkTar, type TarKind } from './tar.js';
import { FLAG_ENCRYPTED, METHOD_AES, METHOD_DEFLATE, METHOD_STORED, S_IFBLK, S_IFCHR, S_IFLNK, readCentralDirectory, readLocalHeader, walkLocalHeaders, type ZipEntry } from './zip.js';

/** Limits, validated and defaulted by `archiveDetector`. */
export interface ArchiveLimits {
  readonly maxDepth: number;
  readonly maxMembers: number;
  readonly maxMemberBytes: number;
  readonly maxTotalBytes: number;
  readonly bombRatio: number;
  readonly bombMinBytes: number;
  readonly timeoutMs: number;
}

/** What an archive and everything nested in it may still use. Shared through AsyncLocalStorage. */
export class Budget {
  members: number;
  bytes: number;
  readonly deadline: number;
  /** Shared limits already reported somewhere in the tree: each is reported once. */
  readonly reported = new Set<'members' | 'bytes' | 'time'>();
  constructor(limits: ArchiveLimits) {
    this.members = limits.maxMembers;
    this.bytes = limits.maxTotalBytes;
    this.deadline = Date.now() + limits.timeoutMs;
  }
}

/** The nesting context a member scan runs in: the shared budget and the hashes of the archives around it. */
export interface Expansion {
  readonly budget: Budget;
  readonly ancestors: readonly string[];
}

/** Bytes of a member read to find a symlink's target. */
const MAX_LINK_BYTES = 4096;
/** Decompressor input pieces: small enough that the measured ratio is close to the truth early (a 1000:1 bomb shows at 16 MiB of output). */
const INPUT_BLOCK = 64 * 1024;
/** Declared sizes from here on are absurd for real data. */
const ABSURD_DECLARED_BYTES = 2 ** 40;

type Stop = 'member' | 'total' | 'time' | 'bomb';

interface Meter {
  out: number;
  stop?: Stop;
  ratio?: number;
  error?: string;
}

interface MeterOptions {
  /** Bytes this stream may yield. */
  readonly cap: number;
  /** Count the bytes against the shared budget (not when an outer stream already does). */
  readonly counted: boolean;
  /** Compressed input so far, to measure the expansion ratio. */
  readonly consumed?: () => number;
}

interface Member {
  readonly name: string;
  /** Other names unpackers may use (zip local header, Unicode path field). */
  readonly otherNames?: readonly string[];
  readonly kind: TarKind;
  readonly linkTarget?: string;
  /** Where the member's header is, for evidence. */
  readonly offset: number;
}

export class Inspector {
  readonly findings = new ArchiveFindings();
  readonly #src: Source;
  readonly #ctx: ScanContext;
  readonly #limits: ArchiveLimits;
  readonly #budget: Budget;
  readonly #als: AsyncLocalStorage<Expansion>;
  readonly #child: Expansion;
  /** false past maxDepth: check names and sizes, open nothing. */
  readonly #expand: boolean;
  readonly #names = new Set<string>();
  /** Bytes this archive's members expanded to. */
  expanded = 0;

  constructor(o: { src: Source; ctx: ScanContext; limits: ArchiveLimits; budget: Budget; als: AsyncLocalStorage<Expansion>; ancestors: readonly string[]; expand: boolean }) {
    this.#src = o.src;
    this.#ctx = o.ctx;
    this.#limits = o.limits;
    this.#budget = o.budget;
    this.#als = o.als;
    this.#child = { budget: o.budget, ancestors: o.ancestors };
    this.#expand = o.expand;
  }

  /**
   * The archive's own findings. Members' findings reach the verdict through
   * the scanner (scanMember), not through here.
   */
  results(): Finding[] {
    return this.findings.toFindings();
  }

  async zip(): Promise<void> {
    const src = this.#src;
    const cd = await readCentralDirectory(src, this.#budget.members + 1);
    /** dataStart is undefined when the local header is missing: the name is still checked, nothing is read. */
    const located: { e: ZipEntry; dataStart?: number; localName?: string }[] = [];
    if ('error' in cd) {
      this.findings.add(RULES.corrupt, `${cd.error}; read the local headers instead`, { offset: Math.max(0, src.size - 22), length: 0 }, 0.9);
      for await (const e of walkLocalHeaders(src, this.#budget.members + 1)) {
        if ('error' in e) this.findings.add(RULES.corrupt, e.error, { offset: e.offset, length: 0 }, 0.9);
        else located.push({ e, dataStart: e.dataStart });
      }
    } else {
      for (const p of cd.problems) this.findings.add(RULES.corrupt, p, { offset: Math.max(0, src.size - 22), length: 0 }, 0.8);
      for (const e of cd.entries) {
        const lh = await readLocalHeader(src, e.localOffset);
        if ('error' in lh) {
          this.findings.add(RULES.corrupt, `${quoteName(e.name)}: ${lh.error}`, { offset: e.localOffset, length: 0 }, 0.9);
          located.push({ e });
        } else located.push({ e, dataStart: lh.dataStart, localName: lh.name });
      }
      // With more entries than the budget, the last one read fails #admit and reports it.
    }
    const shadowed = this.#overlaps(located);

    for (const { e, dataStart, localName } of located) {
      const unix = e.unixType;
      const kind: TarKind = unix === S_IFLNK ? 'symlink' : unix === S_IFCHR || unix === S_IFBLK ? 'device' : e.name.endsWith('/') ? 'dir' : 'file';
      const otherNames = [localName, e.unicodeName].filter((n): n is string => n !== undefined && n !== e.name);
      if (localName !== undefined && localName !== e.name) this.findings.add(RULES.nameMismatch, `${quoteName(e.name)} is ${quoteName(localName)} in its local header`, { offset: e.localOffset, length: 30 }, 0.8);
      const evidence = { offset: e.localOffset, length: 30 };
      const encrypted = (e.flags & FLAG_ENCRYPTED) !== 0 || e.method === METHOD_AES;
      const readable = !encrypted && (e.method === METHOD_STORED || e.method === METHOD_DEFLATE);
      const linkTarget = kind === 'symlink' && readable && this.#expand && dataStart !== undefined ? await this.#zipLinkTarget(e, dataStart) : undefined;
      if (!this.#admit({ name: e.name, otherNames, kind, offset: e.localOffset, ...(linkTarget === undefined ? {} : { linkTarget }) })) break;

      if (e.size >= ABSURD_DECLARED_BYTES) this.findings.add(RULES.declaredSize, `${quoteName(e.name)} declares ${e.size} bytes`, evidence, 0.7);
      const declaredRatio = e.size / Math.max(1, e.compressedSize);
      if (e.size >= this.#limits.bombMinBytes && declaredRatio > this.#limits.bombRatio) {
        // Declared only (a header can lie either way); the measured ratio, when it is expanded, is surer.
        this.findings.add(RULES.zipBomb, `${quoteName(e.name)} declares ${e.size} bytes from ${e.compressedSize} (${Math.round(declaredRatio)}:1)`, evidence, 0.7);
      }
      if (dataStart === undefined) continue;
      if (dataStart + e.compressedSize > src.size) this.findings.add(RULES.corrupt, `the data of ${quoteName(e.name)} is cut off`, evidence, 0.9);
      if (kind !== 'file' || shadowed.has(e)) continue;
      if (encrypted) {
        this.findings.add(RULES.encrypted, `${quoteName(e.name)} is encrypted`, evidence, 1);
        continue;
      }
      if (!readable) {
        this.findings.add(RULES.unsupported, `${quoteName(e.name)} uses compression method ${e.method}`, evidence, 1);
        continue;
      }
      if (!this.#expand || !this.#budgetLeft(evidence.offset)) continue;
      const input = src.chunks(dataStart, e.compressedSize, INPUT_BLOCK);
      if (e.method === METHOD_STORED) {
        await this.#scan(e.name, input, { cap: this.#limits.maxMemberBytes, counted: true }, evidence.offset, e.size);
      } else {
        const d = inflate(input, 'raw');
        await this.#scan(e.name, d.data, { cap: this.#limits.maxMemberBytes, counted: true, consumed: d.consumed }, evidence.offset, e.size);
      }
    }
  }

  /**
   * Entries whose bytes overlap another's (all pointing at the same data, or
   * the overlapping-kernel bomb): reported once per group; only the first of
   * each group is scanned, so shared data costs one expansion.
   */
  #overlaps(located: readonly { e: ZipEntry; dataStart?: number }[]): Set<ZipEntry> {
    const ranges = located.flatMap((l) => (l.dataStart === undefined ? [] : [{ e: l.e, start: l.e.localOffset, end: l.dataStart + l.e.compressedSize }]));
    ranges.sort((a, b) => a.start - b.start || a.end - b.end);
    const shadowed = new Set<ZipEntry>();
    for (let i = 0; i < ranges.length; ) {
      let end = ranges[i]!.end;
      let j = i + 1;
      while (j < ranges.length && ranges[j]!.start < end) end = Math.max(end, ranges[j++]!.end);
      if (j - i > 1) {
        const group = ranges.slice(i, j);
        for (const r of group.slice(1)) shadowed.add(r.e);
        const names = group.slice(0, 2).map((r) => quoteName(r.e.name)).join(', ');
        this.findings.add(RULES.overlapping, `${j - i} members (${names}, …) share the bytes at offsets ${ranges[i]!.start}–${end}`, { offset: ranges[i]!.start, length: end - ranges[i]!.start }, 0.95);
      }
      i = j;
    }
    return shadowed;
  }

  async #zipLinkTarget(e: ZipEntry, dataStart: number): Promise<string | undefined> {
    const input = this.#src.chunks(dataStart, Math.min(e.compressedSize, MAX_LINK_BYTES * 4), INPUT_BLOCK);
    const parts: Uint8Array[] = [];
    let n = 0;
    try {
      const data = e.method === METHOD_STORED ? input : inflate(input, 'raw').data;
      for await (const c of data) {
        parts.push(Uint8Array.from(c.subarray(0, MAX_LINK_BYTES - n)));
        n += parts[parts.length - 1]!.length;
        if (n >= MAX_LINK_BYTES) break;
      }
    } catch {
      // a damaged target reads as what decoded
    }
    return Buffer.concat(parts).toString('utf8');
  }

  /** A tar stream; `counted` is false when an outer (gzip) meter already counts the bytes. */
  async tar(reader: ByteReader, counted: boolean, outer?: Meter): Promise<void> {
    const walk = await walkTar(reader, async (entry, body) => {
      if (!this.#admit(entry)) return 'stop';
      if (this.#timeUp()) {
        this.#budgetLeft(entry.offset); // reports the time limit
        return 'stop';
      }
      // Past the byte budget the walk goes on for the names (a gzip around it stops by itself).
      if (entry.kind !== 'file' || !this.#expand || !this.#budgetLeft(entry.offset)) return 'continue';
      await this.#scan(entry.name, body, { cap: this.#limits.maxMemberBytes, counted }, entry.offset, entry.size);
      return 'continue';
    });
    // A stop of the outer stream cuts the tar short: that is the limit, not damage.
    if (walk.error !== undefined && outer?.stop === undefined) this.findings.add(RULES.corrupt, walk.error, { offset: reader.position, length: 0 }, 0.9);
  }

  /** A gzip stream: a tar inside is walked directly, anything else is one member. */
  async gzip(): Promise<void> {
    const src = this.#src;
    const head = await src.read(0, Math.min(src.size, 1024));
    const isize = src.size >= 18 ? (await src.read(src.size - 4, 4)).readUInt32LE(0) : 0;
    const innerName = gzipName(head) ?? defaultInnerName(this.#ctx.name);
    const evidence = { offset: 0, length: Math.min(10, src.size) };
    if (isize >= this.#limits.bombMinBytes && isize / src.size > this.#limits.bombRatio) {
      this.findings.add(RULES.zipBomb, `the gzip trailer declares ${isize} bytes (mod 2^32) from ${src.size} (${Math.round(isize / src.size)}:1)`, evidence, 0.6);
    }
    if (!this.#admit({ name: innerName, kind: 'file', offset: 0 }) || !this.#expand || !this.#budgetLeft(0)) return;
    const d = inflate(src.chunks(0, src.size, INPUT_BLOCK), 'gzip');
    const g: Meter = { out: 0 };
    const reader = new ByteReader(this.#metered(d.data, g, { cap: Number.MAX_SAFE_INTEGER, counted: true, consumed: d.consumed }));
    try {
      const first = Uint8Array.from(await reader.read(HEAD_BYTES));
      const inner = withHead(first, reader.rest());
      if (sniff(first, first.length < HEAD_BYTES).type === 'tar') {
        this.#budget.members++; // the tar's members count, not the tar itself
        await this.tar(new ByteReader(inner), false, g);
      } else {
        await this.#scan(innerName, inner, { cap: this.#limits.maxMemberBytes, counted: false }, 0);
      }
    } finally {
      await reader.close();
    }
    this.#report(innerName, g, 0);
  }

  /** Counts a member against the budget and checks its name and type; false when the member budget is spent. */
  #admit(m: Member): boolean {
    if (this.#budget.members <= 0) {
      if (this.#once('members')) this.findings.add(RULES.tooManyMembers, `more than ${this.#limits.maxMembers} members in this archive and the archives inside it`, { offset: m.offset, length: 0 }, 0.9);
      return false;
    }
    this.#budget.members--;
    const evidence = { offset: m.offset, length: 0 };
    for (const name of [m.name, ...(m.otherNames ?? [])]) {
      const problem = pathProblem(name);
      if (problem === 'traversal') this.findings.add(RULES.traversal, `${quoteName(name)} climbs out with ..`, evidence, 0.95);
      else if (problem === 'absolute') this.findings.add(RULES.absolutePath, `${quoteName(name)} is an absolute path`, evidence, 0.8);
    }
    if (m.kind === 'symlink' && m.linkTarget !== undefined && linkEscapes(m.name, m.linkTarget)) {
      this.findings.add(RULES.symlinkEscape, `symlink ${quoteName(m.name)} points to ${quoteName(m.linkTarget)}`, evidence, 0.95);
    }
    if (m.kind === 'hardlink' && m.linkTarget !== undefined && pathProblem(m.linkTarget) !== undefined) {
      this.findings.add(RULES.symlinkEscape, `hard link ${quoteName(m.name)} points to ${quoteName(m.linkTarget)}`, evidence, 0.95);
    }
    if (m.kind === 'device') this.findings.add(RULES.deviceMember, `${quoteName(m.name)} is a device node`, evidence, 0.9);
    if (m.kind === 'file') {
      if (this.#names.has(m.name)) this.findings.add(RULES.duplicateName, `${quoteName(m.name)} appears more than once`, evidence, 0.9);
      else this.#names.add(m.name);
    }
    return true;
  }

  /** True the first time a shared limit is reported in the whole tree. */
  #once(limit: 'members' | 'bytes' | 'time'): boolean {
    if (this.#budget.reported.has(limit)) return false;
    this.#budget.reported.add(limit);
    return true;
  }

  /** Our deadline passed, or the scanner's signal (its own time budget, or the caller) aborted. */
  #timeUp(): boolean {
    return Date.now() > this.#budget.deadline || this.#ctx.signal?.aborted === true;
  }

  /** False (with a finding) once the shared byte budget or the time is spent. */
  #budgetLeft(offset: number): boolean {
    if (this.#timeUp()) {
      if (this.#once('time')) this.findings.add(RULES.partlyInspected, `the time limit of ${this.#limits.timeoutMs} ms ran out`, { offset, length: 0 }, 1);
      return false;
    }
    if (this.#budget.bytes <= 0) {
      if (this.#once('bytes')) this.findings.add(RULES.partlyInspected, `the limit of ${this.#limits.maxTotalBytes} expanded bytes ran out`, { offset, length: 0 }, 1);
      return false;
    }
    return true;
  }

  /**
   * Hands a member to the scanner. `declared` is its size from the archive's
   * headers: passed on (the scanner flags a header that lies) unless a limit
   * will cut the member short anyway.
   */
  async #scan(name: string, data: AsyncIterable<Uint8Array>, options: MeterOptions, offset: number, declared?: number): Promise<void> {
    const m: Meter = { out: 0 };
    const stream = this.#metered(data, m, options);
    const { bombMinBytes } = this.#limits;
    const fits = declared !== undefined && declared <= options.cap && declared <= this.#budget.bytes && (options.consumed === undefined || declared < bombMinBytes);
    const info: MemberInfo = fits ? { size: declared } : {};
    try {
      await this.#als.run(this.#child, () => this.#ctx.scanMember(name, stream, info));
    } finally {
      await stream.return(undefined); // stops decompression if the scanner did not read to the end
    }
    this.#report(name, m, offset);
  }

  #report(name: string, m: Meter, offset: number): void {
    const evidence = { offset, length: 0 };
    switch (m.stop) {
      case 'bomb':
        this.findings.add(RULES.zipBomb, `${quoteName(name)} expands more than ${Math.floor(m.ratio ?? 0)}:1 (stopped after ${m.out} bytes)`, evidence, 0.95, { incomplete: true });
        break;
      case 'member':
        this.findings.add(RULES.partlyInspected, `${quoteName(name)} was scanned up to the limit of ${this.#limits.maxMemberBytes} bytes per member`, evidence, 1);
        break;
      case 'total':
        if (this.#once('bytes')) this.findings.add(RULES.partlyInspected, `the limit of ${this.#limits.maxTotalBytes} expanded bytes ran out in ${quoteName(name)}`, evidence, 1);
        break;
      case 'time':
        if (this.#once('time')) this.findings.add(RULES.partlyInspected, `the time limit of ${this.#limits.timeoutMs} ms ran out in ${quoteName(name)}`, evidence, 1);
        break;
      case undefined:
        break;
    }
    if (m.error !== undefined) this.findings.add(RULES.corrupt, `${quoteName(name)} does not decompress: ${m.error}`, evidence, 0.9);
  }

  /**
   * Yields `data` until a limit is hit, then returns, which stops the source.
   * Never throws: a decoding error ends the stream and is kept in `m.error`.
   */
  async *#metered(data: AsyncIterable<Uint8Array>, m: Meter, o: MeterOptions): AsyncGenerator<Uint8Array> {
    const budget = this.#budget;
    const { bombRatio, bombMinBytes } = this.#limits;
    try {
      for await (const chunk of data) {
        if (this.#timeUp()) {
          m.stop = 'time';
          return;
        }
        const allowed = Math.min(o.cap - m.out, o.counted ? budget.bytes : Number.MAX_SAFE_INTEGER);
        const piece = chunk.length > allowed ? chunk.subarray(0, Math.max(0, allowed)) : chunk;
        m.out += piece.length;
        this.expanded += o.counted ? piece.length : 0;
        if (o.counted) budget.bytes -= piece.length;
        if (piece.length > 0) yield piece;
        if (piece.length < chunk.length) {
          m.stop = m.out >= o.cap ? 'member' : 'total';
          return;
        }
        if (o.consumed !== undefined && m.out >= bombMinBytes && m.out > bombRatio * Math.max(1, o.consumed())) {
          m.stop = 'bomb';
          m.ratio = m.out / Math.max(1, o.consumed());
          return;
        }
      }
    } catch (e) {
      m.error = e instanceof Error ? e.message : String(e);
    }
  }
}

async function* withHead(head: Uint8Array, rest: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  if (head.length > 0) yield head;
  yield* rest;
}

/** The FNAME field of a gzip header, if any. */
function gzipName(h: Uint8Array): string | undefined {
  if (h.length < 10 || (h[3]! & 0x08) === 0) return undefined;
  let i = 10;
  if ((h[3]! & 0x04) !== 0) i += 2 + (h[10]! | (h[11]! << 8)); // FEXTRA
  const end = h.indexOf(0, i);
  return end > i ? Buffer.from(h.subarray(i, end)).toString('latin1') : undefined;
}

function defaultInnerName(outer: string): string {
  const base = outer.slice(Math.max(outer.lastIndexOf('/'), outer.lastIndexOf('\\')) + 1);
  if (/\.tgz$/i.test(base)) return base.replace(/\.tgz$/i, '.tar');
  if (/\.gz$/i.test(base)) return base.replace(/\.gz$/i, '');
  return base === '' ? 'data' : `${base}.out`;
}
