import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openAuditLog } from './log.js';
import { maskValues, redactPreview, redactSecrets } from './redact.js';

/** Deterministic "random" strings, so secrets look generated without being real. */
function rnd(n: number, seed: number, alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'): string {
  let s = '';
  for (let block = 0; s.length < n; block++) {
    for (const b of createHash('sha256').update(`${seed}/${block}`).digest()) if (s.length < n) s += alphabet[b % alphabet.length];
  }
  return s;
}

const pemBody = Array.from({ length: 6 }, (_, i) => rnd(64, 100 + i, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/')).join('\n');
const jwt = `eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0.${rnd(43, 7, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-')}`;
const awsSecret = rnd(40, 11, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/');

/** [name, text as it would appear, the part that must never be stored]. Every secret is ≥ 20 characters. */
const SECRETS: readonly (readonly [string, string, string])[] = [
  ['AWS access key id', `aws configure set aws_access_key_id AKIA${rnd(16, 1, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}`, `AKIA${rnd(16, 1, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}`],
  ['AWS secret key, assigned', `export AWS_SECRET_ACCESS_KEY=${awsSecret}`, awsSecret],
  ['AWS secret key, next to its key id', `creds AKIA${rnd(16, 2, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')} ${awsSecret}`, awsSecret],
  ['GitHub classic token', `git clone https://ghp_${rnd(36, 3)}@github.com/o/r.git`, `ghp_${rnd(36, 3)}`],
  ['GitHub fine-grained token', `GH=github_pat_${rnd(82, 4, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_')} gh api /user`, `github_pat_${rnd(82, 4, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_')}`],
  ['OpenAI project key', `curl -H "Authorization: Bearer sk-proj-${rnd(48, 5)}" https://api.openai.com`, `sk-proj-${rnd(48, 5)}`],
  ['OpenAI key in code', `client = OpenAI(api_key="sk-${rnd(48, 6)}")`, `sk-${rnd(48, 6)}`],
  ['Anthropic key', `ANTHROPIC=sk-ant-api03-${rnd(80, 8)} python agent.py`, `sk-ant-api03-${rnd(80, 8)}`],
  ['Slack bot token', `slack post xoxb-${rnd(12, 9, '0123456789')}-${rnd(13, 10, '0123456789')}-${rnd(24, 12)}`, `xoxb-${rnd(12, 9, '0123456789')}-${rnd(13, 10, '0123456789')}-${rnd(24, 12)}`],
  ['JWT', `curl -b session=${jwt} https://app`, jwt],
  ['PEM private key', `cat > id <<EOF\n-----BEGIN RSA PRIVATE KEY-----\n${pemBody}\n-----END RSA PRIVATE KEY-----\nEOF`, pemBody],
  ['PEM private key, no END line', `echo '-----BEGIN OPENSSH PRIVATE KEY-----\n${pemBody}`, pemBody],
  ['password assignment', `mysql --host db password=${rnd(24, 13)}`, rnd(24, 13)],
  ['password with & and ; in it', `connect password=${rnd(10, 14)}&${rnd(12, 15)};x`, `${rnd(10, 14)}&${rnd(12, 15)}`],
  ['token: value (YAML)', `printf 'token: ${rnd(32, 16, '0123456789abcdef')}\n' > cfg.yml`, rnd(32, 16, '0123456789abcdef')],
  ['JSON password', `echo '{"user":"bob","password":"${rnd(28, 17)}"}' | api`, rnd(28, 17)],
  ['client_secret in a query string', `curl 'https://idp/token?client_id=app&client_secret=${rnd(30, 18)}&grant=x'`, rnd(30, 18)],
  ['--api-key flag', `tool --api-key ${rnd(32, 19)} run`, rnd(32, 19)],
  ['--password= flag', `psql --password=${rnd(22, 20)}`, rnd(22, 20)],
  ['URL with user:password', `git push https://deploy:${rnd(26, 21)}@git.example.com/r.git`, rnd(26, 21)],
  ['Basic authorization header', `curl -H 'Authorization: Basic ${Buffer.from(`bob:${rnd(20, 22)}`).toString('base64')}' x`, Buffer.from(`bob:${rnd(20, 22)}`).toString('base64')],
  ['Stripe live key', `stripe --key sk_live_${rnd(32, 23)}`, `sk_live_${rnd(32, 23)}`],
  ['npm token', `echo //registry.npmjs.org/:_authToken=npm_${rnd(36, 24)} > .npmrc`, `npm_${rnd(36, 24)}`],
  ['GitLab token', `glab auth login --token glpat-${rnd(20, 25)}`, `glpat-${rnd(20, 25)}`],
  ['Google API key', `maps?key=AIza${rnd(35, 26, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-')}`, `AIza${rnd(35, 26, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-')}`],
];

/** Every 12-character slice of `secret` that appears in `stored`. */
function leaks(stored: string, secret: string): string[] {
  const found: string[] = [];
  for (let i = 0; i + 12 <= secret.length; i++) if (stored.includes(secret.slice(i, i + 12))) found.push(secret.slice(i, i + 12));
  return found;
}

describe('redactSecrets', () => {
  it.each(SECRETS)('masks a %s', (_name, text, secret) => {
    const out = redactSecrets(text);
    expect(leaks(out, secret)).toEqual([]);
    expect(out).toMatch(/\[REDACTED:[a-z0-9-]+\]/);
  });

  it.each([
    ['plain commands', 'ls -la /workspace && npm test -- --run'],
    ['an env var reference', 'export GITHUB_TOKEN=$GITHUB_TOKEN'],
    ['a command substitution', 'TOKEN=$(cat /run/secrets/t) ./deploy'],
    ['a sha256 digest', 'sha256sum: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'],
    ['a URL without credentials', 'curl https://example.com:8443/path?q=1'],
  ])('leaves %s alone', (_name, text) => {
    expect(redactSecrets(text)).toBe(text);
  });

  it('maps the scanner’s byte offsets back to characters in non-ASCII text', () => {
    const token = `ghp_${rnd(36, 40)}`;
    const out = redactSecrets(`héllo wörld 😀 ${token} ünd mehr`);
    expect(out).toBe('héllo wörld 😀 [REDACTED:github-token] ünd mehr');
  });
});

describe('maskValues', () => {
  it('masks known values and their URL-encoded and base64 forms', () => {
    const v = 'p@ss w0rd/42!';
    const text = `a ${v} b ${encodeURIComponent(v)} c ${Buffer.from(v).toString('base64')} d`;
    expect(maskValues(text, [v])).toBe('a [MASKED] b [MASKED] c [MASKED] d');
  });

  it('ignores values shorter than 4 characters and empty lists', () => {
    expect(maskValues('abc abc', ['abc', ''])).toBe('abc abc');
    expect(maskValues('abc', [])).toBe('abc');
  });

  it('masks the longer of two overlapping values whole', () => {
    expect(maskValues('xx secret-long yy', ['secret', 'secret-long'])).toBe('xx [MASKED] yy');
  });
});

describe('redactPreview', () => {
  it('keeps a short preview as is', () => {
    expect(redactPreview('npm test')).toBe('npm test');
  });

  it('caps at maxChars and counts the original characters left out', () => {
    const text = 'x'.repeat(1000);
    const out = redactPreview(text, { maxChars: 100 });
    expect(out).toBe(`${'x'.repeat(100)}…[+900 chars]`);
  });

  it('hides a secret that straddles the cap whole, never in part', () => {
    const token = `ghp_${rnd(36, 41)}`;
    for (let at = 480; at <= 512; at += 4) {
      const out = redactPreview(`${'a'.repeat(at)} ${token} tail`, { maxChars: 512 });
      expect(leaks(out, token), `token at ${at}`).toEqual([]);
      expect(out.length).toBeLessThanOrEqual(512 + '…[+9999 chars]'.length);
      expect(out).not.toMatch(/\[REDACTED:[a-z-]*…/); // never half a marker
    }
  });

  it('shows nothing near the end of the scan window when masking shrank the text (a secret cut there would be missed)', () => {
    const pem = `-----BEGIN PRIVATE KEY-----\n${rnd(4400, 42)}\n-----END PRIVATE KEY-----`;
    const token = `ghp_${rnd(36, 43)}`;
    // The token starts a few characters before the 512 + 4096 scan window ends, so the scan sees only part of it.
    const text = `${pem}${' '.repeat(512 + 4096 - pem.length - 6)}${token} and more`;
    const out = redactPreview(text, { maxChars: 512 });
    expect(leaks(out, token)).toEqual([]);
    expect(out).not.toContain('ghp_');
    expect(out).toMatch(/^\[REDACTED:private-key\] *…\[\+\d+ chars\]$/);
  });

  it('masks known values before capping', () => {
    expect(redactPreview('deploy --file x hunter2-but-longer', { values: ['hunter2-but-longer'] })).toBe('deploy --file x [MASKED]');
  });

  it('replaces lone surrogates (not storable as UTF-8) with U+FFFD and never splits a pair at the cap', () => {
    expect(redactPreview('a\ud800b')).toBe('a\ufffdb');
    const out = redactPreview(`${'x'.repeat(99)}😀😀`, { maxChars: 100 });
    expect(out).toBe(`${'x'.repeat(99)}…[+4 chars]`);
  });

  it('is linear: a 4 MB preview with many secret-looking words takes milliseconds', () => {
    const text = 'password= token: eyJabcdef.eyJ a_b_c_d-e.f '.repeat(100_000);
    const t0 = performance.now();
    redactPreview(text);
    expect(performance.now() - t0).toBeLessThan(250);
  });
});

describe('stored rows never hold a secret', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('in the preview (anywhere: start, at the cap, past it) or in details, no 12-character slice of any secret reaches the database', () => {
    dir = mkdtempSync(join(tmpdir(), 'warden-audit-redact-'));
    const file = join(dir, 'audit.sqlite');
    const log = openAuditLog({ file, keyFile: join(dir, 'audit.key') });
    for (const [name, text] of SECRETS) {
      for (const pad of [0, 480, 500, 505, 3000]) {
        log.append({ action: 'command.start', preview: `${pad ? `${'p'.repeat(pad)} ` : ''}${text}`, details: { name, argv: ['sh', '-c', text], env: { NOTE: text } } });
      }
    }
    log.close();
    const db = new Database(file, { readonly: true });
    try {
      const rows = db.prepare('SELECT * FROM events').all() as Record<string, unknown>[];
      expect(rows.length).toBe(SECRETS.length * 5);
      const stored = rows.map((r) => Object.values(r).map(String).join('\u0001')).join('\n');
      for (const [name, , secret] of SECRETS) expect(leaks(stored, secret), name).toEqual([]);
    } finally {
      db.close();
    }
    // Redaction happens before hashing: the stored, redacted chain verifies.
    const ro = openAuditLog({ file, keyFile: join(dir, 'audit.key'), readOnly: true });
    expect(ro.verify().ok).toBe(true);
    ro.close();
  });
});
