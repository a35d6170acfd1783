/**
 * The default runtime: bubblewrap namespaces, started through warden-launch
 * (cgroups, capped tmpfs, rlimits, unprivileged uid) with the agent as PID 1.
 */
import { access, copyFile, chmod, mkdir, open, readFile, writeFile } from 'node:fs/promises';
import type { ProbeCheck, RuntimeDriver, RuntimeInstance, RuntimeStartRequest } from '../driver.js';
import { codebaseLaunch, privateDelta, spawnLauncher, type LaunchedRuntime } from '../launcher.js';
import { PROC_MASKED, bwrapArgs, etcFiles, launcherArgs, type HostRootEntry } from './argv.js';
import { probeBwrap } from './probe.js';
import { seccompBytes } from './seccomp.js';
import { hostRoot } from './host-root.js';

export interface BwrapDriverOptions {
  readonly bwrapPath: string;
  readonly agentPath: string;
  readonly launcherPath: string;
  /** Engine-private directory (0711) for staging mounts, /etc files and the filter. */
  readonly stateDir: string;
}

const MiB = 1024 * 1024;
/** How long bwrap gets to notice its child died before it is killed too. */
const BWRAP_EXIT_GRACE_MS = 2000;

export class BwrapDriver implements RuntimeDriver {
  readonly name = 'bwrap' as const;
  readonly capabilities = { images: false, perProcessOom: true, egress: true } as const;
  readonly #o: BwrapDriverOptions;
  #prepared: Promise<{ hostRoot: HostRootEntry[]; procMasked: string[] }> | undefined;

  constructor(options: BwrapDriverOptions) {
    this.#o = options;
  }

  probe(): Promise<ProbeCheck[]> {
    return probeBwrap(this.#o.bwrapPath, this.#o.agentPath, this.#o.launcherPath);
  }

  get #paths() {
    const d = this.#o.stateDir;
    return {
      stageTmp: `${d}/stage/tmp`,
      stageShm: `${d}/stage/shm`,
      stageDelta: `${d}/stage/delta`,
      stageWs: `${d}/stage/ws`,
      etcDir: `${d}/etc`,
      seccomp: `${d}/seccomp.bpf`,
      agent: `${d}/bin/warden-agent`,
    };
  }

  /** Writes the shared, read-only pieces every sandbox of this engine binds. */
  #prepare(): Promise<{ hostRoot: HostRootEntry[]; procMasked: string[] }> {
    this.#prepared ??= (async () => {
      const p = this.#paths;
      await mkdir(p.stageTmp, { recursive: true, mode: 0o711 });
      await mkdir(p.stageShm, { recursive: true, mode: 0o711 });
      await mkdir(p.stageDelta, { recursive: true, mode: 0o700 });
      await mkdir(p.stageWs, { recursive: true, mode: 0o711 });
      await mkdir(p.etcDir, { recursive: true, mode: 0o755 });
      for (const [name, text] of Object.entries(etcFiles())) await writeFile(`${p.etcDir}/${name}`, text, { mode: 0o644 });
      await writeFile(p.seccomp, seccompBytes(), { mode: 0o600 });
      // bwrap runs as the sandbox uid and must reach the agent to bind it: a
      // copy under the (traversable) state dir works wherever Warden is installed.
      await mkdir(`${this.#o.stateDir}/bin`, { mode: 0o711 });
      await copyFile(this.#o.agentPath, p.agent);
      await chmod(p.agent, 0o755);
      const procMasked: string[] = [];
      for (const f of PROC_MASKED) if (await access(f).then(() => true, () => false)) procMasked.push(f);
      return { hostRoot: await hostRoot(), procMasked };
    })();
    return this.#prepared;
  }

  async start(req: RuntimeStartRequest): Promise<RuntimeInstance> {
    const host = await this.#prepare();
    const p = this.#paths;
    const bwrap = bwrapArgs({
      hostname: req.hostname,
      agentHostPath: p.agent,
      workspaceHostPath: req.workspace.kind === 'host' ? req.workspace.path : p.stageWs,
      stageTmp: p.stageTmp,
      stageShm: p.stageShm,
      etcDir: p.etcDir,
      hostRoot: host.hostRoot,
      procMasked: host.procMasked,
      ...(req.egressDir === undefined ? {} : { egressDir: req.egressDir }),
    });
    const argv = launcherArgs(
      {
        cgroupProcsFiles: req.cgroupProcsFiles,
        stageTmp: p.stageTmp,
        stageShm: p.stageShm,
        tmpBytes: req.limits.tmpMb * MiB,
        tmpInodes: req.limits.tmpInodes,
        uid: req.uid,
        gid: req.gid,
        nofile: req.limits.nofile,
        fileSizeBytes: req.limits.fileSizeMb * MiB,
        bwrapPath: this.#o.bwrapPath,
        ...(req.workspace.kind === 'codebase' ? { codebase: codebaseLaunch(req.workspace, p.stageWs, p.stageDelta) } : {}),
      },
      bwrap,
    );
    // The filter goes in on fd 3; bwrap reads it to EOF before exec'ing the agent.
    const filter = await open(p.seccomp, 'r');
    let launched: LaunchedRuntime;
    try {
      launched = await spawnLauncher(this.#o.launcherPath, argv, [filter.fd]);
    } finally {
      // The child holds its own copy once spawned (or spawning failed).
      void filter.close();
    }
    const { child, exited, pid } = launched;
    return {
      pid,
      agentIn: launched.agentIn,
      agentOut: launched.agentOut,
      exited,
      // The launcher's private mount namespace, as bwrap (our child) sees it.
      ...privateDelta(pid, req.workspace, p.stageWs, p.stageDelta),
      diagnostics: launched.diagnostics,
      kill: async () => {
        if (child.exitCode !== null || child.signalCode !== null) return exited.then(() => undefined);
        // Kill the agent (PID 1 of the sandbox) first, so that bwrap, still
        // alive, reaps it and the kernel reaps the rest of the pid namespace.
        // Killing bwrap first would orphan the agent to the host's init and
        // leave a zombie owned by the sandbox uid.
        const children = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
        for (const c of children.split(/\s+/).filter(Boolean)) {
          try {
            process.kill(Number(c), 'SIGKILL');
          } catch {
            // already gone
          }
        }
        const timer = setTimeout(() => child.kill('SIGKILL'), children.trim() ? BWRAP_EXIT_GRACE_MS : 0);
        await exited;
        clearTimeout(timer);
      },
    };
  }
}
