/**
 * SHA-256 for the chain and the Merkle tree. crypto.hash (Node ≥ 20.12) is
 * about twice as fast as createHash for the short inputs hashed here (one
 * event, 33 or 65 bytes), and appends and verification hash several times per
 * event; older Node falls back to createHash.
 */
import * as crypto from 'node:crypto';

type OneShot = (algorithm: string, data: string | Buffer, outputEncoding: 'hex' | 'buffer') => string | Buffer;
const oneShot = (crypto as unknown as { hash?: OneShot }).hash;

/** sha256 of a string (as UTF-8), hex. */
export const sha256Hex: (data: string) => string = oneShot
  ? (data) => oneShot('sha256', data, 'hex') as string
  : (data) => crypto.createHash('sha256').update(data).digest('hex');

/** sha256 of bytes, as a Buffer. */
export const sha256Bytes: (data: Buffer) => Buffer = oneShot
  ? (data) => oneShot('sha256', data, 'buffer') as Buffer
  : (data) => crypto.createHash('sha256').update(data).digest();
