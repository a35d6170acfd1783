/**
 * Previews in the audit log are for people: what the command looked like.
 * They must never carry a credential, because the log is kept for a long time,
 * exported, and shown on screens. So before a preview is hashed and stored:
 *
 * 1. known secret values (maskValues) become `[MASKED]`;
 * 2. anything shaped like a secret becomes `[REDACTED:<kind>]`: every token
 *    the threat scanner knows (scan/secrets/rules.ts: AWS, GitHub, GitLab,
 *    Slack, Stripe, Google, OpenAI, Anthropic, npm, JWTs), plus looser
 *    patterns that suit short free text better than files: PEM private key
 *    blocks whole, `password=…` / `token: …` / `--api-key …` values, the
 *    password in `scheme://user:pass@host`, `Authorization:` and `Bearer …`;
 * 3. the result is capped (512 characters by default) and marked `…[+N chars]`
 *    where N counts the original characters left out.
 *
 * Masking errs towards hiding too much. Secrets are found in the original
 * text before the cap is applied, so one that straddles the cut is hidden
 * whole rather than shown in part; text near the end of what was scanned is
 * never shown, so a secret cut by the scan window cannot leak either.
 */
import { RULES, awsSecretHit, forEachAwsSecret, forEachCandidate, matchToken, type Hit } from '../scan/secrets/rules.js';
import { isWellFormed } from './canonical.js';

export const DEFAULT_PREVIEW_MAX_CHARS = 512;
/** Characters scanned past the cap, so a long secret (a JWT, a PEM block) that starts before the cut is recognised whole. */
const SCAN_SLACK_CHARS = 4096;
/** Scanned but never shown: a secret cut by the end of the scan window is not recognised, so nothing near that end may be shown. */
const GUARD_CHARS = 256;
/** Known values shorter than this are not masked: they are not credentials, and masking them would shred the text. */
export const MIN_MASKED_VALUE_CHARS = 4;
/** The scanner reports an AWS secret key this close to an access key id. */
const AWS_NEAR_BYTES = 320;

interface Range {
  readonly start: number;
  readonly end: number;
  readonly mark: string;
}

const redacted = (kind: string): string => `[REDACTED:${kind}]`;
const MASKED = '[MASKED]';

/** Token shapes, looser than the scanner's: in a one-line preview a false positive costs a masked word, a miss a leaked credential. */
const TOKENS: readonly (readonly [kind: string, source: string])[] = [
  ['private-key', String.raw`-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----|$)`],
  ['aws-access-key', String.raw`\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b`],
  ['github-token', String.raw`\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})`],
  ['gitlab-token', String.raw`\bglpat-[A-Za-z0-9_-]{16,}`],
  ['api-key', String.raw`\bsk-[A-Za-z0-9_-]{16,}`],
  ['stripe-key', String.raw`\b[rsp]k_(?:live|test)_[A-Za-z0-9]{10,}`],
  ['slack-token', String.raw`\bxox[abeoprs]-[A-Za-z0-9-]{8,}`],
  ['npm-token', String.raw`\bnpm_[A-Za-z0-9]{30,}`],
  ['google-api-key', String.raw`\bAIza[A-Za-z0-9_-]{30,}`],
  ['jwt', String.raw`\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*`],
];
/** All token shapes in one pass; the capture group that matched names the kind. */
const TOKEN_RE = new RegExp(TOKENS.map(([, src]) => `(${src})`).join('|'), 'g');

const NAME_WORDS = 'password|passwd|passphrase|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?|auth[_-]?key|session[_-]?key';
/** Patterns that mask only part of the match: the capture groups listed (found with the `d` flag's indices). */
/** Lower-case pieces every NAME_WORDS match contains: a cheaper test than the regex, run once per text. */
const NAME_HINTS = ['pass', 'pwd', 'secret', 'token', 'key', 'credential'];
/** What the cheap tests found in a text; `lower` is the text in lower case. */
interface Hints {
  readonly text: string;
  readonly lower: string;
  readonly names: boolean;
}
/**
 * Patterns that mask only part of the match: the capture groups listed (found
 * with the `d` flag's indices). `when` is a cheap test the pattern needs to
 * pass before it is worth running.
 */
const VALUE_PATTERNS: readonly { readonly kind: string; readonly when: (h: Hints) => boolean; readonly re: RegExp; readonly groups: readonly number[] }[] = [
  // scheme://user:password@host — the password only.
  { kind: 'url-password', when: (h) => h.text.includes('://') && h.text.includes('@'), re: /\b[a-z][a-z0-9+.-]{0,31}:\/\/[^\s/:@]{0,256}:([^\s/@]+)@/dgi, groups: [1] },
  // Authorization: Bearer xyz / Basic xyz, and a bare Bearer xyz.
  {
    kind: 'authorization',
    when: (h) => h.lower.includes('authorization'),
    re: /\b(?:proxy-)?authorization["']?\s*[:=]\s*["']?(?:(?:bearer|basic|token|digest|negotiate)\s+)?([^\s"',;]+)/dgi,
    groups: [1],
  },
  { kind: 'authorization', when: (h) => h.lower.includes('bearer'), re: /\bbearer\s+([A-Za-z0-9._~+/=-]{8,})/dgi, groups: [1] },
  // name=value, name: value, "name": "value", name == 'value' where the name says secret; quoted values may run to the end.
  {
    kind: 'assignment',
    when: (h) => h.names,
    re: new RegExp(
      `(?<![A-Za-z0-9])[A-Za-z0-9_.-]{0,64}?(?:${NAME_WORDS})[A-Za-z0-9_.-]{0,64}["'\`]?\\s*(?:[:=][:=>]{0,2}|!==?)\\s*(?:"([^"\\n]*)(?:"|$)|'([^'\\n]*)(?:'|$)|\`([^\`\\n]*)(?:\`|$)|(?!\\$[A-Za-z_{(])([^\\s"'\`]+))`,
      'dgi',
    ),
    groups: [1, 2, 3, 4],
  },
  // --password value, --api-key=value, -token value.
  {
    kind: 'assignment',
    when: (h) => h.names,
    re: new RegExp(`(?<![\\w-])--?[A-Za-z0-9-]{0,64}?(?:${NAME_WORDS})[A-Za-z0-9-]{0,64}(?:=|\\s+)(?:"([^"\\n]*)"?|'([^'\\n]*)'?|(?!\\$[A-Za-z_{(])([^\\s"']+))`, 'dgi'),
    groups: [1, 2, 3],
  },
];

/** TOKEN_CHAR[c] = 1 for [A-Za-z0-9_+/-]. */
const TOKEN_CHAR = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+/-') TOKEN_CHAR[c.charCodeAt(0)] = 1;

/**
 * Whether any token shape could match: every one (and every scanner token)
 * has a run of 16 token characters, a PEM header or a JWT's `eyJ`. A plain
 * loop: a regex for the run costs several times more.
 */
function tokenish(text: string): boolean {
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 128 && TOKEN_CHAR[c] === 1) {
      if (++run >= 16) return true;
    } else run = 0;
  }
  return text.includes('eyJ') || text.includes('-----BEGIN');
}

/** Ranges of `text` that hold secrets, sorted and merged, in string (UTF-16) indices. */
export function secretRanges(text: string, values: readonly string[] = []): Range[] {
  const found: Range[] = valueRanges(text, values);
  if (tokenish(text)) {
    found.push(...scannerRanges(text));
    tokenRanges(text, found);
  }
  const lower = text.toLowerCase();
  const hints: Hints = { text, lower, names: NAME_HINTS.some((k) => lower.includes(k)) };
  for (const { kind, when, re, groups } of VALUE_PATTERNS) {
    if (!when(hints)) continue;
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      for (const g of groups) {
        const at = m.indices?.[g];
        if (at && at[1] > at[0]) found.push({ start: at[0], end: at[1], mark: redacted(kind) });
      }
    }
  }
  return merge(found);
}

function tokenRanges(text: string, found: Range[]): void {
  // exec with lastIndex reset before each use: matchAll would copy the regex every call, which costs more than
  // the match. Nothing runs between the reset and the last exec, so the shared lastIndex is never seen.
  TOKEN_RE.lastIndex = 0;
  for (let m = TOKEN_RE.exec(text); m !== null; m = TOKEN_RE.exec(text)) {
    const g = m.findIndex((x, i) => i > 0 && x !== undefined);
    found.push({ start: m.index, end: m.index + m[0].length, mark: redacted(TOKENS[g - 1]?.[0] ?? 'secret') });
  }
}

/** Tokens the threat scanner recognises, mapped from UTF-8 byte offsets back to string indices. */
function scannerRanges(text: string): Range[] {
  const b = Buffer.from(text, 'utf8');
  const hits: Hit[] = [];
  forEachCandidate(b, 0, b.length, b.length, (q) => {
    const h = matchToken(b, q, b.length);
    if (h === undefined) return;
    hits.push(h);
    if (h.rule === RULES.awsAccessKey) {
      forEachAwsSecret(b, Math.max(0, q - AWS_NEAR_BYTES), Math.min(b.length, q + 20 + AWS_NEAR_BYTES), b.length, (start) => void hits.push(awsSecretHit(b, start, 0.75, 'near an access key id')));
    }
  });
  if (hits.length === 0) return [];
  const charAt = b.length === text.length ? undefined : byteToChar(text, b.length);
  return hits.map((h) => ({
    start: charAt ? charAt[h.start]! : h.start,
    end: charAt ? charAt[h.start + h.length]! : h.start + h.length,
    mark: redacted(h.rule.id.replace(/^secrets\//, '')),
  }));
}

/** charAt[byteOffset] = string index, for every offset 0..bytes (a byte inside a character maps to that character). */
function byteToChar(text: string, bytes: number): Int32Array {
  const map = new Int32Array(bytes + 1);
  let byte = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.codePointAt(i)!;
    const n = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    for (let k = 0; k < n; k++) map[byte + k] = i;
    byte += n;
    if (c >= 0x10000) i++;
  }
  map[bytes] = text.length;
  return map;
}

function valueRanges(text: string, values: readonly string[]): Range[] {
  if (values.length === 0) return [];
  const forms = new Set<string>();
  for (const v of values) {
    if (typeof v !== 'string' || v.length < MIN_MASKED_VALUE_CHARS) continue;
    forms.add(v);
    // The same secret as it often appears in URLs and headers.
    forms.add(encodeURIComponent(v));
    const b64 = Buffer.from(v, 'utf8').toString('base64');
    forms.add(b64);
    forms.add(b64.replace(/=+$/, ''));
    forms.add(Buffer.from(v, 'utf8').toString('base64url'));
  }
  const out: Range[] = [];
  for (const f of forms) {
    if (f.length < MIN_MASKED_VALUE_CHARS) continue;
    for (let i = text.indexOf(f); i !== -1; i = text.indexOf(f, i + 1)) out.push({ start: i, end: i + f.length, mark: MASKED });
  }
  return out;
}

function merge(ranges: Range[]): Range[] {
  ranges.sort((a, b) => a.start - b.start || b.end - a.end);
  const out: Range[] = [];
  for (const r of ranges) {
    const last = out[out.length - 1];
    if (last && r.start < last.end) {
      if (r.end > last.end) out[out.length - 1] = { ...last, end: r.end };
    } else out.push(r);
  }
  return out;
}

function apply(text: string, ranges: readonly Range[]): string {
  let out = '';
  let pos = 0;
  for (const r of ranges) {
    out += text.slice(pos, r.start) + r.mark;
    pos = r.end;
  }
  return out + text.slice(pos);
}

/** Lone surrogates cannot be stored as UTF-8; each becomes U+FFFD (same length, so indices hold). */
export function toWellFormed(text: string): string {
  return isWellFormed(text) ? text : text.replace(/\p{Cs}/gu, '\uFFFD');
}

/**
 * Replaces every occurrence of each value (and its URL-encoded and base64
 * forms) with `[MASKED]`. Values shorter than 4 characters are ignored.
 *
 * @example
 * maskValues('curl -H "X-Key: s3cr3t-v4lue" …', ['s3cr3t-v4lue']) // 'curl -H "X-Key: [MASKED]" …'
 */
export function maskValues(text: string, values: readonly string[]): string {
  return apply(text, merge(valueRanges(text, values)));
}

/** Masks secret-shaped text (see the module comment) without capping it. */
export function redactSecrets(text: string, values: readonly string[] = []): string {
  const t = toWellFormed(text);
  return apply(t, secretRanges(t, values));
}

export interface PreviewOptions {
  /** Characters kept, markers included. Default 512. */
  readonly maxChars?: number;
  /** Known secret values to mask, as maskValues does. */
  readonly values?: readonly string[];
}

/**
 * The preview as the audit log stores it: secrets masked, at most `maxChars`
 * characters, then `…[+N chars]` when N characters of the original were left
 * out.
 *
 * @example
 * redactPreview('git push https://bob:hunter22@example.com/r.git') // 'git push https://bob:[REDACTED:url-password]@example.com/r.git'
 */
export function redactPreview(text: string, options: PreviewOptions = {}): string {
  const maxChars = options.maxChars ?? DEFAULT_PREVIEW_MAX_CHARS;
  const values = options.values ?? [];
  const longestValue = values.reduce((n, v) => Math.max(n, typeof v === 'string' ? v.length : 0), 0);
  const scanChars = maxChars + SCAN_SLACK_CHARS + longestValue;
  const cut = text.length > scanChars;
  const head = toWellFormed(cut ? text.slice(0, scanChars) : text);
  // When the scan window cut the text, the last stretch of it may hold half a secret the patterns miss.
  const limit = cut ? head.length - Math.max(GUARD_CHARS, longestValue) : head.length;
  const ranges = secretRanges(head, values);

  let out = '';
  let pos = 0;
  let ri = 0;
  while (pos < limit && out.length < maxChars) {
    while (ri < ranges.length && ranges[ri]!.end <= pos) ri++;
    const r = ranges[ri];
    if (r && r.start <= pos) {
      if (out.length + r.mark.length > maxChars) break; // never half a marker
      out += r.mark;
      pos = r.end;
      continue;
    }
    let take = Math.min((r ? r.start : limit) - pos, limit - pos, maxChars - out.length);
    // Never half a surrogate pair.
    const lastCode = head.charCodeAt(pos + take - 1);
    if (take > 0 && pos + take < head.length && lastCode >= 0xd800 && lastCode <= 0xdbff) take--;
    if (take <= 0) break;
    out += head.slice(pos, pos + take);
    pos += take;
  }
  const left = text.length - pos;
  return left > 0 ? `${out}…[+${left} chars]` : out;
}
