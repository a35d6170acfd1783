/**
 * `files.write` replaces a file atomically: the helper writes an anonymous
 * O_TMPFILE (which inotify names `#<inode>`), links it as
 * `.warden-write-<16 hex>` and renames that onto the path. A watch would show
 * those steps — events on names nobody wrote and a path that only "appears".
 * This filter hides the helper's temporaries and reports the result as what
 * it is for the path: `create`, then `write`. Pure, one per watch.
 */
import { posix } from 'node:path';
import type { WatchEvent } from './types.js';

const NAMED_TEMP = /^\.warden-write-[0-9a-f]{16}$/;
const ANONYMOUS = /^#\d+$/;

export function writeTempFilter(): (e: WatchEvent) => WatchEvent[] {
  /** `#<digits>` names seen created: real files (an anonymous temp is never created under a name). */
  const realHashNames = new Set<string>();
  /** The directory whose temp was just renamed onto a path: its next create is that path. */
  let renamedIn: string | undefined;
  return (e) => {
    const base = posix.basename(e.path);
    if (e.type === 'overflow') return [e];
    if (NAMED_TEMP.test(base)) {
      if (e.type === 'rename') renamedIn = posix.dirname(e.path);
      return [];
    }
    if (ANONYMOUS.test(base) && !realHashNames.has(e.path)) {
      if (e.type !== 'create') return [];
      realHashNames.add(e.path);
    }
    if (e.type === 'create' && renamedIn === posix.dirname(e.path)) {
      renamedIn = undefined;
      return [e, { type: 'write', path: e.path }];
    }
    return [e];
  };
}
