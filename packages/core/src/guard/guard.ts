/**
 * The command guard: analyse an action, evaluate the policy layers, decide.
 * `check` is synchronous so a decision is on record before anything starts.
 */
import { createHash } from 'node:crypto';
import { WardenError } from '@warden/protocol';
import { argvToShell, createAnalyzer, normalise, type Analyzer } from './analysis/index.js';
import { loadDefaultPolicy } from './default-policy.js';
import { effectiveMode, evaluateLayers } from './policy/layers.js';
import { loadPolicy, type PolicySource } from './policy/load.js';
import { isPolicy, type Policy } from './policy/policy.js';
import { GUARD_LANGUAGES, type Analysis, type GuardLanguage, type GuardResult } from './types.js';

export type { Policy } from './policy/policy.js';
export type { PolicySource } from './policy/load.js';

/** A policy to load into a layer: YAML text or the same structure as an object. */
export interface PolicyInput {
  /** `server`, `tenant`, `sandbox` or another lowercase name; findings carry it. */
  readonly layer: string;
  readonly source: PolicySource;
}

export interface GuardOptions {
  /**
   * The guard's own layers, top first: the server's, then (optionally) a
   * tenant's. Default: the shipped default policy as layer `server`. `[]`
   * means no rules at all (everything is allowed unless a check adds layers).
   */
  readonly policies?: readonly (Policy | PolicyInput)[];
  /** Default: a new analyzer (`createAnalyzer()`), closed by `guard.close()`. A given one stays the caller's. */
  readonly analyzer?: Analyzer;
}

export interface CheckInput {
  readonly language: GuardLanguage;
  readonly code: string;
}

export interface CheckOptions {
  /**
   * Layers below the guard's own for this check (a tenant's, a sandbox's):
   * they can only tighten. Prefer loaded policies (`guard.loadPolicy`); a
   * PolicyInput is loaded, examples and all, on every call.
   */
  readonly layers?: readonly (Policy | PolicyInput)[];
}

export interface Guard {
  /** The guard's own layers, top first. */
  readonly policies: readonly Policy[];
  /** Analyses `code` and decides. Never throws for what the code contains; unknown code is `ask` at least. */
  check(input: CheckInput, opts?: CheckOptions): GuardResult;
  /** Checks an argv as the bash line `argvToShell(argv)`, exactly as a shell would see it. */
  checkArgv(argv: readonly string[], opts?: CheckOptions): GuardResult;
  /** Loads a policy with this guard's analyzer (validate, compile, run its examples). Throws E_POLICY_INVALID. */
  loadPolicy(source: PolicySource, opts: { readonly layer: string }): Policy;
  /** Closes the analyzer if the guard created it. Idempotent. */
  close(): void;
  [Symbol.dispose](): void;
}

/**
 * Creates a guard.
 *
 * @example
 * const guard = await createGuard();
 * guard.check({ language: 'bash', code: 'rm -rf /' }).decision; // 'deny'
 * guard.checkArgv(['git', 'status']).decision;                   // 'allow'
 */
export async function createGuard(options: GuardOptions = {}): Promise<Guard> {
  const owned = options.analyzer === undefined;
  const analyzer = options.analyzer ?? (await createAnalyzer());
  try {
    const load = (p: Policy | PolicyInput): Policy => (isPolicy(p) ? p : loadPolicy(p.source, { layer: p.layer, analyzer }));
    const policies = Object.freeze(options.policies === undefined ? [loadDefaultPolicy(analyzer)] : options.policies.map(load));
    return new GuardImpl(analyzer, owned, policies, load);
  } catch (err) {
    if (owned) analyzer.close();
    throw err;
  }
}

class GuardImpl implements Guard {
  readonly policies: readonly Policy[];
  readonly #analyzer: Analyzer;
  readonly #owned: boolean;
  readonly #load: (p: Policy | PolicyInput) => Policy;

  constructor(analyzer: Analyzer, owned: boolean, policies: readonly Policy[], load: (p: Policy | PolicyInput) => Policy) {
    this.#analyzer = analyzer;
    this.#owned = owned;
    this.policies = policies;
    this.#load = load;
  }

  check(input: CheckInput, opts: CheckOptions = {}): GuardResult {
    const started = performance.now();
    checkInput(input);
    const layers = [...this.policies, ...(opts.layers ?? []).map(this.#load)];
    const { language } = input;
    const mode = effectiveMode(layers);
    if (mode === 'off') {
      // No analysis, but the digest still binds to the normalised text.
      const { text } = normalise(input.code, MAX_OFF_CHARS);
      return { decision: 'allow', risk: 'none', findings: [], language, mode, digest: digest(language, text), text, durationMs: performance.now() - started };
    }
    const analysis: Analysis = this.#analyzer.analyze({ language, code: input.code });
    const { decision, risk, findings } = evaluateLayers(layers, analysis);
    return { decision, risk, findings, language, mode, digest: digest(language, analysis.text), text: analysis.text, durationMs: performance.now() - started };
  }

  checkArgv(argv: readonly string[], opts: CheckOptions = {}): GuardResult {
    if (!Array.isArray(argv) || argv.length === 0 || !argv.every((w) => typeof w === 'string')) {
      throw new WardenError('E_INVALID_ARGUMENT', `argv must be a non-empty array of strings such as ["git", "status"], got ${describe(argv)}.`);
    }
    return this.check({ language: 'bash', code: argvToShell(argv) }, opts);
  }

  loadPolicy(source: PolicySource, opts: { readonly layer: string }): Policy {
    return loadPolicy(source, { layer: opts.layer, analyzer: this.#analyzer });
  }

  close(): void {
    if (this.#owned) this.#analyzer.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** The analyzer's default cap (256 KiB): with the guard off, the text an approval would bind to is cut the same way. */
const MAX_OFF_CHARS = 256 * 1024;

function digest(language: GuardLanguage, text: string): string {
  return createHash('sha256').update(`${language}\n${text}`).digest('hex');
}

function checkInput(input: CheckInput): void {
  if (typeof input !== 'object' || input === null) throw new WardenError('E_INVALID_ARGUMENT', `The guard checks { language, code }, got ${describe(input)}.`);
  if (!GUARD_LANGUAGES.includes(input.language)) {
    throw new WardenError('E_INVALID_ARGUMENT', `language must be one of ${GUARD_LANGUAGES.join(', ')}, got ${describe(input.language)}.`);
  }
  if (typeof input.code !== 'string') throw new WardenError('E_INVALID_ARGUMENT', `code must be a string, got ${describe(input.code)}.`);
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (Array.isArray(v)) return `an array of ${v.length}`;
  return v === null ? 'null' : typeof v;
}
