/** A short status word with a colour class: risks, decisions, states, outcomes. The colour is never the only cue: the word is always shown. */
import type { JSX } from 'react';

export type Tone = 'neutral' | 'good' | 'warn' | 'bad' | 'info';

const TONES: Readonly<Record<string, Tone>> = {
  none: 'neutral',
  low: 'info',
  medium: 'warn',
  high: 'bad',
  critical: 'bad',
  allow: 'good',
  ask: 'warn',
  deny: 'bad',
  running: 'good',
  closed: 'neutral',
  pending: 'warn',
  approved: 'good',
  denied: 'bad',
  expired: 'neutral',
  used: 'info',
  ok: 'good',
};

export function toneOf(word: string): Tone {
  return TONES[word] ?? 'neutral';
}

export function Badge({ children, tone, label }: { readonly children: string; readonly tone?: Tone; readonly label?: string }): JSX.Element {
  return (
    <span className={`badge badge-${tone ?? toneOf(children)}`} {...(label !== undefined ? { 'aria-label': `${label}: ${children}` } : {})}>
      {children}
    </span>
  );
}
