/** Characters that are safe unquoted in any bash word position. */
const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

const RESERVED = new Set(['if', 'then', 'else', 'elif', 'fi', 'case', 'esac', 'for', 'select', 'while', 'until', 'do', 'done', 'in', 'function', 'time', 'coproc']);

/**
 * Quotes an argv as one bash command line, so `exec(['rm', '-rf', '/'])` is
 * analysed exactly like the shell line `rm -rf /`. Words that need it are
 * single-quoted (`'` becomes `'\''`); an empty word becomes `''`.
 *
 * @example argvToShell(['echo', 'a b', "it's"]) // "echo 'a b' 'it'\\''s'"
 */
export function argvToShell(argv: readonly string[]): string {
  // argv[0] must not read as an assignment (`A=1`) or a reserved word (`if`, `time`).
  return argv.map((w, i) => (SAFE.test(w) && (i > 0 || (!w.includes('=') && !RESERVED.has(w))) ? w : `'${w.replace(/'/g, `'\\''`)}'`)).join(' ');
}
