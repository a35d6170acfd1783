import { randomBytes } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/** A short random id such as `sbx_k3v9q2m7x4ab` (60 bits of entropy). */
export function newId(prefix: string): string {
  const bytes = randomBytes(12);
  let s = '';
  for (let i = 0; i < 12; i++) s += ALPHABET[(bytes[i] ?? 0) & 31];
  return `${prefix}_${s}`;
}
