/**
 * envd's process table as a view over Warden's command registry: the running
 * commands of a sandbox, addressed by their in-sandbox pid (or E2B tag). The
 * registry stays the one record of what runs (Warden's API lists the same
 * commands); this adds only what E2B reports and Warden does not keep — the
 * config as given (cmd, args, envs, cwd), the tag, whether stdin is open —
 * for as long as each command runs.
 */
import { WardenError } from '@warden/protocol';
import type { Command, CommandRegistry } from '../../services/commands.js';

export interface ProcessMeta {
  readonly cmd: string;
  readonly args: readonly string[];
  readonly envs: Readonly<Record<string, string>>;
  readonly cwd: string | undefined;
  readonly tag: string | undefined;
  /** Started with stdin open (E2B's `stdin: true`). */
  readonly stdin: boolean;
  /** Its deadline, for the message when it passes. */
  readonly timeoutMs: number;
}

export interface ProcessInfoJson {
  readonly config: { readonly cmd: string; readonly args: readonly string[]; readonly envs: Readonly<Record<string, string>>; readonly cwd?: string };
  readonly pid: number;
  readonly tag?: string;
}

export interface Selector {
  readonly pid?: number | undefined;
  readonly tag?: string | undefined;
}

export class E2bProcesses {
  readonly #commands: CommandRegistry;
  readonly #meta = new Map<string, ProcessMeta>();

  constructor(commands: CommandRegistry) {
    this.#commands = commands;
  }

  /** Remembers what E2B asked for, until the command ends. */
  track(cmd: Command, meta: ProcessMeta): void {
    this.#meta.set(cmd.id, meta);
    const forget = (): void => void this.#meta.delete(cmd.id);
    void cmd.result().then(forget, forget);
  }

  meta(cmd: Command): ProcessMeta | undefined {
    return this.#meta.get(cmd.id);
  }

  /** The sandbox's running commands that have a pid (started through E2B or Warden's API). */
  running(sandboxId: string): Command[] {
    return this.#commands.list(sandboxId).filter((c) => c.running && c.process.pid !== undefined);
  }

  /** The running command `selector` names; E_COMMAND_NOT_FOUND (not_found: the SDK's kill() then answers false). */
  find(sandboxId: string, selector: Selector): Command {
    const { pid, tag } = selector;
    if (pid === undefined && (tag === undefined || tag === '')) {
      throw new WardenError('E_INVALID_REQUEST', 'The process selector names neither a pid nor a tag.');
    }
    const found = this.running(sandboxId).find((c) => (pid !== undefined ? c.process.pid === pid : this.#meta.get(c.id)?.tag === tag));
    if (!found) {
      const which = pid !== undefined ? `pid ${pid}` : `tag ${JSON.stringify(tag)}`;
      throw new WardenError('E_COMMAND_NOT_FOUND', `Sandbox ${sandboxId} runs no process with ${which}; it may have ended. List processes with commands.list().`, {
        details: { sandboxId, ...(pid !== undefined ? { pid } : { tag }) },
      });
    }
    return found;
  }

  info(cmd: Command): ProcessInfoJson {
    const m = this.#meta.get(cmd.id);
    const [first = '', ...rest] = cmd.argv;
    return {
      config: m ? { cmd: m.cmd, args: m.args, envs: m.envs, ...(m.cwd !== undefined ? { cwd: m.cwd } : {}) } : { cmd: first, args: rest, envs: {} },
      pid: cmd.process.pid ?? 0,
      ...(m?.tag !== undefined ? { tag: m.tag } : {}),
    };
  }
}
