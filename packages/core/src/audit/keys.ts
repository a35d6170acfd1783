/**
 * The checkpoint signing key: one Ed25519 key in a PKCS#8 PEM file, kept
 * apart from the database so that whoever can write the database cannot also
 * re-sign it. Key rotation is out of scope: a log has exactly one key, its id
 * recorded when the log is created.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { WardenError } from '@warden/protocol';
import { canonicalJson } from './canonical.js';

export interface VerifyingKey {
  readonly publicKey: KeyObject;
  /** SPKI PEM. */
  readonly pem: string;
  /** sha256 hex of the raw 32-byte public key. */
  readonly keyId: string;
}

export interface SigningKey extends VerifyingKey {
  readonly privateKey: KeyObject;
}

const unavailable = (message: string, cause?: unknown): WardenError =>
  new WardenError('E_AUDIT_UNAVAILABLE', message, cause === undefined ? {} : { cause });

function verifyingKey(publicKey: KeyObject): VerifyingKey {
  const jwk = publicKey.export({ format: 'jwk' });
  const raw = Buffer.from(jwk.x ?? '', 'base64url');
  return { publicKey, pem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), keyId: createHash('sha256').update(raw).digest('hex') };
}

/**
 * A public key given as SPKI PEM or as base64 of the raw 32 bytes.
 * Throws E_INVALID_ARGUMENT for anything else.
 */
export function parsePublicKey(input: string | KeyObject): VerifyingKey {
  let key: KeyObject;
  try {
    if (typeof input !== 'string') key = input.type === 'private' ? createPublicKey(input) : input;
    else if (input.includes('-----BEGIN')) key = createPublicKey(input);
    else {
      const raw = Buffer.from(input.trim(), 'base64');
      if (raw.length !== 32) throw new Error(`${raw.length} bytes`);
      key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
    }
  } catch (err) {
    throw new WardenError('E_INVALID_ARGUMENT', `publicKey must be an Ed25519 public key as SPKI PEM or base64 of its 32 raw bytes: ${(err as Error).message}.`, { cause: err });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new WardenError('E_INVALID_ARGUMENT', `publicKey must be an Ed25519 key, got ${key.asymmetricKeyType ?? 'unknown'}.`);
  return verifyingKey(key);
}

/**
 * Reads the signing key from `file`, or (when `create`) makes one: written to
 * a temporary file with mode 0600, fsynced, then hard-linked into place so a
 * reader never sees half a key and two processes racing end up with the same
 * key. Refuses a key file other users can read: anyone who can read it can
 * forge checkpoints.
 */
export function loadSigningKey(file: string, create: boolean): SigningKey {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw unavailable(`Cannot read the audit signing key ${file}: ${(err as Error).message}.`, err);
    if (!create) {
      throw unavailable(
        `The audit signing key ${file} is missing, but the audit log was created with a key. Restore the key file; a new key cannot vouch for the existing checkpoints.`,
      );
    }
    pem = createKeyFile(file);
  }
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw unavailable(`The audit signing key ${file} has mode ${mode.toString(8).padStart(4, '0')}: other users could read it and forge checkpoints. Run chmod 600 on it.`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (err) {
    throw unavailable(`The audit signing key ${file} is not a PEM private key: ${(err as Error).message}.`, err);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') throw unavailable(`The audit signing key ${file} is a ${privateKey.asymmetricKeyType ?? 'unknown'} key; it must be Ed25519.`);
  return { privateKey, ...verifyingKey(createPublicKey(privateKey)) };
}

function createKeyFile(file: string): string {
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeSync(fd, pem);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(tmp, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      return readFileSync(file, 'utf8'); // another process made it first: use theirs
    }
    const dirFd = openSync(dirname(file), 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
    return pem;
  } catch (err) {
    throw unavailable(`Cannot create the audit signing key ${file}: ${(err as Error).message}. Check that its directory is writable.`, err);
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // never created, or already gone
    }
  }
}

export interface CheckpointBody {
  readonly logId: string;
  readonly seq: number;
  readonly treeSize: number;
  readonly root: string;
  readonly ts: string;
}

/** The bytes a checkpoint signature covers: canonical JSON with a type tag, so a signature means nothing in another context. */
export function checkpointMessage(c: CheckpointBody): Buffer {
  return Buffer.from(canonicalJson({ type: 'warden.audit.checkpoint/v1', logId: c.logId, seq: c.seq, treeSize: c.treeSize, root: c.root, ts: c.ts }), 'utf8');
}

export function signCheckpoint(key: SigningKey, c: CheckpointBody): string {
  return sign(null, checkpointMessage(c), key.privateKey).toString('base64');
}

export function checkpointSignatureValid(key: VerifyingKey, c: CheckpointBody, signature: string): boolean {
  try {
    return verify(null, checkpointMessage(c), key.publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}
