/**
 * Pure matchers for the secrets detector. Each reads a bounded number of bytes
 * (at most MAX_MATCH_BYTES after its start, LOOKBACK_BYTES before) so the
 * detector's window can hold every match whole. No regexes on file content:
 * hand-written byte scanning, linear in the bytes read.
 */
import { excerpt } from '../evidence.js';
import type { Severity } from '../types.js';

/** Longest match (a JWT) and the farthest any matcher reads after a start. */
export const MAX_MATCH_BYTES = 4096;
/** The farthest any matcher reads before a start (AWS secret keys near a key id). */
export const LOOKBACK_BYTES = 512;
/** Every token rule starts with at least this many token characters ([A-Za-z0-9_-]); see forEachCandidate. */
export const STRIDE = 16;
const HALF = STRIDE / 2;

export interface Rule {
  readonly id: string;
  readonly severity: Severity;
  /** What was found, for the message: `a GitHub token`. */
  readonly what: string;
  /** Why it matters, for the message. */
  readonly risk: string;
}

const rule = (id: string, severity: Severity, what: string, risk: string): Rule => ({ id: `secrets/${id}`, severity, what, risk });
const ACCOUNT = 'anyone who reads the file can use the account it belongs to; revoke and rotate it';

export const RULES = {
  privateKey: rule('private-key', 'high', 'a private key', 'anyone who reads the file can impersonate its owner or decrypt what it protects'),
  sshKeyFile: rule('ssh-key-file', 'high', 'SSH private key material', 'the file is named like an SSH identity and holds key material'),
  awsAccessKey: rule('aws-access-key', 'high', 'an AWS access key id', 'with its secret key it gives access to the AWS account; deactivate it'),
  awsSecretKey: rule('aws-secret-key', 'high', 'an AWS secret access key', 'it signs requests to the AWS account; deactivate it'),
  githubToken: rule('github-token', 'high', 'a GitHub token', ACCOUNT),
  gitlabToken: rule('gitlab-token', 'high', 'a GitLab personal access token', ACCOUNT),
  slackToken: rule('slack-token', 'medium', 'a Slack token', ACCOUNT),
  stripeKey: rule('stripe-key', 'high', 'a live Stripe secret key', 'it can move money on the Stripe account; roll it'),
  googleApiKey: rule('google-api-key', 'medium', 'a Google API key', 'it bills and authorises requests to Google Cloud APIs; restrict or rotate it'),
  openaiKey: rule('openai-key', 'medium', 'an OpenAI API key', ACCOUNT),
  anthropicKey: rule('anthropic-key', 'medium', 'an Anthropic API key', ACCOUNT),
  npmToken: rule('npm-token', 'high', 'an npm access token', 'it can publish packages as its owner; revoke it'),
  jwt: rule('jwt', 'medium', 'a JSON Web Token', 'it is a bearer credential until it expires'),
  genericAssignment: rule('generic-assignment', 'low', 'a high-entropy value assigned to a secret-looking name', 'it may be a hard-coded password or key'),
} as const;

export interface Hit {
  readonly rule: Rule;
  /** Index in the scanned buffer. */
  readonly start: number;
  readonly length: number;
  readonly certainty: number;
  /** Redacted: a prefix and the length, never the secret. */
  readonly excerpt: string;
  /** Extra words for the message: the token kind, `encrypted`, … */
  readonly detail?: string;
  /** Overrides the rule's severity (an encrypted private key is less bad). */
  readonly severity?: Severity;
}

// Byte classes, one bit each.
const W = 1; // [A-Za-z0-9_]
const DASH = 2;
const UPPER = 4;
const LOWER = 8;
const DIGIT = 16;
const B64 = 32; // [A-Za-z0-9+/]
const BLANK = 64; // space, tab
const VALUE = 128; // may appear in an unquoted value
const OPERATOR = 256; // before `=`, makes it a comparison or a compound assignment
const CODE = 512; // in an unquoted value, makes it an expression
const TOKEN = W | DASH;
const ALNUM = UPPER | LOWER | DIGIT;

/** Constant lookup tables, built once. */
const CLS = new Uint16Array(256);
/** PAIR_W[b0 | b1 << 8] = 1 when both bytes are word characters: lets the candidate walk step two bytes at a time. */
const PAIR_W = new Uint8Array(65536);
{
  for (let c = 0; c < 256; c++) {
    let f = 0;
    if (c >= 0x41 && c <= 0x5a) f |= W | UPPER | B64;
    if (c >= 0x61 && c <= 0x7a) f |= W | LOWER | B64;
    if (c >= 0x30 && c <= 0x39) f |= W | DIGIT | B64;
    if (c === 0x5f) f |= W;
    if (c === 0x2d) f |= DASH;
    if (c === 0x2b || c === 0x2f) f |= B64;
    if (c === 0x20 || c === 0x09) f |= BLANK;
    if (c > 0x20 && c < 0x7f && !'"\'`,;)]}<>&'.includes(String.fromCharCode(c))) f |= VALUE;
    if ('=!<>+-*/%&|^'.includes(String.fromCharCode(c))) f |= OPERATOR;
    if ('.([{'.includes(String.fromCharCode(c))) f |= CODE;
    CLS[c] = f;
  }
  for (let i = 0; i < 65536; i++) PAIR_W[i] = CLS[i & 0xff]! & CLS[i >> 8]! & W;
}

const lit = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const cls = (b: Uint8Array, i: number): number => CLS[b[i]!]!;

function has(b: Uint8Array, i: number, end: number, bytes: Uint8Array): boolean {
  if (i < 0 || i + bytes.length > end) return false;
  for (let k = 0; k < bytes.length; k++) if (b[i + k] !== bytes[k]) return false;
  return true;
}

/** Length of the run of bytes in `mask` from i, at most `max`. */
function span(b: Uint8Array, i: number, end: number, mask: number, max: number): number {
  const stop = Math.min(end, i + max);
  let j = i;
  while (j < stop && (CLS[b[j]!]! & mask) !== 0) j++;
  return j - i;
}

/** True when i is past the token: the end of the data or a byte outside `mask`. */
const endsAt = (b: Uint8Array, i: number, end: number, mask: number): boolean => i >= end || (cls(b, i) & mask) === 0;

function includes(b: Uint8Array, from: number, to: number, bytes: Uint8Array): boolean {
  for (let i = from; i + bytes.length <= to; i++) if (b[i] === bytes[0] && has(b, i, to, bytes)) return true;
  return false;
}

/** Classes present in b[from, to): bit set of UPPER, LOWER, DIGIT, and 1 for anything else. */
function classesOf(b: Uint8Array, from: number, to: number): number {
  let m = 0;
  for (let i = from; i < to; i++) m |= cls(b, i) & ALNUM || 1;
  return m;
}

const popcount = (m: number): number => ((m >> 0) & 1) + ((m >> 2) & 1) + ((m >> 3) & 1) + ((m >> 4) & 1);

function latin1(b: Uint8Array, from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) s += String.fromCharCode(b[i]!);
  return s;
}

function redacted(b: Uint8Array, start: number, shown: number, length: number, label = ''): string {
  return `${excerpt(b.subarray(start, start + Math.min(shown, length)), 40)}… (${label}${length} chars, redacted)`;
}

function hit(rule: Rule, b: Uint8Array, start: number, length: number, certainty: number, shown: number, detail?: string): Hit {
  return { rule, start, length, certainty, excerpt: redacted(b, start, shown, length), ...(detail === undefined ? {} : { detail }) };
}

/** FIRST[c] = 1 when c is the first letter of some token rule's fixed prefix: the letters matchToken dispatches on. */
const FIRST = new Uint8Array(256);
for (const c of 'Agxsren') FIRST[c.charCodeAt(0)] = 1;

/**
 * Calls `visit` with every candidate start q in [from, to): a word start (q is
 * 0 or b[q-1] is not [A-Za-z0-9_]) at the first letter of some token rule's
 * fixed prefix (FIRST; matchToken rejects any other start), followed by at
 * least STRIDE token characters ([A-Za-z0-9_-]). Every token rule matches only
 * at such a start. Starts at other letters are skipped before the run's length
 * is checked, which is most of the work in text and base64.
 *
 * Such a run always covers one of the sample points from, from+STRIDE, …, so
 * only those are looked at; from a sample inside a run the walk goes left at
 * most STRIDE bytes (two at a time through word characters). Zeros and most
 * binary cost one lookup per STRIDE bytes.
 */
export function forEachCandidate(b: Uint8Array, from: number, to: number, end: number, visit: (q: number) => void): void {
  const bounds = new Int32Array(STRIDE + 1);
  const last = Math.min(end, to + STRIDE - 1);
  for (let s = from; s < last; s += STRIDE) {
    if ((cls(b, s) & TOKEN) === 0) continue;
    // A run of STRIDE containing s also contains s - STRIDE/2 or s + STRIDE/2.
    if ((s + HALF >= end || (cls(b, s + HALF) & TOKEN) === 0) && (s - HALF < from || (cls(b, s - HALF) & TOKEN) === 0)) continue;
    const lo = Math.max(s - STRIDE + 1, from);
    let nb = 0;
    let q = s;
    for (;;) {
      if (q > lo + 1 && PAIR_W[b[q - 1]! | (b[q - 2]! << 8)] === 1) {
        q -= 2;
        continue;
      }
      if (q === 0) {
        if (FIRST[b[0]!] === 1) bounds[nb++] = 0;
        break;
      }
      const c = cls(b, q - 1);
      if ((c & W) === 0) {
        if (FIRST[b[q]!] === 1) bounds[nb++] = q;
        if ((c & DASH) === 0) break;
      }
      if (q === lo) break;
      q--;
    }
    if (nb === 0) continue;
    // [q, s] are token characters; the run must reach STRIDE bytes past each start.
    const need = bounds[0]! + STRIDE;
    let e = s + 1;
    while (e < need && e < end && (cls(b, e) & TOKEN) !== 0) e++;
    for (let j = nb - 1; j >= 0; j--) {
      const start = bounds[j]!;
      if (start < to && start + STRIDE <= e) visit(start);
    }
  }
}

const AKIA = lit('AKIA');
const ASIA = lit('ASIA');
const AIZA = lit('AIza');
const EXAMPLE = lit('EXAMPLE');
const GITHUB_PAT = lit('github_pat_');
const GLPAT = lit('glpat-');
const XOX = lit('xox');
const DASH1 = lit('-');
const LIVE = lit('k_live_');
const SK_DASH = lit('sk-');
const SK_ANT = lit('sk-ant-');
const OPENAI_MARK = lit('T3BlbkFJ'); // base64 of "OpenAI", inside legacy OpenAI keys
const OPENAI_KINDS = [lit('proj-'), lit('svcacct-'), lit('admin-')];
const NPM = lit('npm_');
const EYJ = lit('eyJ');

/** A token starting at candidate q, or undefined. Reads at most MAX_MATCH_BYTES. */
export function matchToken(b: Uint8Array, q: number, end: number): Hit | undefined {
  switch (b[q]!) {
    case 0x41: // A
      return matchAws(b, q, end) ?? matchGoogle(b, q, end);
    case 0x67: // g
      return matchGithub(b, q, end) ?? matchGitlab(b, q, end);
    case 0x78: // x
      return matchSlack(b, q, end);
    case 0x73: // s
      return matchStripe(b, q, end) ?? matchSkKey(b, q, end);
    case 0x72: // r
      return matchStripe(b, q, end);
    case 0x65: // e
      return matchJwt(b, q, end);
    case 0x6e: // n
      return matchNpm(b, q, end);
    default:
      return undefined;
  }
}

function matchAws(b: Uint8Array, q: number, end: number): Hit | undefined {
  const temporary = has(b, q, end, ASIA);
  if (!temporary && !has(b, q, end, AKIA)) return undefined;
  if (span(b, q + 4, end, UPPER | DIGIT, 17) !== 16 || !endsAt(b, q + 20, end, W)) return undefined;
  if (has(b, q + 13, end, EXAMPLE)) return undefined; // AKIAIOSFODNN7EXAMPLE and friends, from AWS's documentation
  return hit(RULES.awsAccessKey, b, q, 20, temporary ? 0.85 : 0.9, 8, temporary ? 'temporary, ASIA' : 'AKIA');
}

function matchGoogle(b: Uint8Array, q: number, end: number): Hit | undefined {
  if (!has(b, q, end, AIZA) || span(b, q + 4, end, TOKEN, 36) !== 35 || !endsAt(b, q + 39, end, TOKEN)) return undefined;
  return hit(RULES.googleApiKey, b, q, 39, 0.9, 8);
}

function matchGithub(b: Uint8Array, q: number, end: number): Hit | undefined {
  if (has(b, q, end, GITHUB_PAT)) {
    const n = span(b, q + 11, end, W, 256);
    if (n < 50 || n === 256 || !endsAt(b, q + 11 + n, end, W)) return undefined;
    return hit(RULES.githubToken, b, q, 11 + n, n === 82 ? 0.95 : 0.8, 15, 'fine-grained, github_pat_');
  }
  const kind = b[q + 2];
  if (b[q + 1] !== 0x68 || b[q + 3] !== 0x5f || (kind !== 0x70 && kind !== 0x6f && kind !== 0x75 && kind !== 0x73 && kind !== 0x72)) return undefined;
  const n = span(b, q + 4, end, ALNUM, 256);
  if (n < 36 || n === 256 || !endsAt(b, q + 4 + n, end, W)) return undefined;
  return hit(RULES.githubToken, b, q, 4 + n, n === 36 ? 0.95 : 0.75, 8, `gh${String.fromCharCode(kind)}_`);
}

function matchGitlab(b: Uint8Array, q: number, end: number): Hit | undefined {
  if (!has(b, q, end, GLPAT)) return undefined;
  const n = span(b, q + 6, end, TOKEN, 256);
  if (n < 20 || n === 256) return undefined;
  return hit(RULES.gitlabToken, b, q, 6 + n, n === 20 ? 0.95 : 0.85, 10, 'glpat-');
}

function matchSlack(b: Uint8Array, q: number, end: number): Hit | undefined {
  const kind = b[q + 3];
  if (!has(b, q, end, XOX) || b[q + 4] !== 0x2d || (kind !== 0x62 && kind !== 0x61 && kind !== 0x70 && kind !== 0x72 && kind !== 0x73)) return undefined;
  let n = span(b, q + 5, end, ALNUM | DASH, 256);
  while (n > 0 && b[q + 4 + n] === 0x2d) n--; // not a trailing dash
  if (n < 15 || n === 256) return undefined;
  const body = q + 5;
  if ((classesOf(b, body, body + n) & DIGIT) === 0 || !includes(b, body, body + n, DASH1)) return undefined;
  return hit(RULES.slackToken, b, q, 5 + n, 0.85, 9, `xox${String.fromCharCode(kind)}-`);
}

function matchStripe(b: Uint8Array, q: number, end: number): Hit | undefined {
  if (!has(b, q + 1, end, LIVE)) return undefined;
  const n = span(b, q + 8, end, ALNUM, 256);
  if (n < 24 || n === 256 || !endsAt(b, q + 8 + n, end, W)) return undefined;
  const restricted = b[q] === 0x72;
  return hit(RULES.stripeKey, b, q, 8 + n, restricted ? 0.9 : 0.95, 12, restricted ? 'restricted, rk_live_' : 'sk_live_');
}

function matchSkKey(b: Uint8Array, q: number, end: number): Hit | undefined {
  if (!has(b, q, end, SK_DASH)) return undefined;
  if (has(b, q, end, SK_ANT)) {
    const n = span(b, q + 7, end, TOKEN, 512);
    if (n < 32 || n === 512) return undefined;
    return hit(RULES.anthropicKey, b, q, 7 + n, 0.9, 11, 'sk-ant-');
  }
  const body = q + 3;
  const n = span(b, body, end, TOKEN, 512);
  if (n < 20 || n === 512) return undefined;
  const mix = classesOf(b, body, body + n);
  if ((mix & ALNUM) !== ALNUM) return undefined;
  let certainty = n >= 32 ? 0.6 : 0;
  if (includes(b, body, body + n, OPENAI_MARK)) certainty = 0.95;
  else if (n >= 40 && OPENAI_KINDS.some((k) => has(b, body, end, k))) certainty = 0.9;
  if (certainty === 0) return undefined;
  return hit(RULES.openaiKey, b, q, 3 + n, certainty, 7, 'sk-');
}

function matchNpm(b: Uint8Array, q: number, end: number): Hit | undefined {
  if (!has(b, q, end, NPM) || span(b, q + 4, end, ALNUM, 37) !== 36 || !endsAt(b, q + 40, end, W)) return undefined;
  return hit(RULES.npmToken, b, q, 40, 0.9, 8, 'npm_');
}

/** header.payload.signature, each base64url; header and payload are JSON objects, so both start with `eyJ`. */
function matchJwt(b: Uint8Array, q: number, end: number): Hit | undefined {
  if (!has(b, q, end, EYJ)) return undefined;
  const limit = Math.min(end, q + MAX_MATCH_BYTES);
  const h = span(b, q, limit, TOKEN, 1024);
  const p = q + h + 1;
  if (h < 15 || b[p - 1] !== 0x2e || !has(b, p, limit, EYJ)) return undefined;
  const pl = span(b, p, limit, TOKEN, limit - p);
  const s = p + pl + 1;
  if (pl < 15 || s > limit || b[s - 1] !== 0x2e) return undefined;
  const sl = span(b, s, limit, TOKEN, limit - s);
  if (s + sl >= limit && limit < end) return undefined; // longer than we look at
  if (!endsAt(b, s + sl, end, TOKEN)) return undefined;
  let alg: string | undefined;
  try {
    const header: unknown = JSON.parse(Buffer.from(latin1(b, q, q + h), 'base64url').toString('utf8'));
    if (typeof header === 'object' && header !== null && 'alg' in header && typeof header.alg === 'string') alg = header.alg;
  } catch {
    // not JSON: still shaped like a JWT, less sure
  }
  const length = s + sl - q;
  const certainty = alg === undefined ? 0.5 : sl === 0 ? 0.6 : 0.85;
  const detail = alg === undefined ? undefined : sl === 0 ? `alg ${alg.slice(0, 16)}, unsigned` : `alg ${alg.slice(0, 16)}`;
  return { rule: RULES.jwt, start: q, length, certainty, excerpt: redacted(b, q, 8, length, 'JWT, '), ...(detail === undefined ? {} : { detail }) };
}

export const PEM_BEGIN = lit('-----BEGIN ');
const DASHES5 = lit('-----');
const ENCRYPTED = lit('ENCRYPTED');
const OPENSSH_NONE = lit('b3BlbnNzaC1rZXktdjEAAAAABG5vbmU'); // "openssh-key-v1\0" + cipher "none"
const OPENSSH_MAGIC = lit('b3BlbnNzaC1rZXktdjE');
const PRIVATE_KEY_LABEL = /^(?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?$/;

/** A PEM private key whose `-----BEGIN ` is at q: the header, and whether key material follows. */
export function matchPem(b: Uint8Array, q: number, end: number): Hit | undefined {
  const labelStart = q + PEM_BEGIN.length;
  const labelLen = span(b, labelStart, end, UPPER | DIGIT | BLANK, 48);
  const headerEnd = labelStart + labelLen + 5;
  if (!has(b, headerEnd - 5, end, DASHES5)) return undefined;
  const label = latin1(b, labelStart, labelStart + labelLen);
  if (!PRIVATE_KEY_LABEL.test(label)) return undefined;
  // Key material: a line of 40+ base64 characters before the END line, within a few header lines.
  const stop = Math.min(end, headerEnd + 600);
  let run = 0;
  let body = -1;
  for (let i = headerEnd; i < stop; i++) {
    const c = b[i]!;
    if ((CLS[c]! & B64) !== 0 || c === 0x3d) {
      if (++run >= 40) {
        body = i + 1 - run;
        break;
      }
    } else if (c === 0x2d && has(b, i, stop, DASHES5)) break;
    else run = 0;
  }
  const openssh = body >= 0 && has(b, body, end, OPENSSH_MAGIC);
  const encrypted = label.includes('ENCRYPTED') || (body >= 0 && includes(b, headerEnd, body, ENCRYPTED)) || (openssh && !has(b, body, end, OPENSSH_NONE));
  const length = headerEnd - q;
  const detail = [label.replace(/ ?PRIVATE KEY.*$/, '') || 'PKCS#8', encrypted ? 'encrypted' : '', body < 0 ? 'header only' : ''].filter(Boolean).join(', ');
  return {
    rule: RULES.privateKey,
    start: q,
    length,
    // A header without key material is usually code that parses keys.
    certainty: body < 0 ? 0.3 : 0.95,
    excerpt: excerpt(b.subarray(q, headerEnd), 80),
    detail,
    ...(encrypted ? { severity: 'medium' as const } : {}),
  };
}

/** A 40-character base64 run in [lo, hi) that is not part of a longer run: an AWS secret access key's shape. */
export function forEachAwsSecret(b: Uint8Array, lo: number, hi: number, end: number, visit: (start: number) => void): void {
  let i = lo;
  while (i < hi) {
    if ((cls(b, i) & B64) === 0) {
      i++;
      continue;
    }
    const n = span(b, i, end, B64, 41);
    const whole = (i === 0 || ((cls(b, i - 1) & B64) === 0 && b[i - 1] !== 0x3d)) && n === 40 && b[i + 40] !== 0x3d;
    if (whole && i + 40 <= hi && looksLikeAwsSecret(b, i)) visit(i);
    i += n;
    while (i < hi && (cls(b, i) & B64) !== 0) i++; // rest of a longer run
  }
}

const EXAMPLEKEY = lit('EXAMPLEKEY');

function looksLikeAwsSecret(b: Uint8Array, i: number): boolean {
  // wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY is AWS's documentation example.
  return (classesOf(b, i, i + 40) & ALNUM) === ALNUM && !has(b, i + 33, i + 40, EXAMPLE) && !has(b, i + 30, i + 40, EXAMPLEKEY);
}

/** A secret key's shape with the AWS finding; used by the detector, which knows the offsets. */
export function awsSecretHit(b: Uint8Array, start: number, certainty: number, detail: string): Hit {
  return hit(RULES.awsSecretKey, b, start, 40, certainty, 4, detail);
}

const KEYWORDS = ['password', 'passwd', 'passphrase', 'pwd', 'secret', 'token', 'apikey', 'api_key', 'api-key', 'access_key', 'accesskey', 'private_key', 'credential'].map(lit);
const NO_KEYWORDS: readonly Uint8Array[] = [];
/** KEYWORDS by first letter. */
const KEYWORDS_AT: (readonly Uint8Array[])[] = Array.from({ length: 128 }, (_, c) => KEYWORDS.filter((k) => k[0] === c));

/** Whether b[ks, ke) contains a keyword, ignoring ASCII case. */
function hasKeyword(b: Uint8Array, ks: number, ke: number): boolean {
  for (let i = ks; i < ke; i++) {
    for (const k of KEYWORDS_AT[b[i]! | 0x20] ?? NO_KEYWORDS) {
      if (i + k.length > ke) continue;
      let n = 1;
      while (n < k.length && (b[i + n]! >= 0x41 && b[i + n]! <= 0x5a ? b[i + n]! | 0x20 : b[i + n]) === k[n]) n++;
      if (n === k.length) return true;
    }
  }
  return false;
}
const SHELL_VARS = new Set(['pwd', 'oldpwd']);
const PLACEHOLDERS = ['${', '{{', '%(', 'xxx', '***', '...', 'changeme', 'change_me', 'example', 'placeholder', 'your_', 'your-', 'dummy', 'redacted', 'process.env', 'environ', 'getenv', '://'];
const MAX_VALUE = 200;
const MAX_KEY = 64;

/**
 * A `name = value` or `name: value` assignment whose `=`/`:` is at a, with a
 * secret-looking name and a high-entropy value. Returns the value's span with
 * the name for the excerpt (the value itself is never shown), or an AWS
 * secret key when the name says so.
 */
export function matchAssignment(b: Uint8Array, a: number, end: number): Hit | undefined {
  const op = b[a];
  const next = a + 1 < end ? b[a + 1]! : 0;
  const prev = a > 0 ? b[a - 1]! : 0;
  if (op === 0x3d) {
    if (next === 0x3d || next === 0x3e || next === 0x7e) return undefined; // ==, =>, =~
    if ((cls(b, a - 1) & OPERATOR) !== 0 && a > 0) return undefined; // ==, !=, <=, +=, …
  } else if (next === 0x3a || next === 0x3d || next === 0x2f || prev === 0x3a) return undefined; // ::, :=, ://

  // The value.
  let i = a + 1;
  for (let k = 0; k < 8 && i < end && (cls(b, i) & BLANK) !== 0; k++) i++;
  const quote = b[i] === 0x22 || b[i] === 0x27 || b[i] === 0x60 ? b[i]! : 0;
  if (quote !== 0) i++;
  const vs = i;
  const stop = Math.min(end, vs + MAX_VALUE + 1);
  if (quote !== 0) {
    while (i < stop && b[i] !== quote && b[i] !== 0x0a && b[i] !== 0x0d) i += b[i] === 0x5c ? 2 : 1;
    if (i >= stop || b[i] !== quote) return undefined;
  } else {
    // Unquoted, it is usually code: an identifier (`contextToken2`), a member (`a.b`), an index or a call.
    let digits = 0;
    for (let c = cls(b, i); i < stop && (c & VALUE) !== 0; c = cls(b, ++i)) {
      if ((c & CODE) !== 0) return undefined;
      digits += c & DIGIT;
    }
    if ((i === stop && stop < end) || digits === 0) return undefined;
    // Config files end the value with the line; code goes on with `;`, `,` or `)`.
    if (i < end && (cls(b, i) & BLANK) === 0 && b[i] !== 0x0a && b[i] !== 0x0d && b[i] !== 0x23 && b[i] !== 0x26) return undefined;
  }
  const vlen = i - vs;
  if (vlen < 12 || vlen > MAX_VALUE) return undefined;

  // The name.
  let j = a - 1;
  if (op === 0x3d && b[j] === 0x3a) j--; // :=
  for (let k = 0; k < 8 && j >= 0 && (cls(b, j) & BLANK) !== 0; k++) j--;
  if (j >= 0 && (b[j] === 0x22 || b[j] === 0x27)) j--;
  const ke = j + 1;
  while (j >= 0 && ke - j <= MAX_KEY && ((cls(b, j) & TOKEN) !== 0 || b[j] === 0x2e)) j--;
  const ks = j + 1;
  if (ke - ks < 3 || ke - ks > MAX_KEY || !hasKeyword(b, ks, ke)) return undefined;
  const key = latin1(b, ks, ke).toLowerCase();
  if (SHELL_VARS.has(key)) return undefined;

  // A known token or key in the value is reported by its own rule.
  if (matchToken(b, vs, end) !== undefined || has(b, vs, end, PEM_BEGIN)) return undefined;
  const shown = `${excerpt(b.subarray(ks, ke), 40)}${String.fromCharCode(op!)}`;
  if (vlen === 40 && key.includes('secret') && (key.includes('aws') || key.includes('access')) && span(b, vs, end, B64, 40) === 40) {
    return { rule: RULES.awsSecretKey, start: vs, length: 40, certainty: 0.9, excerpt: `${shown}… (40 chars, redacted)`, detail: `assigned to ${key.slice(0, 40)}` };
  }

  const value = latin1(b, vs, vs + vlen);
  const lower = value.toLowerCase();
  if (PLACEHOLDERS.some((p) => lower.includes(p)) || /^[/~.$%<]|[()<>\s]/.test(value)) return undefined;
  const mix = classesOf(b, vs, vs + vlen);
  if (quote === 0 && /^[A-Za-z_$][A-Za-z_$]*\d*$/.test(value)) return undefined;
  // Generated secrets have digits; words and identifiers (`?NoLineTerminatorHere`) mostly do not.
  if ((mix & DIGIT) === 0 || (popcount(mix) < 3 && vlen < 16)) return undefined;
  const h = entropy(b, vs, vs + vlen);
  if (h < (vlen < 16 ? 3 : 3.3)) return undefined;
  const certainty = quote === 0 ? (h >= 4 ? 0.45 : 0.3) : h >= 4 ? 0.6 : 0.45;
  return { rule: RULES.genericAssignment, start: vs, length: vlen, certainty, excerpt: `${shown}… (${vlen} chars, redacted)`, detail: `assigned to ${key.slice(0, 40)}` };
}

/** Shannon entropy of b[from, to) in bits per byte. */
function entropy(b: Uint8Array, from: number, to: number): number {
  const counts = new Uint16Array(256);
  for (let i = from; i < to; i++) counts[b[i]!]!++;
  const n = to - from;
  let h = 0;
  for (const c of counts) if (c > 0) h -= (c / n) * Math.log2(c / n);
  return h;
}
