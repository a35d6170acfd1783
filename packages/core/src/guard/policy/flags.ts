/**
 * Reads an argv the way rules talk about it: which flags are set, in any
 * spelling, and which words are operands. `-rf`, `-r -f`, `-fr` all set `r`
 * and `f`; `--recursive` sets `recursive` and, through the alias table,
 * `r`; `-exec` (single-dash long option, as find and java write them) sets
 * `exec` as well as `e`, `x`, `c`. Words after `--` are operands.
 */

/** program → { spelling → the flag it also counts as }. Both directions are listed where a rule may name either. */
export type FlagAliases = Readonly<Record<string, Readonly<Record<string, string>>>>;

export const BUILTIN_FLAG_ALIASES: FlagAliases = {
  rm: { R: 'r', recursive: 'r', force: 'f', dir: 'd' },
  rmdir: { parents: 'p' },
  cp: { R: 'r', recursive: 'r', force: 'f' },
  chmod: { recursive: 'R' },
  chown: { recursive: 'R' },
  chgrp: { recursive: 'R' },
  shred: { remove: 'u', zero: 'z' },
  git: { f: 'force', 'force-with-lease': 'force', 'force-if-includes': 'force', d: 'delete' },
  pip: { i: 'index-url' },
  pip3: { i: 'index-url' },
  uv: { i: 'index-url' },
  curl: { k: 'insecure', o: 'output', O: 'remote-name' },
  wget: { O: 'output-document' },
  nc: { e: 'exec', c: 'sh-exec', l: 'listen' },
  ncat: { e: 'exec', c: 'sh-exec', l: 'listen' },
  sed: { i: 'in-place' },
  crontab: { e: 'edit', r: 'remove' },
  base64: { d: 'decode', D: 'decode' },
  base32: { d: 'decode' },
  basenc: { d: 'decode' },
  openssl: { d: 'decode' },
  xxd: { r: 'decode', revert: 'decode' },
  setfacl: { recursive: 'R' },
  sysctl: { write: 'w', load: 'p' },
};

export interface ParsedArgs {
  readonly flags: ReadonlySet<string>;
  /** Words that are not options, and the values of `--name=value` options. */
  readonly operands: readonly string[];
}

export function parseArgs(argv: readonly string[], aliases: Readonly<Record<string, string>> | undefined): ParsedArgs {
  const flags = new Set<string>();
  const operands: string[] = [];
  let optionsEnded = false;
  for (let i = 1; i < argv.length; i++) {
    const w = argv[i]!;
    if (optionsEnded || w === '-' || !w.startsWith('-')) {
      operands.push(w);
    } else if (w === '--') {
      optionsEnded = true;
    } else if (w.startsWith('--')) {
      const eq = w.indexOf('=');
      addFlag(flags, eq < 0 ? w.slice(2) : w.slice(2, eq), aliases);
      if (eq >= 0) operands.push(w.slice(eq + 1));
    } else {
      const body = w.slice(1);
      if (body.length > 1) addFlag(flags, body, aliases);
      for (const c of body) addFlag(flags, c, aliases);
    }
  }
  return { flags, operands };
}

function addFlag(flags: Set<string>, f: string, aliases: Readonly<Record<string, string>> | undefined): void {
  flags.add(f);
  if (aliases !== undefined && Object.hasOwn(aliases, f)) flags.add(aliases[f]!);
}

/** The built-in table with a policy's own `flag_aliases` laid over it. */
export function mergeAliases(own: FlagAliases | undefined): FlagAliases {
  if (!own) return BUILTIN_FLAG_ALIASES;
  const merged: Record<string, Readonly<Record<string, string>>> = { ...BUILTIN_FLAG_ALIASES };
  for (const [program, table] of Object.entries(own)) merged[program] = { ...merged[program], ...table };
  return merged;
}
