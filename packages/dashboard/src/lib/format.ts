/** Pure formatting for the pages: sizes, times, durations, command outcomes. */
import type { ExecResult } from '@warden/protocol';

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i] ?? 'TiB'}`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 59.5) return `${s < 9.95 ? s.toFixed(1) : Math.round(s)} s`;
  const total = Math.round(s); // whole seconds first, so 3599.6 s is 1 h 0 min, never 59 min 60 s
  const m = Math.floor(total / 60);
  if (m < 60) return `${m} min ${total - m * 60} s`;
  const h = Math.floor(m / 60);
  return `${h} h ${m - h * 60} min`;
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** `2026-11-01 14:03:59` in the viewer's time zone; the input unchanged when it is not a date. */
export function formatTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** `in 4 min` / `3 s ago`, relative to `now`. */
export function formatRelative(iso: string, now: number): string {
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return iso;
  const delta = t - now;
  const text = formatDuration(Math.abs(delta) < 1000 ? 0 : Math.abs(delta)).replace(/^0 ms$/, 'now');
  if (text === 'now') return text;
  return delta > 0 ? `in ${text}` : `${text} ago`;
}

/** How a command ended, in a few words: `exit 0`, `killed by SIGKILL`, `timed out`. */
export function outcomeOf(r: Pick<ExecResult, 'reason' | 'exitCode' | 'signal' | 'truncated'>): string {
  const base = ((): string => {
    switch (r.reason) {
      case 'exited':
        return `exit ${r.exitCode ?? '?'}`;
      case 'signaled':
        return `killed by ${r.signal ?? 'a signal'}`;
      case 'timeout':
        return 'timed out';
      case 'oom':
        return 'out of memory';
      case 'output-limit':
        return 'output limit reached';
      case 'aborted':
        return 'aborted';
      case 'sandbox-closed':
        return 'sandbox closed';
    }
  })();
  return r.truncated && r.reason !== 'output-limit' ? `${base} (output truncated)` : base;
}

/** Whether an outcome is a success (exit 0). */
export function succeeded(r: Pick<ExecResult, 'reason' | 'exitCode'>): boolean {
  return r.reason === 'exited' && r.exitCode === 0;
}

/** A command's argv as a person typed it: the script of `bash -c SCRIPT`, else the words joined with spaces. */
export function commandText(argv: readonly string[]): string {
  if (argv.length === 3 && /(^|\/)(ba)?sh$/.test(argv[0] ?? '') && argv[1] === '-c') return argv[2] ?? '';
  // Words with anything but these characters are single-quoted, so the text could be pasted into a shell.
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

export type MetadataFilter = { readonly ok: true; readonly value: Record<string, string> } | { readonly ok: false; readonly error: string };

/** `team=a, job=7` → `{ team: 'a', job: '7' }`; empty text is no filter. */
export function parseMetadataFilter(text: string): MetadataFilter {
  const value: Record<string, string> = {};
  for (const part of text.split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq <= 0) return { ok: false, error: `"${item}" is not key=value. Write filters as key=value, separated by commas.` };
    value[item.slice(0, eq).trim()] = item.slice(eq + 1).trim();
  }
  return { ok: true, value };
}

/** A datetime-local input's value (local time) as an ISO instant, or undefined when empty or invalid. */
export function localInputToIso(value: string): string | undefined {
  if (value === '') return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}
