/**
 * A codebase workspace for a container. dockerd cannot see a launcher's
 * private mount namespace, so the layers (a read-only bind of the view, the
 * overlays with their uppers on one capped tmpfs) are mounted by
 * `warden-launch --host-ns` in the host's namespace under the sandbox's
 * state dir, and that directory is bound into the container. The host reads
 * the delta where it is mounted; kill() unmounts it all, and crash recovery
 * unmounts whatever a dead engine left under its state dir.
 */
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { promisify } from 'node:util';
import { WardenError } from '@warden/protocol';
import type { DeltaPaths, WorkspaceMount } from '../driver.js';
import { unmountUnder } from '../../recovery/mounts.js';
import { codebaseArgs, codebaseLaunch } from '../launcher.js';

const run = promisify(execFile);

export type CodebaseMount = Extract<WorkspaceMount, { kind: 'codebase' }>;

export interface HostLayout {
  /** The workspace root, bound into the container as /workspace. */
  readonly ws: string;
  /** Mount point of the tmpfs holding every overlay's upper and work dirs. */
  readonly delta: string;
}

export const hostLayout = (dir: string): HostLayout => ({ ws: `${dir}/ws`, delta: `${dir}/delta` });

/** argv for `warden-launch --host-ns` (pure; the same options the bwrap path gives it, minus the namespace). */
export function hostMountArgs(w: CodebaseMount, l: HostLayout): string[] {
  return ['--host-ns', ...codebaseArgs(codebaseLaunch(w, l.ws, l.delta))];
}

/** Where the host finds what the sandbox changed. */
export function deltaPaths(w: CodebaseMount, l: HostLayout): DeltaPaths {
  return { merged: l.ws, uppers: w.overlays.map((o, i) => ({ prefix: o.prefix, path: `${l.delta}/${i}/upper` })) };
}

/** Mounts the layers under `dir` (which must not exist yet, or be empty); on failure nothing stays mounted. */
export async function mountCodebase(launcherPath: string, w: CodebaseMount, dir: string): Promise<DeltaPaths> {
  const l = hostLayout(dir);
  await mkdir(l.ws, { recursive: true, mode: 0o700 });
  await mkdir(l.delta, { mode: 0o700 });
  try {
    await run(launcherPath, hostMountArgs(w, l), { env: {}, timeout: 30_000 });
  } catch (err) {
    await unmountUnder(dir).catch(() => undefined);
    const stderr = (err as { stderr?: string }).stderr?.trim();
    throw new WardenError('E_SANDBOX_START_FAILED', `Could not mount the codebase workspace for a docker sandbox: ${stderr || (err as Error).message}`, { cause: err });
  }
  return deltaPaths(w, l);
}

/** Unmounts everything at or below `dir` (idempotent). */
export async function unmountCodebase(dir: string): Promise<void> {
  await unmountUnder(dir);
}
