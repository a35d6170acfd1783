/**
 * The code contexts of one sandbox: `sandbox.code`. A context leaves the
 * list when it is deleted or the sandbox ends. runCode() without a context
 * uses one default context per language, created on first use.
 */
import { WardenError, type CodeLanguage, type Execution } from '@warden/protocol';
import { newId } from '../host/ids.js';
import type { Gate } from '../guard/gate.js';
import { CodeContext, type CodeContextInfo, type PrepareCode } from './context.js';
import type { SpawnInterpreter } from './interpreter.js';
import { createJsAsync, type JsAsync } from './js-async.js';
import { checkContextOptions, checkTarget, type CellDefaults, type CodeContextOptions, type ContextSpec, type RunCodeOptions } from './options.js';
import type { SecretMasker } from '../secrets/mask.js';


/** Open code contexts per sandbox (default contexts included). */
export const MAX_CONTEXTS = 32;
export interface CodeContextsDeps {
  readonly sandboxId: string;
  readonly spawn: SpawnInterpreter;
  readonly defaults: CellDefaults;
  /** Where interpreters start when a context has no cwd. */
  readonly defaultCwd: string;
  /** Settles when the sandbox has ended: every context ends with it. */
  readonly sandboxEnded: Promise<unknown>;
  /** Throws E_SANDBOX_CLOSED once the sandbox is gone. */
  readonly assertRunning: () => void;
  readonly gate: Gate;
  /** Secret values to mask in cell output. Default: none. */
  readonly masker?: SecretMasker;
}

export class CodeContexts {
  readonly #deps: CodeContextsDeps;
  readonly #contexts = new Map<string, CodeContext>();
  readonly #defaults = new Map<CodeLanguage, CodeContext>();
  /** What each open context does when the sandbox ends (by context id). */
  readonly #onEnd = new Map<string, () => void>();
  #jsAsync: Promise<JsAsync | undefined> | undefined;
  #ended = false;

  /** Made by the sandbox; use `sandbox.code`. */
  constructor(deps: CodeContextsDeps) {
    this.#deps = deps;
    void deps.sandboxEnded.then(async () => {
      this.#ended = true;
      for (const end of [...this.#onEnd.values()]) end();
      this.#onEnd.clear();
      (await this.#jsAsync)?.close();
    });
  }

  /**
   * Creates a code context: an interpreter of `language` (default python)
   * that starts with its first cell, in `cwd` (default /workspace) with the
   * sandbox's environment plus `env`. Throws E_INVALID_ARGUMENT for bad
   * options, E_SANDBOX_CLOSED when the sandbox is gone.
   * @example
   * await using ctx = await sbx.code.create({ language: 'javascript' });
   * await ctx.run('let n = 20');
   * (await ctx.run('n + 22')).results[0]?.text; // '42'
   */
  create(options: CodeContextOptions = {}): Promise<CodeContext> {
    try {
      const spec = checkContextOptions(options);
      this.#deps.assertRunning();
      this.#assertRoom();
      return Promise.resolve(this.#make(spec, false));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** Each interpreter can make the host buffer up to an event's size: the number of them is bounded. */
  #assertRoom(): void {
    if (this.#contexts.size >= MAX_CONTEXTS) {
      throw new WardenError('E_CAPACITY', `Sandbox ${this.#deps.sandboxId} already has ${MAX_CONTEXTS} code contexts open, the most one sandbox may have. Delete one you no longer need (sandbox.code.delete(id)).`, {
        details: { sandboxId: this.#deps.sandboxId, limit: MAX_CONTEXTS },
      });
    }
  }

  /** The open context with this id; throws E_CONTEXT_NOT_FOUND otherwise. */
  get(id: string): CodeContext {
    const context = this.#contexts.get(id);
    if (!context) {
      throw new WardenError('E_CONTEXT_NOT_FOUND', `Sandbox ${this.#deps.sandboxId} has no code context ${JSON.stringify(id)}; it may have been deleted. List them with sandbox.code.list().`, {
        details: { contextId: id, sandboxId: this.#deps.sandboxId },
      });
    }
    return context;
  }

  /** The open contexts, oldest first (default contexts included once they exist). */
  list(): CodeContextInfo[] {
    return [...this.#contexts.values()].map((c) => c.info());
  }

  /** Restarts the context's interpreter (its state is lost); see CodeContext.restart(). */
  async restart(id: string): Promise<void> {
    await this.get(id).restart();
  }

  /** Deletes the context: its interpreter and everything it started end; see CodeContext.close(). */
  async delete(id: string): Promise<void> {
    await this.get(id).close();
  }

  /**
   * Runs a cell in `context`, or in the default context of `language`
   * (python by default). See `Sandbox.runCode`.
   */
  run(code: string, opts: RunCodeOptions = {}): Promise<Execution> {
    try {
      const { language, contextId } = checkTarget(opts);
      let context: CodeContext;
      if (contextId !== undefined) {
        context = this.get(contextId);
        if (language !== undefined && language !== context.language) {
          throw new WardenError('E_INVALID_ARGUMENT', `language is ${JSON.stringify(language)} but code context ${contextId} runs ${context.language}; pass one of them, or both alike.`);
        }
      } else {
        this.#deps.assertRunning();
        context = this.#default(language ?? 'python');
      }
      const { language: _language, context: _context, ...rest } = opts;
      return context.run(code, rest);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  #default(language: CodeLanguage): CodeContext {
    const existing = this.#defaults.get(language);
    if (existing && existing.info().state === 'open') return existing;
    const context = this.#make({ language, cwd: undefined, env: undefined }, true);
    this.#defaults.set(language, context);
    return context;
  }

  #make(spec: ContextSpec, isDefault: boolean): CodeContext {
    const id = newId('ctx');
    const context = new CodeContext({
      id,
      sandboxId: this.#deps.sandboxId,
      spec,
      defaultCwd: this.#deps.defaultCwd,
      isDefault,
      spawn: this.#deps.spawn,
      defaults: this.#deps.defaults,
      onSandboxEnd: (end) => {
        if (this.#ended) queueMicrotask(end);
        else this.#onEnd.set(id, end);
      },
      gate: this.#deps.gate,
      masker: this.#deps.masker,
      prepare: this.#prepare,
      onClosed: (c) => {
        this.#onEnd.delete(c.id);
        this.#contexts.delete(c.id);
        if (this.#defaults.get(c.language) === c) this.#defaults.delete(c.language);
      },
    });
    this.#contexts.set(context.id, context);
    return context;
  }

  /** JavaScript cells with top-level await are rewritten into an async function; everything else goes as it is. */
  readonly #prepare: PrepareCode = (language, code) => {
    if (language !== 'javascript' || !code.includes('await') || this.#ended) return { code, async: false };
    // Without the grammar (it failed to load), such a cell fails in V8 with a clear SyntaxError.
    this.#jsAsync ??= createJsAsync().catch(() => undefined);
    return this.#jsAsync.then((js) => js?.prepare(code) ?? { code, async: false });
  };
}
