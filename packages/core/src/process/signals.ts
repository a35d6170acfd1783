import { constants } from 'node:os';
import { WardenError } from '@warden/protocol';

const byNumber = new Map<number, string>();
for (const [name, num] of Object.entries(constants.signals)) if (!byNumber.has(num)) byNumber.set(num, name);

export type SignalName = keyof typeof constants.signals;

/** `SIGTERM` | `TERM` | 15 → 15; throws E_INVALID_ARGUMENT for anything else. */
export function signalNumber(sig: string | number): number {
  if (typeof sig === 'number') {
    if (Number.isInteger(sig) && sig >= 1 && sig <= 64) return sig;
  } else {
    const name = (sig.startsWith('SIG') ? sig : `SIG${sig}`).toUpperCase() as SignalName;
    const n = constants.signals[name];
    if (n !== undefined) return n;
  }
  throw new WardenError('E_INVALID_ARGUMENT', `signal must be a signal name like "SIGTERM" or a number from 1 to 64, got ${JSON.stringify(sig)}.`);
}

export function signalName(num: number): string {
  return byNumber.get(num) ?? `SIG${num}`;
}
