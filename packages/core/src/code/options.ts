/**
 * Options of code contexts and of their cells: checked once at the edge and
 * turned into fully defaulted, frozen values.
 */
import type { CodeError, CodeLanguage, CodeResult } from '@warden/protocol';
import type { GateOptions } from '../guard/gate.js';
import { checkKeys, checkRunOptions, invalid, type RunDefaults } from '../options/check.js';

export const CODE_LANGUAGES: readonly CodeLanguage[] = Object.freeze(['python', 'javascript']);

export interface CodeContextOptions {
  /** Default `python`. */
  readonly language?: CodeLanguage;
  /** Working directory the interpreter starts in (absolute, inside the sandbox). Default: /workspace. */
  readonly cwd?: string;
  /** Environment on top of the sandbox's. Default: none. */
  readonly env?: Readonly<Record<string, string>>;
}

export interface RunCodeOptions extends GateOptions {
  /** Language of the default context to run in when `context` is not given. Default `python`. */
  readonly language?: CodeLanguage;
  /** The context (or its id) to run in. Default: the language's default context, created on first use. */
  readonly context?: { readonly id: string } | string;
  /**
   * Wall-clock limit in ms, counted from when the cell starts (after cells
   * queued before it). On expiry the cell is interrupted (SIGINT: Python
   * raises KeyboardInterrupt, JavaScript stops) and ends with error
   * `TimeoutError`; the context keeps its state. A cell that does not stop
   * within 2 s of the interrupt has its interpreter killed (`stateLost`).
   * Default: the sandbox's limits.timeoutMs.
   */
  readonly timeoutMs?: number;
  /**
   * Cap on the bytes of stdout, stderr and results of the cell. Past it,
   * output is dropped and the cell is interrupted like a timeout (error
   * `OutputLimitExceeded`, `truncated: true`). Default: limits.maxOutputBytes.
   */
  readonly maxOutputBytes?: number;
  /** Aborting interrupts the cell like a timeout (error `AbortError`); a queued cell is dropped without running. */
  readonly signal?: AbortSignal;
  /** Called with each chunk of stdout text as it arrives. Exceptions thrown by callbacks are ignored. */
  readonly onStdout?: (text: string) => void;
  readonly onStderr?: (text: string) => void;
  /** Called with each result as it arrives: display() calls and figures during the cell, the last expression's value at its end. */
  readonly onResult?: (result: CodeResult) => void;
  /** Called with the cell's error, if it has one, just before the run resolves. */
  readonly onError?: (error: CodeError) => void;
  /** Called once, when the cell starts running (after the guard admitted it and the cells queued before it ended). */
  readonly onStart?: () => void;
}

/** A cell as a context executes it. */
export interface CellSpec {
  readonly code: string;
  readonly timeoutMs: number;
  readonly maxOutputBytes: number;
  readonly signal: AbortSignal | undefined;
  readonly onStdout: ((text: string) => void) | undefined;
  readonly onStderr: ((text: string) => void) | undefined;
  readonly onResult: ((result: CodeResult) => void) | undefined;
  readonly onError: ((error: CodeError) => void) | undefined;
  readonly onStart: (() => void) | undefined;
}

export type CellDefaults = RunDefaults;

/** A cell travels as one JSON line through the agent: keep it to a size that parses quickly. */
export const MAX_CODE_BYTES = 4 * 1024 * 1024;

const CREATE_KEYS = ['language', 'cwd', 'env'];
const RUN_KEYS = ['language', 'context', 'timeoutMs', 'maxOutputBytes', 'signal', 'onStdout', 'onStderr', 'onResult', 'onError', 'onStart', 'actor', 'approvalId', 'approvalWaitMs'];
const CALLBACKS = ['onStdout', 'onStderr', 'onResult', 'onError', 'onStart'] as const;

export function checkLanguage(name: string, v: unknown): CodeLanguage | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !(CODE_LANGUAGES as readonly string[]).includes(v)) {
    throw invalid(`${name} must be "python" or "javascript", got ${JSON.stringify(v) ?? typeof v}.`);
  }
  return v as CodeLanguage;
}

export interface ContextSpec {
  readonly language: CodeLanguage;
  readonly cwd: string | undefined;
  readonly env: Readonly<Record<string, string>> | undefined;
}

/** Checks create() options, cwd and env included (the interpreter starts later, with the first cell). */
export function checkContextOptions(opts: unknown): ContextSpec {
  const o = checkKeys('code.create() options', opts, CREATE_KEYS) as CodeContextOptions;
  const language = checkLanguage('language', o.language) ?? 'python';
  if (o.cwd !== undefined && (typeof o.cwd !== 'string' || !o.cwd.startsWith('/') || o.cwd.includes('\0'))) {
    throw invalid(`cwd must be an absolute path inside the sandbox such as "/workspace", got ${JSON.stringify(o.cwd) ?? typeof o.cwd}.`);
  }
  if (o.env !== undefined) {
    if (typeof o.env !== 'object' || o.env === null || Array.isArray(o.env)) throw invalid(`env must be an object of NAME: value strings, got ${JSON.stringify(o.env)}.`);
    for (const [k, v] of Object.entries(o.env)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || typeof v !== 'string' || v.includes('\0')) {
        throw invalid(`env.${k} is invalid: names are letters, digits and _ (not starting with a digit) and values are strings without NUL bytes.`);
      }
    }
  }
  return Object.freeze({ language, cwd: o.cwd, env: o.env === undefined ? undefined : Object.freeze({ ...o.env }) });
}

/** Checks the code and the options of a cell that the context itself runs (language and context are the manager's). */
export function checkCell(code: unknown, opts: unknown, defaults: CellDefaults): CellSpec {
  if (typeof code !== 'string') throw invalid(`code must be a string of Python or JavaScript such as "print(6 * 7)", got ${JSON.stringify(code) ?? typeof code}.`);
  const bytes = Buffer.byteLength(code);
  if (bytes > MAX_CODE_BYTES) {
    throw invalid(`code takes ${bytes} bytes; a cell can take at most ${MAX_CODE_BYTES} (4 MiB). Write the data to a file and read it from the cell instead.`);
  }
  const o = checkKeys('runCode() options', opts, RUN_KEYS) as RunCodeOptions;
  checkRunOptions(o);
  for (const k of CALLBACKS) {
    if (o[k] !== undefined && typeof o[k] !== 'function') throw invalid(`${k} must be a function, got ${typeof o[k]}.`);
  }
  return Object.freeze({
    code,
    timeoutMs: o.timeoutMs ?? defaults.timeoutMs,
    maxOutputBytes: o.maxOutputBytes ?? defaults.maxOutputBytes,
    signal: o.signal,
    onStdout: o.onStdout,
    onStderr: o.onStderr,
    onResult: o.onResult,
    onError: o.onError,
    onStart: o.onStart,
  });
}

/** Checks `context` and `language` of runCode(): which context to run in. */
export function checkTarget(opts: unknown): { readonly language: CodeLanguage | undefined; readonly contextId: string | undefined } {
  if (typeof opts !== 'object' || opts === null) return { language: undefined, contextId: undefined };
  const o = opts as RunCodeOptions;
  const language = checkLanguage('language', o.language);
  const c = o.context;
  if (c === undefined) return { language, contextId: undefined };
  const id = typeof c === 'string' ? c : typeof c === 'object' && c !== null && typeof c.id === 'string' ? c.id : undefined;
  if (id === undefined) throw invalid(`context must be a code context or its id such as "ctx_abcdefghijkl", got ${JSON.stringify(c) ?? typeof c}.`);
  return { language, contextId: id };
}
