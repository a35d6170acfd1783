/*
 * The text tree-sitter-bash 0.25 is given for a piece of bash: the code with
 * valid bash the grammar cannot parse rewritten into bash it can, character
 * for character (every offset stays right), and a newline added at the end
 * when there is none. Walkers read values from the original text, so only
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
 *
 * The newline: a pipeline of three or more commands right at the end of the
 * input sends the parser into error recovery it then backs out of, several
 * times slower (`a | b | c | d | e | f` takes ~4x as long as the same line
 * ending in a newline); the tree is the same up to the root's end.
 */

/** Characters that can follow `$` in an expansion (or that the grammar already handles after a bare `$`). */
const EXPANDS = /[A-Za-z0-9_{([*@#?!\-'"\s\\$]/;
const CANDIDATE = /\$[^A-Za-z0-9_{([*@#?!\-'"\s\\$]|<>/;

/** The text to hand to tree-sitter for bash `code` (see above). */
export function bashParseText(code: string): string {
  const patched = patchGaps(code);
  return patched.endsWith('\n') ? patched : `${patched}\n`;
}

function patchGaps(code: string): string {
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
