/**
 * Access tokens for in-sandbox requests. The SDKs send no API key to a
 * sandbox's daemon, only the `envdAccessToken` (X-Access-Token) and
 * `trafficAccessToken` (E2B-Traffic-Access-Token) that create and connect
 * returned. Each token is an HMAC over (kind, key id, sandbox id) under a key
 * that lives as long as this server process — as long as its sandboxes — so
 * nothing is stored, a token opens exactly one sandbox, and it names the API
 * key it was issued to: that key's revocation, expiry and scopes still apply
 * on every request, and the audit log shows who acted.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** `envd`: the daemon (processes, files). `traffic`: the code interpreter's port. */
export type TokenKind = 'envd' | 'traffic';

export interface AccessTokens {
  /** A token for `kind` access to `sandboxId`, issued to API key `keyId`. */
  issue(kind: TokenKind, keyId: string, sandboxId: string): string;
  /** The key id a valid token was issued to, or undefined for anything else. */
  verify(kind: TokenKind, token: string, sandboxId: string): string | undefined;
}

const KEY_ID = /^key_[a-z2-7]{12}$/;

export function createAccessTokens(secret: Uint8Array = randomBytes(32)): AccessTokens {
  const mac = (kind: TokenKind, keyId: string, sandboxId: string): Buffer => createHmac('sha256', secret).update(`${kind}\n${keyId}\n${sandboxId}`).digest();
  return {
    issue: (kind, keyId, sandboxId) => `${keyId}.${mac(kind, keyId, sandboxId).toString('base64url')}`,
    verify: (kind, token, sandboxId) => {
      const dot = token.indexOf('.');
      const keyId = token.slice(0, dot);
      if (dot < 0 || !KEY_ID.test(keyId)) return undefined;
      const given = Buffer.from(token.slice(dot + 1), 'base64url');
      const expected = mac(kind, keyId, sandboxId);
      return given.length === expected.length && timingSafeEqual(given, expected) ? keyId : undefined;
    },
  };
}
