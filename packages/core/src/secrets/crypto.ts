/**
 * Encryption at rest of stored secrets: AES-256-GCM, a fresh 96-bit nonce per
 * value, and the (tenant, name) pair as additional authenticated data, so a
 * ciphertext copied to another row or tenant fails to open. The key lives in
 * a file outside the database (0600, created on first use): a copy of the
 * database alone reveals nothing.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { WardenError } from '@warden/protocol';

const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export interface Sealed {
  readonly nonce: Buffer;
  /** Ciphertext followed by the 16-byte tag. */
  readonly data: Buffer;
}

export interface SecretsKey {
  /** sha256 of the key, first 16 hex digits: which key sealed a value, without revealing it. */
  readonly id: string;
  seal(plaintext: string, aad: string): Sealed;
  /** Throws E_SECRETS_UNAVAILABLE when the value does not authenticate (another key, a moved or edited row). */
  open(sealed: Sealed, aad: string): string;
}

const unavailable = (message: string, cause?: unknown): WardenError => new WardenError('E_SECRETS_UNAVAILABLE', message, cause === undefined ? {} : { cause });

/** A key from 32 raw bytes. */
export function secretsKeyFrom(raw: Buffer): SecretsKey {
  if (raw.length !== KEY_BYTES) throw unavailable(`The secrets key must be ${KEY_BYTES} bytes, got ${raw.length}.`);
  const key = Buffer.from(raw);
  return {
    id: createHash('sha256').update(key).digest('hex').slice(0, 16),
    seal(plaintext, aad) {
      const nonce = randomBytes(NONCE_BYTES);
      const c = createCipheriv('aes-256-gcm', key, nonce);
      c.setAAD(Buffer.from(aad, 'utf8'));
      const data = Buffer.concat([c.update(plaintext, 'utf8'), c.final(), c.getAuthTag()]);
      return { nonce, data };
    },
    open(sealed, aad) {
      if (sealed.nonce.length !== NONCE_BYTES || sealed.data.length < TAG_BYTES) throw unavailable('A stored secret is malformed (its nonce or tag is missing).');
      try {
        const d = createDecipheriv('aes-256-gcm', key, sealed.nonce);
        d.setAAD(Buffer.from(aad, 'utf8'));
        d.setAuthTag(sealed.data.subarray(sealed.data.length - TAG_BYTES));
        return Buffer.concat([d.update(sealed.data.subarray(0, sealed.data.length - TAG_BYTES)), d.final()]).toString('utf8');
      } catch (err) {
        throw unavailable('A stored secret does not decrypt with this key: the key is not the one it was stored with, or the database row was altered.', err);
      }
    },
  };
}

/**
 * Loads the key from `file` (base64 of 32 bytes), creating it with mode 0600
 * (and its directory 0700) when it does not exist. Refuses a key file that
 * others can read or write: whoever reads it reads every secret.
 * @example const key = await loadSecretsKey(`${dataDir}/keys/secrets.key`);
 */
export async function loadSecretsKey(file: string): Promise<SecretsKey> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw unavailable(`Cannot read the secrets key ${file}: ${(err as Error).message}.`, err);
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    const fresh = randomBytes(KEY_BYTES).toString('base64');
    try {
      const fh = await open(file, 'wx', 0o600);
      await fh.writeFile(`${fresh}\n`);
      await fh.sync();
      await fh.close();
      await chmod(file, 0o600);
      text = fresh;
    } catch (e) {
      // Another process created it first: use theirs.
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw unavailable(`Cannot create the secrets key ${file}: ${(e as Error).message}.`, e);
      text = await readFile(file, 'utf8');
    }
  }
  const st = await stat(file);
  if ((st.mode & 0o077) !== 0) throw unavailable(`The secrets key ${file} is accessible to other users (mode ${(st.mode & 0o777).toString(8)}); run chmod 600 on it.`);
  const raw = Buffer.from(text.trim(), 'base64');
  if (raw.length !== KEY_BYTES || raw.toString('base64') !== text.trim()) throw unavailable(`The secrets key ${file} is not base64 of ${KEY_BYTES} bytes.`);
  return secretsKeyFrom(raw);
}
