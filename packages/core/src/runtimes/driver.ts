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
  /** Last lines the runtime and agent wrote to stderr (start-up errors). */
  diagnostics(): string;
  /** Ends the sandbox for good; resolves once the runtime process is gone. Idempotent. */
  kill(): Promise<void>;
}

export interface RuntimeDriver {
  readonly name: RuntimeName;
  /** What this host offers for this runtime, and how to fix what is missing. */
  probe(): Promise<ProbeCheck[]>;
  start(req: RuntimeStartRequest): Promise<RuntimeInstance>;
}
