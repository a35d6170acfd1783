/**
 * The spellings of one path that a path glob is tried against: as written,
 * lexically normalised (`//`, `/./`, `a/..` and a trailing `/` removed, so
 * `/tmp/../` is `/`), and with the home directory as `~` (`$HOME`, `${HOME}`,
 * `/root`, `/home/<user>`). Normalising is lexical only: the guard never
 * touches the file system, and a symlink can still point anywhere — which is
 * why the sandbox, not the guard, is the security boundary.
 */

const HOME_VAR = /^(?:\$HOME|\$\{HOME\})(?=\/|$)/;
const HOME_DIR = /^\/(?:root|home\/[^/]+)(?=\/|$)/;

/** `a//b/./c/../d/` → `a/b/d`; `..` above the root stays at the root; relative leading `..` are kept. */
export function normalisePath(p: string): string {
  if (p === '') return p;
  const absolute = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!absolute) out.push('..');
      continue;
    }
    out.push(part);
  }
  const joined = out.join('/');
  if (absolute) return `/${joined}`;
  return joined === '' ? '.' : joined;
}

/** Every spelling of `raw` worth matching, without duplicates, `raw` first. */
export function pathForms(raw: string): string[] {
  const forms = new Set<string>([raw]);
  if (!raw.includes('/') && !raw.startsWith('$')) return [...forms];
  const homed = raw.replace(HOME_VAR, '~');
  const normal = normalisePath(homed);
  forms.add(normal);
  if (HOME_DIR.test(normal)) forms.add(normal.replace(HOME_DIR, '~'));
  return [...forms];
}

/** Whether a literal string from code looks like a path worth checking (not prose, not a blob). */
export function looksLikePath(s: string): boolean {
  return s.length > 0 && s.length <= 4096 && (s.includes('/') || s.startsWith('~') || s.startsWith('$HOME') || s.startsWith('${HOME}')) && !/[\n\r\0]/.test(s);
}
