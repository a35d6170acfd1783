/**
 * The secrets detector: private keys, cloud and service tokens, JWTs and
 * password assignments, found as the bytes stream past (rules in
 * `secrets/rules.ts`).
 *
 * Memory is one window of at most WINDOW_BYTES. A scan examines the starts in
 * [done, len - OVERLAP_BYTES): every matcher reads at most MAX_MATCH_BYTES
 * after a start and LOOKBACK_BYTES before it, so all of a match is in the
 * window and the findings are the same however the file is cut into chunks.
 * The window then keeps its last OVERLAP_BYTES + LOOKBACK_BYTES.
 *
 * Findings never contain a secret: the excerpt is a short prefix (a token's
 * fixed prefix and 4 characters; for assignments only the name) and the length.
 */
import { excerpt } from './evidence.js';
import { LOOKBACK_BYTES, MAX_MATCH_BYTES, PEM_BEGIN, RULES, awsSecretHit, forEachAwsSecret, forEachCandidate, matchAssignment, matchPem, matchToken, type Hit, type Rule } from './secrets/rules.js';
import type { Detector, DetectorRun, Finding, ScanContext, Severity } from './types.js';

const NAME = 'secrets';
const WINDOW_BYTES = 256 * 1024;
const FIRST_WINDOW_BYTES = 16 * 1024;
/** Matchers read this far past a start: the longest match, and the AWS look-ahead. */
const OVERLAP_BYTES = MAX_MATCH_BYTES + 512;
/** How far from an AWS access key id a secret key counts as its pair. */
const AWS_NEAR_BYTES = 320;
/** Findings kept per rule (the lowest offsets); the rest are counted. */
const MAX_FINDINGS_PER_RULE = 25;
/** Names under which ssh-keygen stores private keys. */
const SSH_KEY_NAME = /^(?:id_(?:rsa|dsa|ecdsa|ed25519|ecdsa_sk|ed25519_sk|xmss)|identity)$/;
const HEAD_BYTES = 64;

interface Kept {
  readonly rule: Rule;
  readonly offset: number;
  readonly length: number;
  certainty: number;
  readonly excerpt: string;
  detail: string | undefined;
  readonly severity: Severity;
}

interface RuleHits {
  readonly kept: Kept[];
  total: number;
}

/**
 * Finds credentials in any content: PEM private keys, AWS access key ids and
 * the secret keys near them, GitHub, GitLab, Slack, Stripe (live), Google,
 * OpenAI, Anthropic and npm tokens, JWTs, high-entropy values assigned to
 * names like `password` or `secret` (low severity), and key material in files
 * named `id_rsa` and the like. Rule ids are `secrets/<kind>`.
 *
 * @example
 * const run = secretsDetector().start({ name: '.env', depth: 0, scanMember });
 * run.update(bytes, 0);
 * const { findings } = await run.finish({ contentType: 'text', bytes: bytes.length });
 */
export function secretsDetector(): Detector {
  return { name: NAME, start: (ctx) => new SecretsRun(ctx) };
}

class SecretsRun implements DetectorRun {
  #win: Buffer = Buffer.allocUnsafe(FIRST_WINDOW_BYTES);
  #len = 0;
  /** File offset of #win[0]. */
  #base = 0;
  /** Starts before #win[#done] have been examined. */
  #done = 0;
  readonly #byRule = new Map<string, RuleHits>();
  /** AWS secret keys already reported (found both next to a key id and by name), by file offset. */
  readonly #awsSecrets = new Map<number, Kept>();
  readonly #sshName: boolean;
  readonly #name: string;
  readonly #head = new Uint8Array(HEAD_BYTES);
  #headLen = 0;

  constructor(ctx: ScanContext) {
    this.#name = ctx.name.slice(Math.max(ctx.name.lastIndexOf('/'), ctx.name.lastIndexOf('\\')) + 1);
    this.#sshName = SSH_KEY_NAME.test(this.#name);
  }

  update(chunk: Uint8Array): void {
    if (this.#headLen < HEAD_BYTES) {
      const take = Math.min(HEAD_BYTES - this.#headLen, chunk.length);
      this.#head.set(chunk.subarray(0, take), this.#headLen);
      this.#headLen += take;
    }
    let off = 0;
    while (off < chunk.length) {
      if (this.#len === this.#win.length) this.#makeRoom();
      const n = Math.min(this.#win.length - this.#len, chunk.length - off);
      this.#win.set(chunk.subarray(off, off + n), this.#len);
      this.#len += n;
      off += n;
    }
  }

  finish(): { ran: boolean; findings: Finding[] } {
    this.#scan(true);
    return { ran: true, findings: this.#findings() };
  }

  /** The window is full: grow it, or scan what can be scanned and keep the tail. */
  #makeRoom(): void {
    if (this.#win.length < WINDOW_BYTES) {
      const bigger = Buffer.allocUnsafe(Math.min(WINDOW_BYTES, this.#win.length * 4));
      this.#win.copy(bigger, 0, 0, this.#len);
      this.#win = bigger;
      return;
    }
    this.#scan(false);
    const keep = Math.max(0, this.#done - LOOKBACK_BYTES);
    this.#win.copyWithin(0, keep, this.#len);
    this.#base += keep;
    this.#len -= keep;
    this.#done -= keep;
  }

  #scan(final: boolean): void {
    const b = this.#win.subarray(0, this.#len);
    const end = b.length;
    const from = this.#done;
    const to = final ? end : end - OVERLAP_BYTES;
    if (to <= from) return;
    forEachCandidate(b, from, to, end, (q) => {
      const h = matchToken(b, q, end);
      if (h === undefined) return;
      this.#add(h);
      if (h.rule === RULES.awsAccessKey) {
        const lo = Math.max(0, q - AWS_NEAR_BYTES);
        forEachAwsSecret(b, lo, Math.min(end, q + 20 + AWS_NEAR_BYTES), end, (s) => this.#add(awsSecretHit(b, s, 0.75, 'near an access key id')));
      }
    });
    for (let q = b.indexOf(PEM_BEGIN, from); q !== -1 && q < to; q = b.indexOf(PEM_BEGIN, q + 1)) {
      const h = matchPem(b, q, end);
      if (h !== undefined) this.#add(h);
    }
    for (const op of [0x3d, 0x3a]) {
      for (let a = b.indexOf(op, from); a !== -1 && a < to; a = b.indexOf(op, a + 1)) {
        const h = matchAssignment(b, a, end);
        if (h !== undefined) this.#add(h);
      }
    }
    this.#done = to;
  }

  #add(h: Hit): void {
    const offset = this.#base + h.start;
    const k: Kept = { rule: h.rule, offset, length: h.length, certainty: h.certainty, excerpt: h.excerpt, detail: h.detail, severity: h.severity ?? h.rule.severity };
    if (h.rule === RULES.awsSecretKey) {
      const seen = this.#awsSecrets.get(offset);
      if (seen !== undefined) {
        if (k.certainty > seen.certainty) Object.assign(seen, { certainty: k.certainty, detail: k.detail });
        return;
      }
      this.#awsSecrets.set(offset, k);
      // Bounded: only recent offsets can be found again.
      if (this.#awsSecrets.size > 256) for (const o of this.#awsSecrets.keys()) if (o < this.#base) this.#awsSecrets.delete(o);
    }
    let hits = this.#byRule.get(h.rule.id);
    if (hits === undefined) this.#byRule.set(h.rule.id, (hits = { kept: [], total: 0 }));
    hits.total++;
    if (hits.kept.length < MAX_FINDINGS_PER_RULE) {
      hits.kept.push(k);
      return;
    }
    // Keep the lowest offsets, so which ones are listed does not depend on the order they were found in.
    let worst = 0;
    for (let i = 1; i < hits.kept.length; i++) if (hits.kept[i]!.offset > hits.kept[worst]!.offset) worst = i;
    if (offset < hits.kept[worst]!.offset) hits.kept[worst] = k;
  }

  #findings(): Finding[] {
    this.#sshKeyFile();
    const out: { k: Kept; more: number }[] = [];
    for (const hits of this.#byRule.values()) {
      hits.kept.sort((x, y) => x.offset - y.offset);
      hits.kept.forEach((k, i) => out.push({ k, more: i === hits.kept.length - 1 ? hits.total - hits.kept.length : 0 }));
    }
    out.sort((x, y) => x.k.offset - y.k.offset || (x.k.rule.id < y.k.rule.id ? -1 : x.k.rule.id > y.k.rule.id ? 1 : 0));
    return out.map(({ k, more }) => ({
      detector: NAME,
      ruleId: k.rule.id,
      severity: k.severity,
      certainty: k.certainty,
      message: `Found ${k.rule.what}${k.detail === undefined ? '' : ` (${k.detail})`} at offset ${k.offset}: ${k.rule.risk}.${more > 0 ? ` ${more} more like it are not listed.` : ''}`,
      evidence: [{ offset: k.offset, length: k.length, excerpt: k.excerpt }],
    }));
  }

  /** A file named like an SSH identity: a key in it is surely one; key material without PEM armour still counts. */
  #sshKeyFile(): void {
    if (!this.#sshName) return;
    const keys = this.#byRule.get(RULES.privateKey.id)?.kept.filter((k) => k.certainty >= 0.9) ?? [];
    for (const k of keys) {
      k.certainty = 0.99;
      k.detail = `${k.detail ?? ''}, in ${this.#name}`;
    }
    if (keys.length > 0) return;
    const head = this.#head.subarray(0, this.#headLen);
    if (!looksLikeKeyMaterial(head)) return;
    this.#byRule.set(RULES.sshKeyFile.id, {
      total: 1,
      kept: [{ rule: RULES.sshKeyFile, offset: 0, length: head.length, certainty: 0.8, excerpt: `${excerpt(head.subarray(0, 8), 40)}… (redacted)`, detail: this.#name, severity: RULES.sshKeyFile.severity }],
    });
  }
}

const ascii = (b: Uint8Array, s: string): boolean => b.length >= s.length && Buffer.from(b.buffer, b.byteOffset, s.length).toString('latin1') === s;

/** The start of a private key in a format the PEM rule does not cover. */
function looksLikeKeyMaterial(head: Uint8Array): boolean {
  if (['openssh-key-v1\0', 'PuTTY-User-Key-File-', '---- BEGIN SSH2', 'b3BlbnNzaC1rZXktdjE', '-----BEGIN'].some((s) => ascii(head, s))) return true;
  // Base64 DER (PKCS#1/PKCS#8 start with a SEQUENCE: "MII…") without the armour.
  if (!ascii(head, 'MII') || head.length < 48) return false;
  let b64 = 0;
  for (const c of head) if (/[A-Za-z0-9+/=\r\n]/.test(String.fromCharCode(c))) b64++;
  return b64 === head.length;
}
