import type { GuardLanguage, Invocation } from '../types.js';
import { type Frame, type Run, type Word, basename, knownOf, toTop } from './context.js';

/*
 * Wrappers: programs that run another program (`sudo rm`, `env -i rm`,
 * `find -exec rm`, `sh -c 'rm'`). Each layer is recorded as its own
 * invocation (a rule about `sudo` itself must still fire) and the wrapped
 * program gets the wrapper in `via`. Option tables follow the GNU/util-linux
 * man pages: only options that take a separate argument matter, because
 * they decide where the wrapped command starts.
 */

interface Spec {
  /** Short options that take an argument (attached `-uroot` or the next word). */
  readonly arg?: string;
  /** Short options whose argument can only be attached (`-i{}`). */
  readonly optional?: string;
  /** Long options that take the next word as argument when written without `=`. */
  readonly long?: readonly string[];
}

type Opts = Map<string, Word | true>;

function suffix(w: Word, keep: number): Word {
  const value = w.value.slice(w.value.length - keep);
  const out = { ...w, value, raw: w.raw >= 0 ? w.raw + (w.value.length - keep) : -1 };
  return w.dynamic ? { ...out, known: Math.min(knownOf(w), keep) } : out;
}

/** Parses leading options from `i`; returns the index of the first operand. */
function scan(words: readonly Word[], i: number, spec: Spec, opts: Opts = new Map()): { at: number; opts: Opts } {
  while (i < words.length) {
    const w = words[i] as Word;
    const v = w.value;
    if (v === '--') return { at: i + 1, opts };
    if (v.startsWith('--') && v.length > 2) {
      const eq = v.indexOf('=');
      if (eq > 0) opts.set(v.slice(2, eq), suffix(w, v.length - eq - 1));
      else if (spec.long?.includes(v.slice(2)) && i + 1 < words.length) opts.set(v.slice(2), words[++i] as Word);
      else opts.set(v.slice(2), true);
      i++;
      continue;
    }
    if (!v.startsWith('-') || v.length < 2) break;
    for (let k = 1; k < v.length; k++) {
      const c = v[k] as string;
      const rest = v.length - k - 1;
      if (spec.arg?.includes(c)) {
        if (rest > 0) opts.set(c, suffix(w, rest));
        else if (i + 1 < words.length) opts.set(c, words[++i] as Word);
        break;
      }
      if (spec.optional?.includes(c)) {
        opts.set(c, rest > 0 ? suffix(w, rest) : true);
        break;
      }
      opts.set(c, true);
    }
    i++;
  }
  return { at: i, opts };
}

/** Options anywhere among the operands (`su - root -c cmd`), up to `--`. */
function scanAll(words: readonly Word[], i: number, spec: Spec): Opts {
  const opts: Opts = new Map();
  while (i < words.length) {
    const r = scan(words, i, spec, opts);
    if (r.at >= words.length || words[r.at - 1]?.value === '--') break;
    i = r.at + 1;
  }
  return opts;
}

const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;

function skipAssignments(words: readonly Word[], i: number): number {
  while (i < words.length && ASSIGNMENT.test((words[i] as Word).value)) i++;
  return i;
}

function has(opts: Opts, ...keys: string[]): boolean {
  return keys.some((k) => opts.has(k));
}

function word(opts: Opts, ...keys: string[]): Word | undefined {
  for (const k of keys) {
    const v = opts.get(k);
    if (v && v !== true) return v;
  }
  return undefined;
}

type Step =
  | { readonly kind: 'exec'; readonly label: string; readonly words: readonly Word[]; readonly runtimeArgs?: boolean }
  | { readonly kind: 'code'; readonly label: string; readonly language: GuardLanguage; readonly words: readonly Word[] }
  | { readonly kind: 'branches'; readonly label: string; readonly groups: readonly (readonly Word[])[] };

const wrapped = (label: string, words: readonly Word[], at: number, runtimeArgs = false): Step | null =>
  at < words.length ? { kind: 'exec', label, words: words.slice(at), runtimeArgs } : null;
const code = (label: string, language: GuardLanguage, w: Word | undefined): Step | null => (w ? { kind: 'code', label, language, words: [w] } : null);

function simple(spec: Spec, stop: readonly string[] = []) {
  return (words: readonly Word[], prog: string): Step | null => {
    const { at, opts } = scan(words, 1, spec);
    return has(opts, ...stop) ? null : wrapped(prog, words, at);
  };
}

function shell(words: readonly Word[], prog: string): Step | null {
  let c = false;
  for (let i = 1; i < words.length; i++) {
    const v = (words[i] as Word).value;
    if (v === '--' || v === '-') return c ? code(`${prog} -c`, 'bash', words[i + 1]) : null;
    if (/^[-+]/.test(v) && v.length > 1) {
      if (v.startsWith('--')) {
        if (v === '--rcfile' || v === '--init-file') i++;
        continue;
      }
      if (v[0] === '-' && v.includes('c')) c = true;
      if (/[oO]/.test(v)) i++;
      continue;
    }
    return c ? code(`${prog} -c`, 'bash', words[i]) : null;
  }
  return null;
}

function python(words: readonly Word[], prog: string): Step | null {
  for (let i = 1; i < words.length; i++) {
    const w = words[i] as Word;
    const v = w.value;
    if (!v.startsWith('-') || v === '-' || v === '--') return null;
    if (v.startsWith('--')) {
      if (v === '--check-hash-based-pycs') i++;
      continue;
    }
    for (let k = 1; k < v.length; k++) {
      const ch = v[k];
      if (ch === 'c') return code(`${prog} -c`, 'python', k + 1 < v.length ? suffix(w, v.length - k - 1) : words[i + 1]);
      if (ch === 'm') return null;
      if (ch === 'W' || ch === 'X') {
        if (k + 1 === v.length) i++;
        break;
      }
    }
  }
  return null;
}

const NODE_ARG = new Set(['-r', '--require', '--import', '--loader', '--experimental-loader', '-C', '--conditions', '--input-type', '--title', '--env-file']);

function node(words: readonly Word[], prog: string): Step | null {
  let i = 1;
  if (prog === 'deno') {
    if (words[1]?.value !== 'eval') return null;
    const { at } = scan(words, 2, {});
    return code('deno eval', 'javascript', words[at]);
  }
  for (; i < words.length; i++) {
    const w = words[i] as Word;
    const v = w.value;
    if (/^-(e|p|pe|ep)$/.test(v) || v === '--eval' || v === '--print') return code(`${prog} -e`, 'javascript', words[i + 1]);
    if (v.startsWith('--eval=') || v.startsWith('--print=')) return code(`${prog} -e`, 'javascript', suffix(w, v.length - v.indexOf('=') - 1));
    if (NODE_ARG.has(v)) i++;
    else if (!v.startsWith('-')) return null;
  }
  return null;
}

function find(words: readonly Word[]): Step | null {
  const groups: Word[][] = [];
  let label = 'find -exec';
  for (let i = 1; i < words.length; i++) {
    const v = (words[i] as Word).value;
    if (v !== '-exec' && v !== '-execdir' && v !== '-ok' && v !== '-okdir') continue;
    label = `find ${v}`;
    let j = i + 1;
    while (j < words.length && (words[j] as Word).value !== ';' && (words[j] as Word).value !== '+') j++;
    if (j > i + 1) groups.push(words.slice(i + 1, j));
    i = j;
  }
  return groups.length > 0 ? { kind: 'branches', label, groups } : null;
}

function splitString(w: Word): Word[] {
  const from = w.value.length - knownOf(w);
  return [...w.value.matchAll(/[^ \t\n]+/g)].map((m) => {
    const part = { ...w, value: m[0], raw: -1 };
    // Each part knows what of it lies in the known tail of the whole.
    return w.dynamic ? { ...part, known: Math.max(0, Math.min(m[0].length, m.index + m[0].length - from)) } : part;
  });
}

const WRAPPERS: Record<string, (words: readonly Word[], prog: string) => Step | null> = {
  sudo: (words) => {
    const { at, opts } = scan(words, 1, {
      arg: 'ugpCDrtUTR',
      long: ['user', 'group', 'prompt', 'close-from', 'chdir', 'role', 'type', 'other-user', 'command-timeout', 'chroot', 'host'],
    });
    return has(opts, 'e', 'edit', 'l', 'list', 'V', 'version', 'v', 'validate', 'K', 'remove-timestamp') ? null : wrapped('sudo', words, skipAssignments(words, at));
  },
  doas: simple({ arg: 'uC' }),
  pkexec: simple({ long: ['user'] }),
  runuser: (words) => {
    const spec: Spec = { arg: 'ugGcsw', long: ['user', 'group', 'supp-group', 'command', 'session-command', 'shell', 'whitelist-environment'] };
    const first = scan(words, 1, spec);
    if (has(first.opts, 'u', 'user')) return wrapped('runuser', words, first.at);
    return code('runuser -c', 'bash', word(scanAll(words, 1, spec), 'c', 'command', 'session-command'));
  },
  su: (words) => {
    const spec: Spec = { arg: 'csgGw', long: ['command', 'session-command', 'shell', 'group', 'supp-group', 'whitelist-environment'] };
    return code('su -c', 'bash', word(scanAll(words, 1, spec), 'c', 'command', 'session-command'));
  },
  env: (words) => {
    const { at, opts } = scan(words, 1, { arg: 'uCSPa', long: ['unset', 'chdir', 'split-string', 'argv0'] });
    const split = word(opts, 'S', 'split-string');
    // A lone `-` is the old spelling of -i.
    const rest = words.slice(skipAssignments(words, words[at]?.value === '-' ? at + 1 : at));
    const argv = split ? [...splitString(split), ...rest] : rest;
    return wrapped('env', argv, 0);
  },
  timeout: (words) => {
    const { at } = scan(words, 1, { arg: 'sk', long: ['signal', 'kill-after'] });
    return wrapped('timeout', words, at + 1);
  },
  nohup: simple({}),
  nice: simple({ arg: 'n', long: ['adjustment'] }),
  ionice: simple({ arg: 'cnpPu', long: ['class', 'classdata', 'pid', 'pgid', 'uid'] }, ['p', 'P', 'u', 'pid', 'pgid', 'uid']),
  stdbuf: simple({ arg: 'ioe', long: ['input', 'output', 'error'] }),
  time: simple({ arg: 'fo', long: ['format', 'output'] }),
  command: simple({}, ['v', 'V']),
  exec: simple({ arg: 'a' }),
  builtin: (words) => wrapped('builtin', words, 1),
  setsid: simple({}),
  busybox: (words) => (words[1]?.value.startsWith('-') ? null : wrapped('busybox', words, 1)),
  xargs: (words) => {
    const { at } = scan(words, 1, {
      arg: 'aEILnPsd',
      optional: 'eil',
      long: ['arg-file', 'delimiter', 'max-lines', 'max-args', 'max-procs', 'max-chars', 'process-slot-var'],
    });
    return wrapped('xargs', words, at, true);
  },
  find: (words) => find(words),
  watch: (words) => {
    const { at, opts } = scan(words, 1, { arg: 'nq', optional: 'd', long: ['interval', 'equexit'] });
    if (has(opts, 'x', 'exec')) return wrapped('watch', words, at);
    // Without -x, watch hands its arguments, joined by spaces, to `sh -c`.
    return at < words.length ? { kind: 'code', label: 'watch', language: 'bash', words: words.slice(at) } : null;
  },
  chroot: (words) => wrapped('chroot', words, scan(words, 1, { long: ['userspec', 'groups'] }).at + 1),
  unshare: simple({ arg: 'SGRw', long: ['setuid', 'setgid', 'root', 'wd', 'propagation', 'map-user', 'map-group', 'map-users', 'map-groups', 'setgroups'] }),
  nsenter: simple({ arg: 'tSG', optional: 'mutinpUCTrw', long: ['target', 'setuid', 'setgid'] }),
  flock: (words) => {
    const spec: Spec = { arg: 'wEc', long: ['timeout', 'wait', 'conflict-exit-code', 'command'] };
    const first = scan(words, 1, spec);
    const { at, opts } = scan(words, first.at + 1, spec, first.opts);
    const c = word(opts, 'c', 'command');
    return c ? code('flock -c', 'bash', c) : wrapped('flock', words, at);
  },
  script: (words) => code('script -c', 'bash', word(scan(words, 1, { arg: 'cEIOBTm', long: ['command'] }).opts, 'c', 'command')),
  eval: (words) => (words.length > 1 ? { kind: 'code', label: 'eval', language: 'bash', words: words.slice(1) } : null),
};

const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'ash', 'mksh', 'rbash', 'posh', 'yash', 'fish']);
const PYTHON = /^(python(\d+(\.\d+)*)?|pypy\d*)$/;
const NODES = new Set(['node', 'nodejs', 'deno', 'bun']);

function stepFor(words: readonly Word[]): Step | null {
  const w0 = words[0];
  if (!w0 || w0.dynamic) return null;
  const prog = basename(w0.value);
  const handler = Object.hasOwn(WRAPPERS, prog) ? WRAPPERS[prog] : undefined;
  if (handler) return handler(words, prog);
  if (SHELLS.has(prog)) return shell(words, prog);
  if (PYTHON.test(prog)) return python(words, prog);
  if (NODES.has(prog)) return node(words, prog);
  return null;
}

/** Where the command sits and how it was reached. */
export interface Site {
  readonly language: GuardLanguage;
  /** End of the command in the frame (layer spans run from their first word to here). */
  readonly end: number;
  /** When set, every layer's span is this (an argv built from a call in code). */
  readonly start?: number;
  readonly via: readonly string[];
  readonly pipeline?: { readonly id: number; readonly stage: number };
  /** Arguments are appended at run time (`xargs`, `find -exec`). */
  readonly runtimeArgs?: boolean;
}

const MAX_LAYERS = 32;

/** Variables that name a shell on every system. */
const SHELL_VARIABLES: ReadonlyMap<string, string> = new Map([
  ['$SHELL', 'sh'],
  ['${SHELL}', 'sh'],
  ['$BASH', 'bash'],
  ['${BASH}', 'bash'],
]);

/**
 * The basename of argv[0] when the analysis knows it, else ''. `x=rm; $x`
 * is `rm` and `"$DIR"/rm` is `rm` whatever DIR holds, but the name in
 * `$(curl -fsSL https://x/y)` is decided at run time, and a fragment of its
 * text (`y)`) would let a rule about a program called `y)` match.
 */
export function programName(w: Word): string {
  // `curl … | $SHELL` pipes into a shell whatever the variable holds.
  const shell = w.dynamic ? SHELL_VARIABLES.get(w.value) : undefined;
  if (shell !== undefined) return shell;
  const base = basename(w.value);
  const known = knownOf(w);
  if (known === w.value.length) return base;
  // The base and the `/` before it must both be known.
  return base.length < known && base.length < w.value.length ? base : '';
}

function record(run: Run, frame: Frame, words: readonly Word[], site: Site, via: readonly string[], runtimeArgs: boolean): void {
  let dynamic = runtimeArgs;
  const argv: string[] = [];
  for (const w of words) {
    argv.push(w.value);
    if (w.dynamic) dynamic = true;
  }
  const first = words[0] as Word;
  const start = site.start ?? first.start;
  const inv: Invocation = {
    argv,
    program: programName(first),
    span: toTop(frame, start, Math.max(start, site.end)),
    // A program name that came out of a decoder was reached through it.
    via: first.decoders.length > 0 ? [...via, ...first.decoders] : via,
    dynamic,
    language: site.language,
  };
  run.facts.invocations.push(site.pipeline ? { ...inv, pipeline: site.pipeline } : inv);
}

/**
 * Records the invocation of `words` and of every program it wraps, analyses
 * wrapped scripts (`sh -c`, `python3 -c`, `eval`) as nested code, and
 * returns the innermost argv (what actually consumes stdin and prints).
 */
export function unwrap(run: Run, frame: Frame, words: readonly Word[], site: Site, layers = 0): { words: readonly Word[]; via: readonly string[] } {
  let cur = words;
  let via = site.via;
  let runtimeArgs = site.runtimeArgs === true;
  for (let n = layers; cur.length > 0 && n < MAX_LAYERS; n++) {
    record(run, frame, cur, site, via, runtimeArgs);
    const step = stepFor(cur);
    if (!step) return { words: cur, via };
    const next = [...via, step.label];
    switch (step.kind) {
      case 'exec':
        via = next;
        cur = step.words;
        runtimeArgs ||= step.runtimeArgs === true;
        break;
      case 'branches':
        for (const g of step.groups) unwrap(run, frame, g, { ...site, via: next, runtimeArgs: true }, n + 1);
        return { words: cur, via };
      case 'code': {
        const first = step.words[0] as Word;
        const last = step.words[step.words.length - 1] as Word;
        const text = step.words.map((w) => w.value).join(' ');
        const raw = step.words.length === 1 ? first.raw : frame.code.startsWith(text, first.start) ? first.start : -1;
        const decoders = step.words.flatMap((w) => w.decoders);
        run.nest(frame, step.language, text, { start: first.start, end: last.end, raw }, [...next, ...decoders]);
        return { words: cur, via };
      }
    }
  }
  return { words: cur, via };
}
