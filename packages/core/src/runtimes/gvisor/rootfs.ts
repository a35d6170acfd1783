/**
 * The read-only root of every gVisor sandbox of an engine, as a plan: a
 * directory made once, holding mount points, the host's bin/lib symlinks,
 * Warden's /etc files and the agent. Pure. runsc's gofer serves it read-only
 * and the OCI mounts (spec.ts) fill its mount points.
 *
 * The agent and Warden's /etc files are copied in rather than bind-mounted:
 * the root never changes, so runsc can cache it (`--file-access=exclusive`,
 * its default for the root), and fewer mounts mean fewer gofer connections.
 */
import { SANDBOX_AGENT_PATH, SANDBOX_WORKSPACE } from '../driver.js';
import { etcFiles, type HostRootEntry } from '../bwrap/argv.js';
import { SANDBOX_NET_DIR } from '../../net/env.js';

/** Where the statx compatibility library sits inside the sandbox (see packages/agent/src/gvisor-compat.c). */
export const SANDBOX_COMPAT_LIB = '/.warden/gvisor-compat.so';

/** A host /etc entry passed through to the sandbox. */
export type EtcEntry =
  | { readonly path: string; readonly kind: 'dir' | 'file' }
  /** Recreated as the same symlink (e.g. /etc/localtime into /usr/share/zoneinfo). */
  | { readonly path: string; readonly kind: 'symlink'; readonly target: string };

/** What the sandbox root is made of on this host. */
export interface HostLayout {
  /** bin, sbin, lib… as on the host: symlinks (merged /usr) or directories (bound read-only). */
  readonly root: readonly HostRootEntry[];
  /** The entries of ETC_PASSTHROUGH that exist here. */
  readonly etc: readonly EtcEntry[];
}

export type RootfsEntry =
  | { readonly kind: 'dir'; readonly path: string }
  | { readonly kind: 'symlink'; readonly path: string; readonly target: string }
  | { readonly kind: 'file'; readonly path: string; readonly mode: number; readonly content: string }
  | { readonly kind: 'copy'; readonly path: string; readonly mode: number; readonly source: string };

export interface RootfsInput {
  readonly layout: HostLayout;
  /** Host paths of the files copied in. */
  readonly agentPath: string;
  readonly compatLibPath: string;
}

/**
 * Mount points of the OCI mounts and of what gVisor mounts itself. They must
 * exist: the gofer, which runs as host `nobody`, cannot create them in the
 * root-owned rootfs (runsc would fail with "mkdir /proc/root/dev/shm: permission denied").
 */
const MOUNT_POINT_DIRS = ['/usr', '/etc', '/tmp', '/dev', '/dev/shm', '/proc', '/sys', SANDBOX_WORKSPACE, '/.warden', SANDBOX_NET_DIR];

/** Entries in creation order (parents first), paths relative to the rootfs directory with a leading '/'. */
export function rootfsPlan(input: RootfsInput): RootfsEntry[] {
  const out: RootfsEntry[] = MOUNT_POINT_DIRS.map((path) => ({ kind: 'dir', path }));
  for (const e of input.layout.root) {
    out.push(e.symlinkTo === undefined ? { kind: 'dir', path: `/${e.name}` } : { kind: 'symlink', path: `/${e.name}`, target: e.symlinkTo });
  }
  for (const e of input.layout.etc) {
    if (e.kind === 'symlink') out.push({ kind: 'symlink', path: e.path, target: e.target });
    else if (e.kind === 'dir') out.push({ kind: 'dir', path: e.path });
    else out.push({ kind: 'file', path: e.path, mode: 0o644, content: '' });
  }
  for (const [name, content] of Object.entries(etcFiles())) out.push({ kind: 'file', path: `/etc/${name}`, mode: 0o644, content });
  out.push(
    { kind: 'file', path: '/etc/ld.so.preload', mode: 0o644, content: `${SANDBOX_COMPAT_LIB}\n` },
    { kind: 'copy', path: SANDBOX_AGENT_PATH, mode: 0o755, source: input.agentPath },
    { kind: 'copy', path: SANDBOX_COMPAT_LIB, mode: 0o644, source: input.compatLibPath },
  );
  return out;
}
