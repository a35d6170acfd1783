/**
 * Hands out host uids for sandboxes from a reserved range, one per sandbox, so
 * sandboxes own nothing on the host and cannot touch each other. An engine
 * leases blocks of uids with lock files (O_EXCL, holding the owner's pid), so
 * several engines and processes share the range safely and a block whose
 * owner died is reclaimed; within its blocks an engine hands uids out from
 * memory, reusing a uid only after the sandbox that had it is gone.
 */
import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { WardenError } from '@warden/protocol';

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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
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
      if (!(await this.#tryLock(path))) continue;
      this.#blocks.set(start, path);
      for (let i = 0; i < this.#blockSize; i++) this.#free.push(start + i);
      return;
    }
    throw new WardenError('E_CAPACITY', `All ${this.#range.count} sandbox uids from ${this.#range.start} are in use. Close sandboxes or widen uidRange.`);
  }

  async #tryLock(path: string): Promise<boolean> {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fh = await open(path, 'wx', 0o600);
        await fh.writeFile(String(process.pid));
        await fh.close();
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const owner = Number(await readFile(path, 'utf8').catch(() => ''));
        // Empty file: another process is between open and write; treat as taken.
        if (!owner || alive(owner)) return false;
        await unlink(path).catch(() => undefined);
      }
    }
    return false;
  }
}
