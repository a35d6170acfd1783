/**
 * Hands out host uids for sandboxes from a reserved range, one per sandbox, so
 * sandboxes own nothing on the host and cannot touch each other. Leases are
 * lock files (O_EXCL) holding the owner's pid, so several engines and
 * processes share the range safely; a lease whose owner died is reclaimed.
 */
import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { WardenError } from '@warden/protocol';

export interface UidRange {
  readonly start: number;
  readonly count: number;
}

export interface UidLease {
  readonly uid: number;
  release(): Promise<void>;
}

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
  #cursor: number;

  constructor(lockDir: string, range: UidRange) {
    this.#dir = lockDir;
    this.#range = range;
    this.#cursor = Math.floor(Math.random() * range.count);
  }

  async acquire(): Promise<UidLease> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    for (let tries = 0; tries < this.#range.count; tries++) {
      const uid = this.#range.start + (this.#cursor++ % this.#range.count);
      const path = `${this.#dir}/${uid}`;
      const lease = await this.#tryLock(path);
      if (!lease) continue;
      return {
        uid,
        release: async () => {
          await unlink(path).catch(() => undefined);
        },
      };
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
