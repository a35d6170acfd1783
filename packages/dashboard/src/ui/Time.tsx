import type { JSX } from 'react';
import { formatRelative, formatTime } from '../lib/format.js';

/** A timestamp in the viewer's zone; with `now`, relative ("in 4 min"), the exact time in the tooltip. */
export function Time({ iso, now }: { readonly iso: string; readonly now?: number }): JSX.Element {
  return (
    <time dateTime={iso} title={formatTime(iso)}>
      {now === undefined ? formatTime(iso) : formatRelative(iso, now)}
    </time>
  );
}
