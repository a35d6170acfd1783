/**
 * `write:` — a literal path that the action writes to, however it is
 * spelled: a `>`/`>>` redirect, `tee`, the destination of `cp`/`mv`/
 * `install`/`ln`/`rsync`, `dd of=`, `sed -i`/`perl -i`, `truncate`,
 * `curl -o`/`wget -O`; Python `open(p, 'w'|'a'|'x'|'+')` (mode positional or
 * `mode=`), `shutil.copy*`/
 * `move`, `os.rename`/`replace`/`symlink`/`link`, `Path(p)….write_text()`;
 * JS `fs.writeFile*`/`appendFile*`/`createWriteStream`/`copyFile*`/
 * `rename*`/`symlink*` (any object, so `fsp.` and aliases count too).
 * Reading a file is not writing it: `cat ~/.bashrc` does not match.
 */
import { compileGlobs } from '../glob.js';
import { anyForm } from './command.js';
import { inLanguages, type Condition } from './context.js';

export function compileWrite(globs: readonly string[]): Condition {
  const m = compileGlobs(globs, { sep: '/' });
  return (facts, languages) => {
    const hits = facts.writes().filter((t) => inLanguages(languages, t.language) && anyForm(m, t.value));
    return hits.length > 0 ? hits.map((t) => t.span) : null;
  };
}
