import { mkdtemp, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hasCode } from '@warden/protocol';
import { loadSecretsKey, secretsKeyFrom } from './crypto.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'warden-secrets-key-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    return hasCode(e, 'E_SECRETS_UNAVAILABLE') ? 'E_SECRETS_UNAVAILABLE' : String(e);
  }
  return undefined;
};

describe('secrets encryption', () => {
  it('round-trips, with a fresh nonce per value and no plaintext in the ciphertext', () => {
    const k = secretsKeyFrom(randomBytes(32));
    const a = k.seal('hunter2-hunter2', 't1:API');
    const b = k.seal('hunter2-hunter2', 't1:API');
    expect(a.nonce.equals(b.nonce)).toBe(false);
    expect(a.data.includes(Buffer.from('hunter2'))).toBe(false);
    expect(k.open(a, 't1:API')).toBe('hunter2-hunter2');
  });

  it('refuses a value opened under another tenant or name, another key, or with a flipped bit', () => {
    const k = secretsKeyFrom(randomBytes(32));
    const s = k.seal('value-1234', 't1:API');
    expect(codeOf(() => k.open(s, 't2:API'))).toBe('E_SECRETS_UNAVAILABLE');
    expect(codeOf(() => secretsKeyFrom(randomBytes(32)).open(s, 't1:API'))).toBe('E_SECRETS_UNAVAILABLE');
    const flipped = Buffer.from(s.data);
    flipped[0]! ^= 1;
    expect(codeOf(() => k.open({ nonce: s.nonce, data: flipped }, 't1:API'))).toBe('E_SECRETS_UNAVAILABLE');
  });

  it('creates the key file 0600 (its directory 0700) and loads the same key again', async () => {
    const file = join(dir, 'keys', 'secrets.key');
    const k1 = await loadSecretsKey(file);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'keys'))).mode & 0o777).toBe(0o700);
    const k2 = await loadSecretsKey(file);
    expect(k2.id).toBe(k1.id);
    expect(k2.open(k1.seal('abcd-efgh', 'x'), 'x')).toBe('abcd-efgh');
  });

  it('refuses a key file others can read, and one that is not 32 bytes of base64', async () => {
    const file = join(dir, 'secrets.key');
    await writeFile(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o644 });
    await chmod(file, 0o644);
    await expect(loadSecretsKey(file)).rejects.toMatchObject({ code: 'E_SECRETS_UNAVAILABLE' });
    await writeFile(file, 'short\n', { mode: 0o600 });
    await chmod(file, 0o600);
    await expect(loadSecretsKey(file)).rejects.toMatchObject({ code: 'E_SECRETS_UNAVAILABLE' });
  });
});
