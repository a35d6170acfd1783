/**
 * The sandbox's /workspace on the host: a fresh private directory, or a host
 * directory lent to the sandbox for its lifetime. A lent directory is chowned
 * to the sandbox uid (it must be writable by it) and handed back afterwards:
 * every entry goes back to its recorded owner, and entries the sandbox
 * created go to the owner of the directory itself.
 */
import { chownSync, mkdirSync } from 'node:fs';
import { chown, lchown, lstat, readdir, rm, stat } from 'node:fs/promises';
import { WardenError } from '@warden/protocol';

/** Host directories never lent to a sandbox. */
const FORBIDDEN = new Set(['/', '/bin', '/boot', '/dev', '/etc', '/lib', '/lib32', '/lib64', '/proc', '/root', '/run', '/sbin', '/sys', '/usr', '/var', '/home', '/tmp']);

export interface Workspace {
  readonly hostPath: string;
  /** Returns a lent directory to its owner, or deletes a fresh one. Idempotent. */
  release(): Promise<void>;
}

/**
 * Visits every entry below `dir`. Paths are bytes: a name the sandbox made need
 * not be UTF-8, and a decoded-then-re-encoded name would point at nothing.
 */
async function walk(dir: Buffer, visit: (path: Buffer, uid: number, gid: number) => Promise<void>): Promise<void> {
  for (const name of await readdir(dir, { encoding: 'buffer' })) {
    const p = Buffer.concat([dir, SLASH, name]);
    const st = await lstat(p);
    await visit(p, st.uid, st.gid);
    if (st.isDirectory()) await walk(p, visit);
  }
}
const SLASH = Buffer.from('/');
/** A Map key for a byte path (latin1 maps each byte to one character, so it is one-to-one). */
const keyOf = (p: Buffer): string => p.toString('latin1');

export function freshWorkspace(path: string, uid: number, gid: number): Promise<Workspace> {
  // Two metadata calls on a new directory: cheaper inline than via the thread pool.
  mkdirSync(path, { mode: 0o700 });
  chownSync(path, uid, gid);
  let released = false;
  return Promise.resolve({
    hostPath: path,
    release: async () => {
      if (released) return;
      released = true;
      await rm(path, { recursive: true, force: true });
    },
  });
}

export async function lendWorkspace(path: string, uid: number, gid: number, reservedPrefixes: readonly string[]): Promise<Workspace> {
  const clean = path.replace(/\/+$/, '') || '/';
  if (FORBIDDEN.has(clean) || reservedPrefixes.some((r) => clean === r || clean.startsWith(`${r}/`) || r.startsWith(`${clean}/`))) {
    throw new WardenError('E_INVALID_SPEC', `workspace.hostPath ${clean} is a system or Warden directory and cannot be given to a sandbox. Pass a project directory such as /srv/project.`);
  }
  const st = await stat(clean).catch(() => undefined);
  if (!st?.isDirectory()) {
    throw new WardenError('E_INVALID_SPEC', `workspace.hostPath ${clean} is not an existing directory. Create it first or omit workspace for a fresh one.`);
  }
  const owner = { uid: st.uid, gid: st.gid };
  const original = new Map<string, { uid: number; gid: number }>();
  const root = Buffer.from(clean);
  await walk(root, async (p, u, g) => {
    original.set(keyOf(p), { uid: u, gid: g });
    await lchown(p, uid, gid);
  });
  await chown(clean, uid, gid);
  let released = false;
  return {
    hostPath: clean,
    release: async () => {
      if (released) return;
      released = true;
      await walk(root, async (p, u) => {
        // Only entries the sandbox uid owns: anything else was not ours to change.
        if (u !== uid) return;
        const o = original.get(keyOf(p)) ?? owner;
        await lchown(p, o.uid, o.gid);
      });
      await chown(clean, owner.uid, owner.gid);
    },
  };
}

/**
 * Gives back a directory lent by an engine that died without releasing it.
 * The per-entry owners were kept only in that engine's memory, so whatever
 * the sandbox uid owns goes to the directory's recorded owner (as entries
 * the sandbox created do on a normal release). Call only once nothing runs
 * as `uid`. Nothing to do if the directory is gone.
 */
export async function returnLentWorkspace(path: string, uid: number, owner: { readonly uid: number; readonly gid: number }): Promise<void> {
  // The top directory is followed, as lendWorkspace follows it; nothing below it is.
  const st = await stat(path).catch(() => undefined);
  if (!st?.isDirectory()) return;
  await walk(Buffer.from(path), async (p, u) => {
    if (u === uid) await lchown(p, owner.uid, owner.gid);
  });
  if (st.uid === uid) await chown(path, owner.uid, owner.gid);
}
