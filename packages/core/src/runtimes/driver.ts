/**
 * The seam between the engine and an isolation technology. A driver only knows
 * how to start the agent isolated, with the sandbox's identity, cgroups,
 * workspace and limits, and how to tear it down. Everything else (processes,
 * output, timeouts) goes through the agent and is runtime-independent.
 */
import type { Readable, Writable } from 'node:stream';
import type { Limits, RuntimeName } from '@warden/protocol';

/** Where every runtime mounts the workspace inside the sandbox (part of the contract, not of one driver). */
export const SANDBOX_WORKSPACE = '/workspace';

/** Where every runtime shows the agent binary inside the sandbox, read-only (it also runs file operations: `fs`). */
export const SANDBOX_AGENT_PATH = '/.warden/agent';

export interface ProbeCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
  /** What to do when `ok` is false. */
  readonly fix?: string;
}

export interface RuntimeStartRequest {
  readonly sandboxId: string;
  readonly hostname: string;
  readonly limits: Readonly<Limits>;
  /** Unprivileged host uid/gid every sandboxed process runs as. */
  readonly uid: number;
  readonly gid: number;
  readonly workspace: WorkspaceMount;
  /** cgroup.procs files the sandbox must be in before any of its code runs. */
  readonly cgroupProcsFiles: readonly string[];
  /**
   * The sandbox cgroup's path below every hierarchy's mount (`warden/eng_x/sbx_y`),
   * for runtimes that make their own cgroups under it (Docker's `CgroupParent`).
   * The engine sets the limits on it; a runtime must not set its own.
   */
  readonly cgroupPath: string;
  /** Container image (only when `capabilities.images`); undefined = the runtime's default root. */
  readonly image?: string;
  /**
   * Host directory to show read-only at /.warden/net, where the engine puts the
   * sandbox's egress proxy socket; the agent then relays 127.0.0.1:3128 to it.
   * Only when `capabilities.egress`; undefined = no network at all.
   */
  readonly egressDir?: string;
}

/** What a runtime can and cannot do; the engine refuses what it cannot, naming the capability. */
export interface RuntimeCapabilities {
  /** Sandboxes may name a container image. */
  readonly images: boolean;
  /**
   * An out-of-memory kill ends only the process that ran out. When false (gVisor:
   * one host process holds all the sandbox's memory) it ends the whole sandbox.
   */
  readonly perProcessOom: boolean;
  /** It can carry the egress proxy (`egressDir`): sandboxes may have allowlisted network access. */
  readonly egress: boolean;
}

/** Where /workspace comes from: a host directory, or read-only layers under a private copy-on-write delta. */
export type WorkspaceMount =
  | { readonly kind: 'host'; readonly path: string }
  | {
      /**
       * A codebase: an optional read-only bind of `base` (the view), then
       * overlays (read-only `lowers`, topmost first, over a private delta) on
       * the workspace root (`prefix` '') or on directories of it.
       */
      readonly kind: 'codebase';
      readonly base?: string;
      readonly overlays: ReadonlyArray<{ readonly prefix: string; readonly lowers: readonly string[]; readonly rootMode: number }>;
      readonly sizeBytes: number;
      readonly inodes: number;
    };

/** Host paths (valid while the sandbox runs) of a layered workspace. */
export interface DeltaPaths {
  /** The workspace as the sandbox sees it. */
  readonly merged: string;
  /** The sandbox's own writable layers (overlayfs upper dirs) and the workspace path each covers. */
  readonly uppers: ReadonlyArray<{ readonly prefix: string; readonly path: string }>;
}

export interface RuntimeExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface RuntimeInstance {
  /** Host pid of the runtime process (for diagnostics). */
  readonly pid: number;
  /** The agent's protocol pipes. */
  readonly agentIn: Writable;
  readonly agentOut: Readable;
  readonly exited: Promise<RuntimeExit>;
  /** Set for layered workspaces. */
  readonly delta?: DeltaPaths;
  /**
   * Makes every write the sandbox made visible in `delta` on the host, for
   * runtimes that cache file data away from the host (called before a diff,
   * export or snapshot reads the delta).
   */
  flush?(): Promise<void>;
  /** Last lines the runtime and agent wrote to stderr (start-up errors). */
  diagnostics(): string;
  /** Ends the sandbox for good; resolves once the runtime process is gone. Idempotent. */
  kill(): Promise<void>;
}

export interface RuntimeDriver {
  readonly name: RuntimeName;
  readonly capabilities: RuntimeCapabilities;
  /** What this host offers for this runtime, and how to fix what is missing. */
  probe(): Promise<ProbeCheck[]>;
  /**
   * The limits the engine writes to the sandbox's host cgroup, when they must
   * differ from the sandbox's own (default: the same). gVisor runs its kernel's
   * threads in that cgroup too: it enforces `limits.pids` inside and needs more
   * host tasks than that.
   */
  cgroupLimits?(limits: Readonly<Limits>): Readonly<Limits>;
  start(req: RuntimeStartRequest): Promise<RuntimeInstance>;
  /** Releases what the driver holds across sandboxes (connections, host leftovers); called once when the engine closes, after every sandbox is gone. */
  close?(): Promise<void>;
}
