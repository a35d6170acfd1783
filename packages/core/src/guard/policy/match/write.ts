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
import { compilePathGlobs } from '../glob.js';
import type { Condition } from './context.js';
import { matching } from './path.js';

export function compileWrite(globs: readonly string[]): Condition {
  const m = compilePathGlobs(globs);
  return (facts, languages) => matching(facts.writes(), m, languages);
}
