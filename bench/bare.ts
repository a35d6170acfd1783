/**
 * The baselines Warden is measured against: plain `bwrap` with Warden's own
 * profile (`bwrapArgs`, same namespaces, binds and seccomp filter) running
 * /bin/true as an unprivileged uid, and the same behind `warden-launch`
 * (capped tmpfs, rlimits, uid drop) but without cgroups, uid leases,
 * workspaces or the agent protocol. Bare bwrap can run another command in
 * the same profile (section (a) times `python3 -c pass` with it).
 */
import { spawn } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, open, rm, writeFile, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentBinaryPath, launcherBinaryPath } from '@warden/agent';
import { PROC_MASKED, SANDBOX_AGENT_PATH, bwrapArgs, etcFiles, launcherArgs } from '../packages/core/src/runtimes/bwrap/argv.js';
import { seccompBytes } from '../packages/core/src/runtimes/bwrap/seccomp.js';
import { hostRoot } from '../packages/core/src/runtimes/bwrap/host-root.js';

/** Below Warden's default uid range (1.8e9…), so it never collides with a lease. */
export const BARE_UID = 1_799_990_000;
const MiB = 1024 * 1024;

export interface BareProfile extends AsyncDisposable {
  readonly uid: number;
  /** bwrap argv: Warden's profile with /bin/true in place of the agent. */
  readonly bwrapArgv: readonly string[];
  /** warden-launch argv (no cgroups) that execs bwrap with `bwrapArgv`. */
  readonly launchArgv: readonly string[];
  /**
   * Runs bare bwrap as `uid` (Node drops privileges in the child) and waits
   * for it to exit 0. `command` replaces /bin/true (an absolute path: the
   * environment is empty, so there is no PATH).
   */
  runBwrap(command?: readonly string[]): Promise<void>;
  /** Runs warden-launch (as root; it drops to `uid`) → bwrap, and waits for exit. */
  runLaunch(): Promise<void>;
}

/** Spawns with the seccomp filter on fd 3 (a fresh fd each time: bwrap reads it to EOF). */
async function runWithFilter(file: string, args: readonly string[], filterPath: string, ids?: { uid: number; gid: number }): Promise<void> {
  const filter = await open(filterPath, 'r');
  let child;
  try {
    child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe', filter.fd], env: {}, ...ids });
  } finally {
    await filter.close();
  }
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c, s) => resolve([c, s]));
  });
  if (code !== 0) throw new Error(`${file} exited ${code ?? signal}: ${stderr.trim()}`);
}

export async function bareProfile(bwrapPath = '/usr/bin/bwrap', uid = BARE_UID): Promise<BareProfile> {
  const root = await mkdtemp(join(tmpdir(), 'warden-bench-bare-'));
  try {
    await chmod(root, 0o711);
    const etcDir = join(root, 'etc');
    const stageTmp = join(root, 'stage/tmp');
    const stageShm = join(root, 'stage/shm');
    const workspace = join(root, 'ws');
    const seccomp = join(root, 'seccomp.bpf');
    await mkdir(etcDir, { mode: 0o755 });
    for (const [name, text] of Object.entries(etcFiles())) await writeFile(join(etcDir, name), text, { mode: 0o644 });
    await writeFile(seccomp, seccompBytes(), { mode: 0o600 });
    await mkdir(join(root, 'stage'), { mode: 0o711 });
    // Without the launcher these are plain directories, writable like the tmpfs it would mount.
    for (const d of [stageTmp, stageShm]) {
      await mkdir(d);
      await chmod(d, 0o1777);
    }
    await mkdir(workspace, { mode: 0o700 });
    await chown(workspace, uid, uid);
    const procMasked: string[] = [];
    for (const f of PROC_MASKED) if (await access(f).then(() => true, () => false)) procMasked.push(f);

    const full = bwrapArgs({
      hostname: 'sandbox',
      agentHostPath: agentBinaryPath,
      workspaceHostPath: workspace,
      stageTmp,
      stageShm,
      etcDir,
      hostRoot: await hostRoot(),
      procMasked,
    });
    if (full[full.length - 1] !== SANDBOX_AGENT_PATH) throw new Error('bwrapArgs no longer ends with the agent path; update bench/bare.ts');
    const profile = full.slice(0, -1);
    const bwrapArgv = [...profile, '/bin/true'];
    const launchArgv = launcherArgs(
      { cgroupProcsFiles: [], stageTmp, stageShm, tmpBytes: 64 * MiB, tmpInodes: 16_384, uid, gid: uid, nofile: 1024, fileSizeBytes: 1024 * MiB, bwrapPath },
      bwrapArgv,
    );
    return {
      uid,
      bwrapArgv,
      launchArgv,
      runBwrap: (command) => runWithFilter(bwrapPath, command ? [...profile, ...command] : bwrapArgv, seccomp, { uid, gid: uid }),
      runLaunch: () => runWithFilter(launcherBinaryPath, launchArgv, seccomp),
      [Symbol.asyncDispose]: () => rm(root, { recursive: true, force: true }),
    };
  } catch (err) {
    await rm(root, { recursive: true, force: true });
    throw err;
  }
}
