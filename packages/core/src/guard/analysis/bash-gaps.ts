/*
 * Valid bash that tree-sitter-bash 0.25 cannot parse, rewritten before
 * parsing into bash it can, character for character (same length, so every
 * offset stays right). Walkers read values from the original text, so only
 * the shape of the tree comes from the rewrite:
 *
 * - a bare `$` that starts no expansion (`^packages$)`, `echo $;`, `a$/b`) is
 *   a literal `$` to bash, but the external scanner (scanner.c,
 *   scan_bare_dollar) accepts one only before whitespace, `"` or the end of
 *   input. It becomes `_`, a plain word character.
 * - `<>` (open read-write: `exec 3<>/dev/tcp/h/p`) is missing from the
 *   grammar's redirect operators. It becomes `>|`, an operator of the same
 *   length and shape; the walker reads the operator from the original text.
 *
 * Without this such code is a parse error, which makes the guard ask.
 */

/** Characters that can follow `$` in an expansion (or that the grammar already handles after a bare `$`). */
const EXPANDS = /[A-Za-z0-9_{([*@#?!\-'"\s\\$]/;
const CANDIDATE = /\$[^A-Za-z0-9_{([*@#?!\-'"\s\\$]|<>/;

/** The text to hand to tree-sitter for bash `code`: `code` itself unless it has one of the gaps above. */
export function bashParseText(code: string): string {
  if (!CANDIDATE.test(code)) return code;
  let out: string[] | null = null;
  for (let i = 0; i < code.length; i++) {
    const c = code[i];
    if (c === '\\') {
      i++; // an escaped character is never an operator or an expansion
    } else if (c === '$') {
      const next = code[i + 1];
      if (next === '$') i++; // `$$` is the shell's pid
      else if (next !== undefined && !EXPANDS.test(next)) (out ??= code.split(''))[i] = '_';
    } else if (c === '<' && code[i + 1] === '>' && code[i - 1] !== '<' && !/[>&|(]/.test(code[i + 2] ?? '')) {
      out ??= code.split('');
      out[i] = '>';
      out[i + 1] = '|';
      i++;
    }
  }
  return out ? out.join('') : code;
}
