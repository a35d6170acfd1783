/**
 * Terminal sizes of pty processes, validated where they enter (spawn's `pty`
 * option and `resize`), so the agent only ever sees sizes it accepts.
 */
import { WardenError } from '@warden/protocol';
import type { TerminalSize } from '../agent-protocol/codec.js';

export type { TerminalSize };

/** The largest number of columns or rows a terminal may have. */
export const MAX_TERMINAL_CELLS = 1000;

function describe(v: unknown): string {
  return `${JSON.stringify(v) ?? String(v)} (${typeof v})`;
}

function checkCells(name: string, v: unknown, hint: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_TERMINAL_CELLS) {
    throw new WardenError('E_INVALID_ARGUMENT', `${name} must be an integer from 1 to ${MAX_TERMINAL_CELLS}, got ${describe(v)}. ${hint}`);
  }
  return v;
}

/** Validates the `pty` option of spawn: `undefined` (no terminal) or `{ cols, rows }`. */
export function checkPtyOption(pty: unknown): TerminalSize | undefined {
  if (pty === undefined) return undefined;
  const hint = 'Pass pty: { cols: 80, rows: 24 }, or leave pty out for plain pipes.';
  if (typeof pty !== 'object' || pty === null || Array.isArray(pty)) {
    throw new WardenError('E_INVALID_ARGUMENT', `pty must be an object { cols, rows } such as { cols: 80, rows: 24 }, got ${describe(pty)}.`);
  }
  const { cols, rows } = pty as { cols?: unknown; rows?: unknown };
  return Object.freeze({ cols: checkCells('pty.cols', cols, hint), rows: checkCells('pty.rows', rows, hint) });
}

/** Validates the arguments of `SandboxProcess.resize(cols, rows)`. */
export function checkResize(cols: unknown, rows: unknown): TerminalSize {
  const hint = 'For example resize(120, 40).';
  return Object.freeze({ cols: checkCells('resize(cols, rows): cols', cols, hint), rows: checkCells('resize(cols, rows): rows', rows, hint) });
}
