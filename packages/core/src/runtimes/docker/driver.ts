/**
 * The docker runtime: the agent as PID 1 of a container of the local Docker
 * Engine (Engine API over its Unix socket), attached to its stdin/stdout for
 * the protocol. The container's cgroup sits inside the sandbox's, which the
 * engine made and limits; the workspace is bound in (a codebase's layers are
 * mounted in the host namespace first, see mounts.ts).
 */
import { constants as osConstants } from 'node:os';
import { chmod, copyFile, mkdir, realpath, rm, rmdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Socket } from 'node:net';
import { WardenError } from '@warden/protocol';
import type { ProbeCheck, RuntimeDriver, RuntimeExit, RuntimeInstance, RuntimeStartRequest } from '../driver.js';
import { ETC_PASSTHROUGH, etcFiles, type HostRootEntry } from '../bwrap/argv.js';
import { hostRoot } from '../bwrap/host-root.js';
import { seccompBytes } from '../bwrap/seccomp.js';
import { DockerClient } from './client.js';
import { adoptIntoSandboxCgroups, cgroupMounts, foreignDirs, removeCgroupTree, type CgroupMount } from './cgroups.js';
import { containerSpec, sandboxEtc, type RootPlan } from './container.js';
import { ensureBaseImage } from './image.js';
import { mountCodebase, unmountCodebase } from './mounts.js';
import { probeDocker } from './probe.js';
import { writeDockerRecord } from './record.js';
import { Demux } from './stream.js';

export interface DockerDriverOptions {
  /** The Docker Engine's Unix socket. */
  readonly socketPath: string;
  readonly agentPath: string;
  readonly launcherPath: string;
  /** Engine-private directory (`<engine state dir>/docker`), made on first start. */
  readonly stateDir: string;
}

interface Prepared {
  /** The state dir, canonical (mountinfo shows canonical paths). */
  readonly dir: string;
  readonly agent: string;
  readonly launcher: string;
  readonly seccomp: string;
  readonly hosts: string;
  readonly resolv: string;
  readonly hostRoot: readonly HostRootEntry[];
  readonly etcPassthrough: readonly string[];
  readonly cgroupMounts: readonly CgroupMount[];
}

const MiB = 1024 * 1024;
const STDERR_TAIL_BYTES = 4096;
/** How long kill() waits for the attach stream to close once the container is removed. */
const EXIT_GRACE_MS = 5000;

const SIGNAL_NAMES = new Map<number, NodeJS.Signals>(Object.entries(osConstants.signals).map(([name, n]) => [n, name as NodeJS.Signals]));

/** Docker reports a process killed by signal N as exit code 128+N. */
function exitOf(code: number | undefined): RuntimeExit {
  if (code === undefined) return { code: null, signal: null };
  const signal = code > 128 ? SIGNAL_NAMES.get(code - 128) : undefined;
  return signal ? { code: null, signal } : { code, signal: null };
}

const engineIdOf = (cgroupPath: string): string => dirname(cgroupPath).split('/').pop() ?? '';

export class DockerDriver implements RuntimeDriver {
  readonly name = 'docker' as const;
  readonly capabilities = { images: true, perProcessOom: true, egress: true } as const;
  readonly #o: DockerDriverOptions;
  readonly #client: DockerClient;
  #prepared: Promise<Prepared> | undefined;
  #baseImage: Promise<string> | undefined;
  /** `<mount>/warden/<engineId>` in Docker's hierarchies that the engine does not use: close() removes them. */
  readonly #foreignEngineDirs = new Set<string>();

  constructor(options: DockerDriverOptions) {
    this.#o = options;
    this.#client = new DockerClient(options.socketPath);
  }

  probe(): Promise<ProbeCheck[]> {
    return probeDocker(this.#client, this.#o.agentPath, this.#o.launcherPath);
  }

  /** Writes the shared, read-only pieces every container of this engine binds, and the record recovery reads. */
  #prepare(): Promise<Prepared> {
    if (this.#prepared) return this.#prepared;
    const prepared = (async (): Promise<Prepared> => {
      // 0700 all the way: runc binds these as root, and nothing else on the host has any business here.
      await mkdir(this.#o.stateDir, { recursive: true, mode: 0o700 });
      const dir = await realpath(this.#o.stateDir);
      // Before any container exists: how crash recovery finds this engine's containers.
      await writeDockerRecord(dir, { socketPath: this.#o.socketPath });
      await mkdir(`${dir}/bin`, { recursive: true, mode: 0o700 });
      // Copies: a rebuild of the agent while sandboxes run must not change what they bind.
      const agent = `${dir}/bin/warden-agent`;
      const launcher = `${dir}/bin/warden-launch`;
      await copyFile(this.#o.agentPath, agent);
      await copyFile(this.#o.launcherPath, launcher);
      await chmod(agent, 0o755);
      await chmod(launcher, 0o755);
      await mkdir(`${dir}/etc`, { recursive: true, mode: 0o755 });
      const hosts = `${dir}/etc/hosts`;
      const resolv = `${dir}/etc/resolv.conf`;
      await writeFile(hosts, etcFiles().hosts, { mode: 0o644 });
      await writeFile(resolv, '', { mode: 0o644 });
      // Read by the launcher inside, as the sandbox uid.
      const seccomp = `${dir}/seccomp.bpf`;
      await writeFile(seccomp, seccompBytes(), { mode: 0o644 });
      const etcPassthrough: string[] = [];
      for (const f of ETC_PASSTHROUGH) if (await realpath(f).then(() => true, () => false)) etcPassthrough.push(f);
      return { dir, agent, launcher, seccomp, hosts, resolv, hostRoot: await hostRoot(), etcPassthrough, cgroupMounts: await cgroupMounts() };
    })();
    // A failed preparation is tried again by the next start (the host may have been fixed).
    prepared.catch(() => {
      if (this.#prepared === prepared) this.#prepared = undefined;
    });
    this.#prepared = prepared;
    return prepared;
  }

  /** The base image's id, built once per driver (and again if someone removed it). */
  #base(p: Prepared): Promise<string> {
    if (this.#baseImage) return this.#baseImage;
    const image = ensureBaseImage(this.#client, p.hostRoot);
    image.catch(() => {
      if (this.#baseImage === image) this.#baseImage = undefined;
    });
    this.#baseImage = image;
    return image;
  }

  async #root(p: Prepared, req: RuntimeStartRequest, dir: string): Promise<RootPlan> {
    if (req.image === undefined) {
      const etc = sandboxEtc(req.uid, req.gid);
      await mkdir(`${dir}/etc`, { mode: 0o755 });
      await writeFile(`${dir}/etc/passwd`, etc.passwd, { mode: 0o644 });
      await writeFile(`${dir}/etc/group`, etc.group, { mode: 0o644 });
      return { kind: 'base', image: await this.#base(p), hostRoot: p.hostRoot, etcPassthrough: p.etcPassthrough, passwd: `${dir}/etc/passwd`, group: `${dir}/etc/group` };
    }
    return { kind: 'image', image: req.image };
  }

  async start(req: RuntimeStartRequest): Promise<RuntimeInstance> {
    const p = await this.#prepare();
    if (req.image !== undefined && (await this.#client.imageId(req.image)) === undefined) {
      throw new WardenError(
        'E_INVALID_SPEC',
        `Invalid sandbox spec: image ${JSON.stringify(req.image)} is not in the local Docker Engine (${this.#o.socketPath}), and Warden never pulls from a registry. Load it first: docker load -i IMAGE.tar, or docker import ROOTFS.tar ${req.image}.`,
        { details: { field: 'image', image: req.image } },
      );
    }
    const dir = `${p.dir}/${req.sandboxId}`;
    const foreign = foreignDirs(p.cgroupMounts, req.cgroupPath, req.cgroupProcsFiles);
    for (const d of foreign) this.#foreignEngineDirs.add(dirname(d));
    let mounted = false;
    let id: string | undefined;
    let socket: Socket | undefined;
    /** Undoes whatever of the start was done, in reverse. */
    const teardown = async (): Promise<void> => {
      const errors: unknown[] = [];
      const step = async (fn: () => Promise<void>): Promise<void> => fn().catch((err: unknown) => void errors.push(err));
      if (id !== undefined) {
        const cid = id;
        await step(() => this.#client.remove(cid));
      }
      socket?.destroy();
      // Never delete through a mount: the view's files are the codebase store's.
      if (mounted) await step(() => unmountCodebase(dir));
      if (!mounted || errors.length === 0) await step(() => rm(dir, { recursive: true, force: true }));
      for (const d of foreign) await step(() => removeCgroupTree(d));
      if (errors.length > 0) throw errors[0] instanceof Error ? errors[0] : new Error(String(errors[0]));
    };

    try {
      await mkdir(dir, { mode: 0o700 });
      const root = await this.#root(p, req, dir);
      let workspaceHostPath: string;
      let delta: RuntimeInstance['delta'];
      if (req.workspace.kind === 'codebase') {
        mounted = true; // (mountCodebase unmounts what it did if it fails; teardown's unmount is then a no-op)
        delta = await mountCodebase(p.launcher, req.workspace, dir);
        workspaceHostPath = delta.merged;
      } else {
        workspaceHostPath = req.workspace.path;
      }
      const spec = containerSpec({
        sandboxId: req.sandboxId,
        engineId: engineIdOf(req.cgroupPath),
        hostname: req.hostname,
        uid: req.uid,
        gid: req.gid,
        cgroupPath: req.cgroupPath,
        tmpBytes: req.limits.tmpMb * MiB,
        tmpInodes: req.limits.tmpInodes,
        nofile: req.limits.nofile,
        fileSizeBytes: req.limits.fileSizeMb * MiB,
        root,
        agentHostPath: p.agent,
        launcherHostPath: p.launcher,
        seccompHostPath: p.seccomp,
        hostsHostPath: p.hosts,
        resolvHostPath: p.resolv,
        workspaceHostPath,
        ...(req.egressDir === undefined ? {} : { egressHostPath: req.egressDir }),
      });
      id = await this.#client.createContainer(spec);
      if (id === undefined && root.kind === 'base') {
        // The base image was removed behind our back (docker image prune -a): build it again, once.
        this.#baseImage = undefined;
        id = await this.#client.createContainer({ ...spec, Image: await this.#base(p) });
      }
      if (id === undefined) {
        throw new WardenError('E_SANDBOX_START_FAILED', `The Docker Engine has no image ${spec.Image} any more (it was removed while Warden used it). Load it again, then retry.`);
      }
      // Attached before start, so the agent's first frame (HELLO) cannot be missed.
      socket = await this.#client.attach(id);
      const cid = id;
      const s = socket;
      let tail = '';
      const noteStderr = (b: Buffer | string): void => {
        tail = (tail + b.toString()).slice(-STDERR_TAIL_BYTES);
      };
      const agentOut = new Demux(noteStderr);
      agentOut.on('error', (err: Error) => {
        noteStderr(`\nwarden: ${err.message}\n`);
        s.destroy();
      });
      s.pipe(agentOut);
      s.on('error', () => undefined); // a reset surfaces as 'close'
      // The attach stream ends when the agent (PID 1: the whole container) exits.
      const exited = new Promise<RuntimeExit>((resolve) => {
        s.once('close', () => {
          if (!agentOut.writableEnded) agentOut.end();
          this.#client.state(cid).then(
            (st) => resolve(exitOf(st && !st.running ? st.exitCode : undefined)),
            () => resolve(exitOf(undefined)),
          );
        });
      });
      await this.#client.start(id);
      // The agent is the container's only process until it is given work: move it into the
      // sandbox's own cgroups, where the engine's OOM and fork counters look.
      let pids: number[] = [];
      try {
        pids = await adoptIntoSandboxCgroups(req.cgroupProcsFiles, p.cgroupMounts, id);
      } catch (err) {
        // A container that already exited (its cgroup is gone with it) is the engine's to report,
        // with the agent's or launcher's own words from stderr.
        if ((await this.#client.state(id))?.running !== false) throw err;
      }
      const pid = pids[0] ?? (await this.#client.state(id))?.pid ?? 0;

      let killing: Promise<void> | undefined;
      return {
        pid,
        agentIn: s,
        agentOut,
        exited,
        ...(delta ? { delta } : {}),
        diagnostics: () => tail.trim(),
        kill: () =>
          (killing ??= (async () => {
            try {
              await teardown();
            } finally {
              let timer: NodeJS.Timeout | undefined;
              await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, EXIT_GRACE_MS)))]);
              clearTimeout(timer);
            }
          })()),
      };
    } catch (err) {
      await teardown().catch(() => undefined);
      throw err;
    }
  }

  async close(): Promise<void> {
    const p = await this.#prepared?.catch(() => undefined);
    // Every sandbox unmounted its layers when it was killed; make sure, before the engine removes the state dir.
    if (p) await unmountCodebase(p.dir);
    for (const d of this.#foreignEngineDirs) {
      await removeCgroupTree(d).catch(() => undefined);
      // `<mount>/warden` is shared by every engine on the host: removed only once empty.
      await rmdir(dirname(d)).catch(() => undefined);
    }
    this.#client.close();
  }
}
