import { describe, expect, it } from 'vitest';
import { secretsDetector } from './secrets.js';
import type { Finding, ScanContext } from './types.js';

/** Deterministic pseudo-random strings, so no token-shaped literal lives in the repo. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = rng(42);
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
const ALNUM = UPPER + LOWER + DIGITS;
/** `n` characters from `alphabet`, with at least one upper, lower and digit when the alphabet has them. */
function pick(n: number, alphabet = ALNUM): string {
  for (;;) {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[Math.floor(rand() * alphabet.length)];
    if ([UPPER, LOWER, DIGITS].every((set) => ![...set].some((c) => alphabet.includes(c)) || [...s].some((c) => set.includes(c)))) return s;
  }
}
const b64url = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
const pemBody = (bytes = 600): string => (Buffer.from(pick(bytes)).toString('base64').match(/.{1,64}/g) ?? []).join('\n');
const pem = (label: string, body = pemBody()): string => `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;

const noMember: ScanContext['scanMember'] = () => Promise.reject(new Error('no members here'));

async function scan(input: string | Uint8Array, o: { name?: string; chunk?: number } = {}): Promise<Finding[]> {
  const bytes = typeof input === 'string' ? Buffer.from(input) : input;
  const run = secretsDetector().start({ name: o.name ?? 'file.txt', depth: 0, scanMember: noMember });
  const step = o.chunk ?? bytes.length;
  for (let off = 0; off < bytes.length; off += step) run.update(bytes.subarray(off, off + step), off);
  const r = await run.finish({ contentType: 'text', bytes: bytes.length });
  expect(r.ran).toBe(true);
  return r.findings;
}

const ids = (fs: readonly Finding[]): string[] => fs.map((f) => f.ruleId);

interface Case {
  readonly what: string;
  readonly secret: string;
  readonly context?: (s: string) => string;
  readonly rule: string;
  readonly severity: string;
}

const awsId = `AKIA${pick(16, UPPER + DIGITS)}`;
const awsSecret = pick(40, ALNUM + '/+');
const openssh = (cipher: string): string => pem('OPENSSH PRIVATE KEY', Buffer.concat([Buffer.from('openssh-key-v1\0'), Buffer.from([0, 0, 0, cipher.length]), Buffer.from(cipher), Buffer.from(pick(300))]).toString('base64').replace(/.{64}/g, '$&\n'));

const POSITIVE: readonly Case[] = [
  { what: 'RSA private key', secret: pem('RSA PRIVATE KEY'), rule: 'secrets/private-key', severity: 'high' },
  { what: 'EC private key', secret: pem('EC PRIVATE KEY'), rule: 'secrets/private-key', severity: 'high' },
  { what: 'DSA private key', secret: pem('DSA PRIVATE KEY'), rule: 'secrets/private-key', severity: 'high' },
  { what: 'PKCS#8 private key', secret: pem('PRIVATE KEY'), rule: 'secrets/private-key', severity: 'high' },
  { what: 'OpenSSH private key', secret: openssh('none'), rule: 'secrets/private-key', severity: 'high' },
  { what: 'encrypted OpenSSH private key', secret: openssh('aes256-ctr'), rule: 'secrets/private-key', severity: 'medium' },
  { what: 'encrypted PKCS#8 key', secret: pem('ENCRYPTED PRIVATE KEY'), rule: 'secrets/private-key', severity: 'medium' },
  { what: 'legacy encrypted PEM', secret: pem('RSA PRIVATE KEY', `Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,${pick(32, '0123456789ABCDEF')}\n\n${pemBody()}`), rule: 'secrets/private-key', severity: 'medium' },
  { what: 'PGP private key block', secret: pem('PGP PRIVATE KEY BLOCK', `Version: GnuPG v2\n\n${pemBody()}`), rule: 'secrets/private-key', severity: 'high' },
  { what: 'AWS access key id', secret: awsId, context: (s) => `aws_access_key_id = ${s}\n`, rule: 'secrets/aws-access-key', severity: 'high' },
  { what: 'AWS temporary key id', secret: `ASIA${pick(16, UPPER + DIGITS)}`, context: (s) => `"AccessKeyId": "${s}",`, rule: 'secrets/aws-access-key', severity: 'high' },
  { what: 'AWS secret key near its id', secret: awsSecret, context: (s) => `${awsId},${s}\n`, rule: 'secrets/aws-secret-key', severity: 'high' },
  { what: 'AWS secret key by name', secret: pick(40, ALNUM + '/+'), context: (s) => `AWS_SECRET_ACCESS_KEY=${s}\n`, rule: 'secrets/aws-secret-key', severity: 'high' },
  ...['ghp', 'gho', 'ghu', 'ghs', 'ghr'].map((p) => ({ what: `GitHub ${p}_ token`, secret: `${p}_${pick(36)}`, context: (s: string) => `GITHUB_TOKEN="${s}"`, rule: 'secrets/github-token', severity: 'high' })),
  { what: 'GitHub fine-grained token', secret: `github_pat_${pick(22)}_${pick(59)}`, rule: 'secrets/github-token', severity: 'high' },
  { what: 'GitLab token', secret: `glpat-${pick(20, ALNUM + '_-')}`, rule: 'secrets/gitlab-token', severity: 'high' },
  { what: 'Slack bot token', secret: `xoxb-${pick(12, DIGITS)}-${pick(13, DIGITS)}-${pick(24)}`, rule: 'secrets/slack-token', severity: 'medium' },
  { what: 'Slack user token', secret: `xoxp-${pick(12, DIGITS)}-${pick(12, DIGITS)}-${pick(13, DIGITS)}-${pick(32, DIGITS + 'abcdef')}`, rule: 'secrets/slack-token', severity: 'medium' },
  { what: 'Stripe live key', secret: `sk_live_${pick(24)}`, rule: 'secrets/stripe-key', severity: 'high' },
  { what: 'Stripe restricted key', secret: `rk_live_${pick(99)}`, rule: 'secrets/stripe-key', severity: 'high' },
  { what: 'Google API key', secret: `AIza${pick(35, ALNUM + '_-')}`, context: (s) => `key=${s}&q=1`, rule: 'secrets/google-api-key', severity: 'medium' },
  { what: 'OpenAI project key', secret: `sk-proj-${pick(48, ALNUM + '_-')}`, rule: 'secrets/openai-key', severity: 'medium' },
  { what: 'OpenAI legacy key', secret: `sk-${pick(20)}T3BlbkFJ${pick(20)}`, rule: 'secrets/openai-key', severity: 'medium' },
  { what: 'Anthropic key', secret: `sk-ant-api03-${pick(93, ALNUM + '_-')}AA`, rule: 'secrets/anthropic-key', severity: 'medium' },
  { what: 'npm token', secret: `npm_${pick(36)}`, context: (s) => `//registry.npmjs.org/:_authToken=${s}\n`, rule: 'secrets/npm-token', severity: 'high' },
  {
    what: 'JWT',
    secret: `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url({ sub: '1234567890', name: 'someone', iat: 1516239022 })}.${pick(43, ALNUM + '_-')}`,
    context: (s) => `Authorization: Bearer ${s}\n`,
    rule: 'secrets/jwt',
    severity: 'medium',
  },
  { what: 'password assignment', secret: 'Xk9#mP2$vL7qR4wZ', context: (s) => `DB_PASSWORD="${s}"\n`, rule: 'secrets/generic-assignment', severity: 'low' },
  { what: 'secret in YAML', secret: 'c8Fq2Lz9Wm4Rt7Kp1Vx6', context: (s) => `client_secret: ${s}\n`, rule: 'secrets/generic-assignment', severity: 'low' },
  { what: 'secret in JSON', secret: 'pR7#qL2@xW9!mK4$', context: (s) => `{"apiKey": "${s}"}`, rule: 'secrets/generic-assignment', severity: 'low' },
];

describe('secretsDetector: every rule finds its secret', () => {
  it.each(POSITIVE)('$what → $rule ($severity)', async ({ secret, context, rule, severity }) => {
    const text = `some text before\n${(context ?? ((s: string) => `value: '${s}'\n`))(secret)}and after\n`;
    const findings = await scan(text);
    const f = findings.find((x) => x.ruleId === rule);
    expect(f, JSON.stringify(findings)).toBeDefined();
    expect(f!.severity).toBe(severity);
    expect(f!.detector).toBe('secrets');
    expect(f!.certainty).toBeGreaterThanOrEqual(rule === 'secrets/generic-assignment' ? 0.3 : 0.5);
    const at = text.indexOf(secret);
    expect(f!.evidence[0]!.offset).toBe(at);
    expect(f!.message).toMatch(/ at offset \d+: /);
  });

  it.each(POSITIVE)('$what is redacted: the secret is nowhere in the findings', async ({ secret, context }) => {
    const json = JSON.stringify(await scan((context ?? ((s: string) => `value: '${s}'\n`))(secret)));
    // The excerpt shows at most a fixed prefix and four characters; no 12-character piece of the rest appears.
    const body = secret.includes('PRIVATE KEY') ? secret.slice(secret.indexOf('-----\n') + 6, secret.indexOf('-----END')) : secret.slice(12);
    for (let i = 0; i + 12 <= body.length; i += 6) expect(json).not.toContain(body.slice(i, i + 12));
    expect(json).toMatch(/redacted|PRIVATE KEY/);
  });
});

describe('secretsDetector: look-alikes are not secrets', () => {
  it.each([
    ['a public key', pem('PUBLIC KEY')],
    ['a certificate', pem('CERTIFICATE')],
    ['AWS documentation example id', 'AKIAIOSFODNN7EXAMPLE'],
    ['an AWS id one character short', `AKIA${pick(15, UPPER + DIGITS)} `],
    ['an AWS id inside a longer word', `xAKIA${pick(16, UPPER + DIGITS)}`],
    ['an AWS id with lower case', `AKIA${pick(16, UPPER + DIGITS).toLowerCase()}`],
    ['a short ghp_', `ghp_${pick(20)}`],
    ['a short glpat-', `glpat-${pick(12)}`],
    ['xoxb- without digits', `xoxb-${pick(30, LOWER + '-')}`],
    ['Stripe test key', `sk_test_${pick(24)}`],
    ['AIza one short', `AIza${pick(34)} `],
    ['sk-learn and friends', 'pip install sk-learn scikit-learn; task-manager-sk-dependency-graph-builder'],
    ['sk- with lower-case words', 'sk-this-is-not-a-key-at-all-really-not'],
    ['short npm_', `npm_${pick(20)}`],
    ['eyJ without dots', `${b64url({ alg: 'HS256', typ: 'JWT' })}${b64url({ a: 1 })}`],
    ['password from a function call', 'const password = getPassword(config.user, 42);'],
    ['password from a member expression', 'password = self.settings.password2;'],
    ['password type annotation', 'password: string; secretValue: SecretType | undefined'],
    ['placeholder password', 'DB_PASSWORD="changeme-123-Example"'],
    ['template password', 'password: "${DB_PASSWORD_FROM_ENV_1}"'],
    ['low-entropy password', 'password = "aaaaaaaaaaaaaaaa1A"'],
    ['identifier with a counter', 'const previousToken = contextToken2;'],
    ['identifier with a digit inside, in C', 'pGlobal->api.xFindTokenizer_v2 = fts5FindTokenizer_v2;'],
    ['a word in quotes', 'lastSignificantToken = "?InterpolationInTemplate";'],
    ['comparison', 'if (token === "abcDEF123456ghiJKL789") {'],
    ['shell PWD', 'PWD=/home/runner/work/project-1/build-2024'],
    ['URL', 'secret_url: https://example.com/path/to/thing?x=1'],
  ])('%s', async (_what, text) => {
    const findings = await scan(`prefix ${text} suffix\n`);
    expect(findings.filter((f) => f.certainty >= 0.3)).toEqual([]);
  });

  it('AWS documentation example secret next to a real-looking id', async () => {
    expect(ids(await scan(`${awsId} wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY`))).toEqual(['secrets/aws-access-key']);
  });

  it('a private key header without key material is reported with low certainty (code that parses keys)', async () => {
    const findings = await scan('if (pem.startsWith("-----BEGIN RSA PRIVATE KEY-----")) parse(pem);');
    expect(ids(findings)).toEqual(['secrets/private-key']);
    expect(findings[0]!.certainty).toBeLessThan(0.5);
  });

  it('finds nothing in random binary, random base64 or zeros', async () => {
    const bin = new Uint8Array(1 << 20);
    for (let i = 0; i < bin.length; i++) bin[i] = Math.floor(rand() * 256);
    expect(await scan(bin)).toEqual([]);
    expect(await scan(Buffer.from(Buffer.from(bin).toString('base64')))).toEqual([]);
    expect(await scan(new Uint8Array(1 << 20))).toEqual([]);
  });
});

describe('secretsDetector: SSH identity files', () => {
  it('a private key in a file named id_rsa is certain', async () => {
    const f = await scan(pem('RSA PRIVATE KEY'), { name: 'home/u/.ssh/id_rsa' });
    expect(ids(f)).toEqual(['secrets/private-key']);
    expect(f[0]!.certainty).toBe(0.99);
    expect(f[0]!.message).toContain('id_rsa');
  });

  it('key material without PEM armour in id_ed25519 is reported', async () => {
    const raw = Buffer.concat([Buffer.from('openssh-key-v1\0'), Buffer.from(pick(200))]);
    expect(ids(await scan(raw, { name: 'id_ed25519' }))).toEqual(['secrets/ssh-key-file']);
    expect(ids(await scan(raw, { name: 'notes.bin' }))).toEqual([]);
    expect(ids(await scan('just some notes', { name: 'id_rsa' }))).toEqual([]);
    expect(ids(await scan(raw, { name: 'id_ed25519.pub' }))).toEqual([]);
  });
});

describe('secretsDetector: streaming', () => {
  /** Secrets every few KiB in text and binary noise, across the detector's 256 KiB window boundaries. */
  function corpus(): { bytes: Buffer; secrets: string[] } {
    const parts: Buffer[] = [];
    const secrets: string[] = [];
    let size = 0;
    for (let i = 0; size < 1_200_000; i++) {
      const c = POSITIVE[i % POSITIVE.length]!;
      const line = Buffer.from(`\n${(c.context ?? ((s: string) => `value: '${s}'\n`))(c.secret)}\n`);
      const noiseLen = 1000 + Math.floor(rand() * 30_000);
      const noise = Buffer.alloc(noiseLen);
      for (let k = 0; k < noiseLen; k++) noise[k] = i % 2 === 0 ? Math.floor(rand() * 256) : 'the quick brown fox = jumps: over\n'.charCodeAt(k % 34);
      parts.push(noise, line);
      secrets.push(c.secret);
      size += noiseLen + line.length;
    }
    return { bytes: Buffer.concat(parts), secrets };
  }

  it('gives the same findings for one chunk, 1-byte chunks and odd chunk sizes', async () => {
    const { bytes } = corpus();
    const whole = await scan(bytes);
    expect(whole.length).toBeGreaterThan(40);
    expect(await scan(bytes, { chunk: 1 })).toEqual(whole);
    expect(await scan(bytes, { chunk: 4093 })).toEqual(whole);
    expect(await scan(bytes, { chunk: 65536 + 7 })).toEqual(whole);
  }, 60_000);

  it('finds a secret cut by every possible chunk boundary', async () => {
    const token = `ghp_${pick(36)}`;
    const text = Buffer.from(`token=${token}\n`);
    for (let cut = 1; cut < text.length; cut++) {
      const run = secretsDetector().start({ name: '', depth: 0, scanMember: noMember });
      run.update(text.subarray(0, cut), 0);
      run.update(text.subarray(cut), cut);
      const { findings } = await run.finish({ contentType: 'text', bytes: text.length });
      expect(ids(findings)).toEqual(['secrets/github-token']);
    }
  });

  it('keeps 25 findings per rule, lowest offsets first, and counts the rest', async () => {
    const text = Array.from({ length: 100 }, () => `t=ghp_${pick(36)}\n`).join('');
    const findings = await scan(text, { chunk: 100 });
    expect(findings).toHaveLength(25);
    expect(findings[0]!.evidence[0]!.offset).toBe(2);
    expect(findings[24]!.message).toContain('75 more like it are not listed');
  });
});
