/**
 * The gVisor runtime: the agent runs on gVisor's user-space kernel (`runsc`,
 * ptrace platform), from an OCI bundle built per sandbox, started through
 * warden-launch (cgroups, capped tmpfs, codebase overlays) like bwrap.
 *
 * Process tree on the host: warden-launch execs `runsc run` (Warden's child;
 * the launcher set PDEATHSIG so it dies with Warden), which starts the gofer
 * and the sentry (`runsc boot --attached`: it dies with `runsc run`), all in
 * the sandbox cgroups. The agent's protocol pipes are runsc's stdin/stdout.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gvisorCompatLibPath } from '@warden/agent';
import { WardenError, type Limits } from '@warden/protocol';
import type { ProbeCheck, RuntimeDriver, RuntimeInstance, RuntimeStartRequest } from '../driver.js';
import { codebaseLaunch, privateDelta, spawnLauncher, type LaunchedRuntime } from '../launcher.js';
import { launcherArgs, runscDeleteArgs, runscRunArgs } from './argv.js';
import { hostLayout } from './host-layout.js';
import { gvisorCgroupLimits } from './limits.js';
import { writeRootfs } from './materialize.js';
import { probeGvisor } from './probe.js';
import { descendants, emptyCgroups, killProcess } from './process-tree.js';
import { rootfsPlan, type HostLayout } from './rootfs.js';
import { ociSpec } from './spec.js';

const execFileP = promisify(execFile);

export interface GvisorDriverOptions {
  readonly runscPath: string;
  readonly agentPath: string;
  readonly launcherPath: string;
  /** Engine-private directory for the shared root, bundles, runsc's state and staging mounts. */
  readonly stateDir: string;
  /** The statx compatibility library (default: the one `npm run build` makes). */
  readonly compatLibPath?: string;
}

const MiB = 1024 * 1024;
/** How long `runsc run` gets to notice its sandbox died before it is killed too. */
const RUNSC_EXIT_GRACE_MS = 2000;
/** How long the sandbox's host processes get to leave its cgroups after SIGKILL. */
const PROCESSES_GONE_MS = 5000;
const DELETE_TIMEOUT_MS = 10_000;

export class GvisorDriver implements RuntimeDriver {
  readonly name = 'gvisor' as const;
  /**
   * The sentry holds the memory of every process of the sandbox: when the
   * cgroup runs out of memory the kernel kills it (or one of its ptrace stubs),
   * and the whole sandbox ends.
   */
  readonly capabilities = { images: false, perProcessOom: false, egress: true } as const;
  readonly #o: GvisorDriverOptions & { readonly compatLibPath: string };
  #prepared: Promise<HostLayout> | undefined;

  constructor(options: GvisorDriverOptions) {
    this.#o = { ...options, compatLibPath: options.compatLibPath ?? gvisorCompatLibPath };
  }

  probe(): Promise<ProbeCheck[]> {
    return probeGvisor(this.#o);
  }

  /** gVisor enforces limits.pids inside; its own threads need more room on the host (limits.ts). */
  cgroupLimits(limits: Readonly<Limits>): Readonly<Limits> {
    return gvisorCgroupLimits(limits);
  }

  get #paths() {
    const d = this.#o.stateDir;
    return {
      rootfs: `${d}/rootfs`,
      runscRoot: `${d}/runsc`,
      bundles: `${d}/bundles`,
      stageTmp: `${d}/stage/tmp`,
      stageShm: `${d}/stage/shm`,
      stageDelta: `${d}/stage/delta`,
      stageWs: `${d}/stage/ws`,
    };
  }

  /**
   * Makes the shared pieces once per engine. Every directory on the way to
   * what the gofer serves is traversable by others: the gofer runs as host
   * `nobody`. runsc's own state stays root's.
   */
  #prepare(): Promise<HostLayout> {
    this.#prepared ??= (async () => {
      const p = this.#paths;
      await mkdir(this.#o.stateDir, { recursive: true, mode: 0o711 });
      for (const dir of [p.stageTmp, p.stageShm, p.stageWs, p.bundles]) await mkdir(dir, { recursive: true, mode: 0o711 });
      await mkdir(p.stageDelta, { recursive: true, mode: 0o700 });
      await mkdir(p.runscRoot, { recursive: true, mode: 0o700 });
      const layout = await hostLayout();
      await writeRootfs(p.rootfs, rootfsPlan({ layout, agentPath: this.#o.agentPath, compatLibPath: this.#o.compatLibPath }));
      return layout;
    })();
    this.#prepared.catch(() => (this.#prepared = undefined));
    return this.#prepared;
  }

  async start(req: RuntimeStartRequest): Promise<RuntimeInstance> {
    const layout = await this.#prepare();
    const p = this.#paths;
    const bundle = `${p.bundles}/${req.sandboxId}`;
    const spec = ociSpec({
      hostname: req.hostname,
      hostUid: req.uid,
      hostGid: req.gid,
      limits: req.limits,
      rootfs: p.rootfs,
      layout,
      workspaceHostPath: req.workspace.kind === 'host' ? req.workspace.path : p.stageWs,
      stageTmp: p.stageTmp,
      stageShm: p.stageShm,
      ...(req.egressDir === undefined ? {} : { egressDir: req.egressDir }),
    });
    // The sentry reads the bundle as host `nobody`: the directory is traversable, the config root's.
    await mkdir(bundle, { mode: 0o711 });
    const removeBundle = (): Promise<void> => rm(bundle, { recursive: true, force: true });
    let launched: LaunchedRuntime;
    try {
      await writeFile(`${bundle}/config.json`, JSON.stringify(spec), { mode: 0o600 });
      const argv = launcherArgs(
        {
          cgroupProcsFiles: req.cgroupProcsFiles,
          stageTmp: p.stageTmp,
          stageShm: p.stageShm,
          tmpBytes: req.limits.tmpMb * MiB,
          tmpInodes: req.limits.tmpInodes,
          runscPath: this.#o.runscPath,
          ...(req.workspace.kind === 'codebase' ? { codebase: codebaseLaunch(req.workspace, p.stageWs, p.stageDelta) } : {}),
        },
        runscRunArgs(p.runscRoot, bundle, req.sandboxId, req.egressDir !== undefined),
      );
      launched = await spawnLauncher(this.#o.launcherPath, argv);
    } catch (err) {
      await removeBundle();
      throw err;
    }
    const { child, exited } = launched;
    const pid = launched.pid;
    const runscRoot = p.runscRoot;
    const runsc = this.#o.runscPath;
    const sandboxId = req.sandboxId;

    /** What runsc keeps of the sandbox once nothing of it runs: its state files, and the bundle. */
    const stateFiles = async (): Promise<string[]> =>
      (await readdir(runscRoot).catch(() => [] as string[])).filter((name) => name.startsWith(`${sandboxId}_`) || name.startsWith(`${sandboxId}.`));
    const removeState = async (): Promise<void> => {
      // `runsc run` removes them itself when its sandbox ends while it runs; not when it was killed first.
      if ((await stateFiles()).length > 0) {
        await execFileP(runsc, runscDeleteArgs(runscRoot, sandboxId), { env: {}, timeout: DELETE_TIMEOUT_MS, killSignal: 'SIGKILL' }).catch(() => undefined);
        // Whatever `delete` could not remove (it refuses a sandbox it cannot load).
        for (const name of await stateFiles()) await rm(`${runscRoot}/${name}`, { recursive: true, force: true });
      }
      await removeBundle();
    };

    let killing: Promise<void> | undefined;
    const kill = (): Promise<void> =>
      (killing ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          // The gofer, the sentry and its stubs first: `runsc run`, still
          // alive, reaps them and then exits on its own.
          const procs = await descendants(pid);
          await Promise.all(procs.map(killProcess));
          const timer = setTimeout(() => child.kill('SIGKILL'), procs.length > 0 ? RUNSC_EXIT_GRACE_MS : 0);
          await exited;
          clearTimeout(timer);
        }
        await exited;
        // Whatever of it outlived `runsc run` (it was killed from outside, say).
        if (!(await emptyCgroups(req.cgroupProcsFiles, PROCESSES_GONE_MS))) {
          throw new WardenError('E_INTERNAL', `gVisor processes of sandbox ${sandboxId} still run ${PROCESSES_GONE_MS} ms after SIGKILL; the engine's cgroup teardown retries.`);
        }
        await removeState();
      })());
    // A sandbox that ends on its own (its agent exited, an OOM kill) leaves nothing behind either.
    void exited.then(() => kill().catch(() => undefined));

    return {
      pid,
      agentIn: launched.agentIn,
      agentOut: launched.agentOut,
      exited,
      // The launcher's private mount namespace, which `runsc run` (the launcher, exec'd) is in.
      ...privateDelta(pid, req.workspace, p.stageWs, p.stageDelta),
      diagnostics: launched.diagnostics,
      kill,
    };
  }
}
