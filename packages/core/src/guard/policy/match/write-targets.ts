/** Where an analysis writes: the literal destinations `write:` conditions match (see write.ts). */
import type { Analysis, GuardLanguage, Invocation, Span } from '../../types.js';
import type { Facts } from './context.js';

/** One place a literal path is written. */
export interface Target {
  readonly value: string;
  readonly span: Span;
  readonly language: GuardLanguage;
}

const COPY_LIKE = new Set(['cp', 'mv', 'install', 'ln', 'rsync', 'scp']);
const IN_PLACE = new Set(['sed', 'perl', 'ruby']);
const ALL_OPERANDS = new Set(['tee', 'truncate', 'shred']);
const OUTPUT_FLAG: Record<string, readonly string[]> = { curl: ['-o', '--output'], wget: ['-O', '--output-document'] };

const PY_OPEN = new Set(['open', 'builtins.open', 'io.open', 'codecs.open', 'os.fdopen']);
const PY_DEST_ARG1 = /^(?:shutil\.(?:copy|copy2|copyfile|copytree|move)|os\.(?:rename|renames|replace|symlink|link))$/;
const PY_PATH_WRITE = /\.(?:write_text|write_bytes|touch|symlink_to|hardlink_to)$/;
const JS_DEST_ARG0 = /(?:^|\.)(?:writeFile|writeFileSync|appendFile|appendFileSync|createWriteStream|truncate|truncateSync|outputFile|outputFileSync|writeJson|writeJsonSync)$/;
const JS_DEST_ARG1 = /(?:^|\.)(?:copyFile|copyFileSync|cp|cpSync|rename|renameSync|symlink|symlinkSync|link|linkSync|copy|copySync|move|moveSync)$/;
const JS_OPEN = /(?:^|\.)(?:open|openSync)$/;
const WRITE_MODE = /[wax+]/;

/** Every literal path the analysis shows being written, in any language. */
export function writeTargets(facts: Facts): Target[] {
  const a = facts.analysis;
  const out: Target[] = [];
  for (const r of a.redirects) if (r.op.includes('>')) out.push({ value: r.target, span: r.span, language: 'bash' });
  for (const inv of a.invocations) for (const value of invocationTargets(facts, inv)) out.push({ value, span: inv.span, language: inv.language });
  callTargets(a, out);
  return out;
}

const NONE: readonly string[] = [];

function invocationTargets(facts: Facts, inv: Invocation): readonly string[] {
  const { program, argv } = inv;
  if (ALL_OPERANDS.has(program)) return facts.args(inv).operands;
  if (program === 'dd') return argv.filter((w) => w.startsWith('of=')).map((w) => w.slice(3));
  if (IN_PLACE.has(program)) {
    const parsed = facts.args(inv);
    return parsed.flags.has('i') || parsed.flags.has('in-place') ? parsed.operands : NONE;
  }
  const output = Object.hasOwn(OUTPUT_FLAG, program) ? OUTPUT_FLAG[program] : undefined;
  if (output) return valuesOf(argv, output);
  if (COPY_LIKE.has(program)) {
    // The destination, and what lands in it when it is a directory (`cp passwd /etc/`).
    const ops = facts.args(inv).operands;
    const dirs = valuesOf(argv, ['-t', '--target-directory']);
    const [dest, sources] = dirs.length > 0 ? [dirs[0]!, ops.filter((o) => o !== dirs[0])] : ops.length >= 2 ? [ops[ops.length - 1]!, ops.slice(0, -1)] : [undefined, []];
    if (dest === undefined) return [];
    // Only when dest is surely a directory: `cp ~/.bashrc ./backup` writes ./backup, not ./backup/.bashrc.
    const intoDir = dirs.length > 0 || dest.endsWith('/') || sources.length > 1;
    if (!intoDir) return [dest];
    return [dest, ...sources.map((src) => `${dest.replace(/\/+$/, '')}/${src.replace(/\/+$/, '').split('/').pop() ?? ''}`)];
  }
  return NONE;
}

/** Values of an option written `-o v`, `-ov`, `--output v` or `--output=v`. */
function valuesOf(argv: readonly string[], names: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const w = argv[i]!;
    for (const n of names) {
      if (w === n && i + 1 < argv.length) out.push(argv[i + 1]!);
      else if (n.startsWith('--') && w.startsWith(`${n}=`)) out.push(w.slice(n.length + 1));
      else if (!n.startsWith('--') && w.startsWith(n) && w.length > n.length && !w.startsWith('--')) out.push(w.slice(n.length));
    }
  }
  return out;
}

function callTargets(a: Analysis, out: Target[]): void {
  const lit = (v: string | null | undefined): v is string => typeof v === 'string' && v.length > 0;
  for (const c of a.calls) {
    const [a0, a1] = c.args;
    if (c.language === 'python') {
      // open(p, 'w'), open(p, mode='a'), open(file=p, mode='x')
      const file = a0 ?? c.kwargs?.file;
      const mode = a1 ?? c.kwargs?.mode;
      if (PY_OPEN.has(c.name) && lit(file) && lit(mode) && WRITE_MODE.test(mode)) out.push({ value: file, span: c.span, language: c.language });
      else if (PY_DEST_ARG1.test(c.name) && lit(a1)) out.push({ value: a1, span: c.span, language: c.language });
      else if (c.name === 'pathlib.Path' && lit(a0) && a.calls.some((w) => w.name.startsWith('pathlib.Path()') && PY_PATH_WRITE.test(w.name))) out.push({ value: a0, span: c.span, language: c.language });
    } else {
      if (JS_DEST_ARG0.test(c.name) && lit(a0)) out.push({ value: a0, span: c.span, language: c.language });
      else if (JS_DEST_ARG1.test(c.name) && lit(a1)) out.push({ value: a1, span: c.span, language: c.language });
      else if (JS_OPEN.test(c.name) && c.name.includes('.') && lit(a0) && lit(a1) && WRITE_MODE.test(a1)) out.push({ value: a0, span: c.span, language: c.language });
    }
  }
}
