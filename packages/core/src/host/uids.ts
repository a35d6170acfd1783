/**
 * Hands out host uids for sandboxes from a reserved range, one per sandbox, so
 * sandboxes own nothing on the host and cannot touch each other. An engine
 * leases blocks of uids with lock files (created whole with link(2), holding
 * the owner process's identity), so several engines and processes share the
 * range safely and a block whose owner died is reclaimed; within its blocks
 * an engine hands uids out from memory, reusing a uid only after the sandbox
 * that had it is gone.
 *
 * A stale block is reclaimed only when its owner is dead (pid, start time and
 * boot id all checked, so a reused pid does not keep a block forever) *and*
 * no process runs as any of its uids: a uid must never be handed to a new
 * sandbox while a process of an old one still runs as it. The engine and
 * crash recovery use the same rule (`reapUidLock`).
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { WardenError } from '@warden/protocol';
import { currentProcess, isProcessIdentity, liveness, pidLiveness, pidsRunningAs, type Liveness, type ProcessIdentity } from './processes.js';

export interface UidRange {
  readonly start: number;
  readonly count: number;
}

export interface UidLease {
  readonly uid: number;
  /** Gives the uid back; call only when nothing of the sandbox runs any more. */
  release(): Promise<void>;
}

export const UID_BLOCK_SIZE = 256;
/** A lock file that cannot be read as an owner (a writer of an older version died mid-write) counts as stale after this. */
export const UNREADABLE_LOCK_STALE_MS = 60_000;

/** What a block lock file says. `owner` is a bare pid for lock files of older versions. */
export interface UidLock {
  readonly owner: ProcessIdentity | number | undefined;
  readonly block: UidRange;
}

/** Parses a lock file; `name` (block-<start>) gives the block when the file does not. */
export function parseUidLock(text: string, name: string): UidLock {
  const fromName = Number(/^block-(\d+)$/.exec(name)?.[1] ?? NaN);
  const fallback = { start: fromName, count: UID_BLOCK_SIZE };
  if (/^\d+$/.test(text.trim())) return { owner: Number(text.trim()), block: fallback };
  try {
    const v = JSON.parse(text) as { owner?: unknown; start?: unknown; count?: unknown };
    const block = Number.isSafeInteger(v.start) && Number.isSafeInteger(v.count) ? { start: v.start as number, count: v.count as number } : fallback;
    return { owner: isProcessIdentity(v.owner) ? v.owner : undefined, block };
  } catch {
    return { owner: undefined, block: fallback };
  }
}

async function lockLiveness(lock: UidLock, path: string): Promise<Liveness> {
  if (typeof lock.owner === 'number') return pidLiveness(lock.owner);
  if (lock.owner) return liveness(lock.owner);
  const st = await stat(path).catch(() => undefined);
  return st && Date.now() - st.mtimeMs > UNREADABLE_LOCK_STALE_MS ? 'dead' : 'unknown';
}

export type ReapResult = 'reaped' | 'held' | 'busy' | 'gone';

/**
 * Removes the block lock at `path` if its owner is dead and nothing runs as
 * its uids: 'reaped'. Otherwise 'held' (owner alive or unknown, or `only`
 * refused it), 'busy' (owner dead, but a process still runs as one of its
 * uids; `busyPids` names them) or 'gone' (no such file).
 *
 * Two reapers may judge the same stale file at once. Each renames it to a
 * private name first and deletes it only if it is still the file it judged;
 * a reaper that grabbed a fresh lock (created after the other reaper removed
 * the stale one) links it back.
 */
export async function reapUidLock(path: string, only?: (lock: UidLock) => boolean, busyPids?: number[]): Promise<ReapResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw err;
  }
  const lock = parseUidLock(text, basename(path));
  if ((only && !only(lock)) || (await lockLiveness(lock, path)) !== 'dead') return 'held';
  if (Number.isSafeInteger(lock.block.start) && lock.block.count > 0) {
    const running = await pidsRunningAs(lock.block);
    if (running.length > 0) {
      busyPids?.push(...running);
      return 'busy';
    }
  }
  const grabbed = `${dirname(path)}/.reap-${basename(path)}-${randomBytes(6).toString('hex')}`;
  try {
    await rename(path, grabbed);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw err;
  }
  if ((await readFile(grabbed, 'utf8').catch(() => undefined)) === text) {
    await unlink(grabbed);
    return 'reaped';
  }
  await link(grabbed, path).catch(() => undefined);
  await unlink(grabbed).catch(() => undefined);
  return 'held';
}

export class UidPool {
  readonly #dir: string;
  readonly #range: UidRange;
  readonly #blockSize: number;
  readonly #blocks = new Map<number, string>();
  /** Free uids of leased blocks, oldest-released first. */
  readonly #free: number[] = [];
  #leasing: Promise<void> | undefined;
  #cursor: number;

  constructor(lockDir: string, range: UidRange, blockSize = UID_BLOCK_SIZE) {
    this.#dir = lockDir;
    this.#range = range;
    this.#blockSize = Math.min(blockSize, range.count);
    this.#cursor = Math.floor(Math.random() * this.#blockCount);
  }

  get #blockCount(): number {
    return Math.floor(this.#range.count / this.#blockSize);
  }

  async acquire(): Promise<UidLease> {
    while (this.#free.length === 0) {
      this.#leasing ??= this.#leaseBlock().finally(() => (this.#leasing = undefined));
      await this.#leasing;
    }
    const uid = this.#free.shift() as number;
    let released = false;
    return {
      uid,
      release: () => {
        if (!released && this.#blocks.size > 0) this.#free.push(uid);
        released = true;
        return Promise.resolve();
      },
    };
  }

  /** Lock files this pool holds (for leak checks). */
  lockFiles(): string[] {
    return [...this.#blocks.values()];
  }

  /** Gives every block back. Call once no sandbox of this pool runs. */
  async close(): Promise<void> {
    const files = this.lockFiles();
    this.#blocks.clear();
    this.#free.length = 0;
    await Promise.all(files.map((f) => unlink(f).catch(() => undefined)));
  }

  async #leaseBlock(): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    for (let tries = 0; tries < this.#blockCount; tries++) {
      const start = this.#range.start + (this.#cursor++ % this.#blockCount) * this.#blockSize;
      if (this.#blocks.has(start)) continue;
      const path = `${this.#dir}/block-${start}`;
      if (!(await this.#tryLock(path, start))) continue;
      this.#blocks.set(start, path);
      for (let i = 0; i < this.#blockSize; i++) this.#free.push(start + i);
      return;
    }
    throw new WardenError('E_CAPACITY', `All ${this.#range.count} sandbox uids from ${this.#range.start} are in use. Close sandboxes or widen uidRange.`);
  }

  async #tryLock(path: string, start: number): Promise<boolean> {
    // Written aside and linked into place: the lock appears whole (owner
    // included) or not at all, so nobody ever sees a half-written one.
    const draft = `${this.#dir}/.new-${basename(path)}-${randomBytes(6).toString('hex')}`;
    await writeFile(draft, JSON.stringify({ owner: currentProcess(), start, count: this.#blockSize }), { mode: 0o600 });
    try {
      for (let attempt = 0; attempt < 2; attempt++) {
        try {
          await link(draft, path);
          return true;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
        const r = await reapUidLock(path);
        if (r === 'held' || r === 'busy') return false;
      }
      return false;
    } finally {
      await unlink(draft).catch(() => undefined);
    }
  }
}
