/**
 * The open shell sessions of one sandbox: `sandbox.sessions`. A session
 * leaves the list when it ends (close(), its shell exiting, the sandbox
 * ending).
 */
import { WardenError } from '@warden/protocol';
import { newId } from '../host/ids.js';
import { checkSessionOptions, type RunDefaults, type SessionOptions } from './options.js';
import { Session, type SessionInfo } from './session.js';
import { Shell, type SpawnShell } from './shell.js';
import type { Gate } from '../guard/gate.js';
import type { SecretMasker } from '../secrets/mask.js';

export interface SessionManagerDeps {
  readonly sandboxId: string;
  readonly spawn: SpawnShell;
  readonly defaults: RunDefaults;
  /** Settles when the sandbox has ended: every session ends with it. */
  readonly sandboxEnded: Promise<unknown>;
  readonly gate: Gate;
  /** Secret values to mask in command output. Default: none. */
  readonly masker?: SecretMasker;
}

export class SessionManager {
  readonly #deps: SessionManagerDeps;
  readonly #sessions = new Map<string, Session>();

  /** Made by the sandbox; use `sandbox.sessions`. */
  constructor(deps: SessionManagerDeps) {
    this.#deps = deps;
  }

  /**
   * Starts a shell session: `bash --noprofile --norc` (`sh` when the sandbox
   * has no bash) in `cwd` with the sandbox's environment plus `env`. Throws
   * E_INVALID_ARGUMENT for bad options, E_EXEC_FAILED when the shell cannot
   * start (a missing cwd), E_SANDBOX_CLOSED when the sandbox is gone.
   * @example
   * await using s = await sbx.sessions.create({ cwd: '/workspace' });
   * await s.run('python3 -m venv .venv && . .venv/bin/activate');
   * const r = await s.run('python -c "import sys; print(sys.prefix)"');
   */
  async create(options: SessionOptions = {}): Promise<Session> {
    const opts = checkSessionOptions(options);
    const shell = await Shell.start(this.#deps.spawn, opts);
    const session = new Session(
      {
        id: newId('ses'),
        sandboxId: this.#deps.sandboxId,
        spawn: this.#deps.spawn,
        options: opts,
        defaults: this.#deps.defaults,
        sandboxEnded: this.#deps.sandboxEnded,
        gate: this.#deps.gate,
        ...(this.#deps.masker ? { masker: this.#deps.masker } : {}),
        onEnded: (s) => this.#sessions.delete(s.id),
      },
      shell,
    );
    this.#sessions.set(session.id, session);
    return session;
  }

  /** The open session with this id; throws E_SESSION_NOT_FOUND otherwise. */
  get(id: string): Session {
    const session = this.#sessions.get(id);
    if (!session) {
      throw new WardenError('E_SESSION_NOT_FOUND', `Sandbox ${this.#deps.sandboxId} has no open session ${JSON.stringify(id)}; it may have ended. List them with sandbox.sessions.list().`, {
        details: { sessionId: id, sandboxId: this.#deps.sandboxId },
      });
    }
    return session;
  }

  /** The open sessions, oldest first. */
  list(): SessionInfo[] {
    return [...this.#sessions.values()].map((s) => s.info());
  }
}
