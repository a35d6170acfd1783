/**
 * A sandbox's network policy, checked and compiled for the proxy: the
 * allowlist parsed, each header injection tied to an allowed domain and
 * given its secret's value. Pure.
 */
import { WardenError, type NetworkPolicy } from '@warden/protocol';
import { Allowlist, nameMatches, parseAllowEntry, patternWithin, type AllowRule } from './allowlist.js';
import { grantOf, type SecretValues } from '../secrets/use.js';

export interface CompiledInjection {
  /** The domain part of the rule (no ports). */
  readonly rule: Pick<AllowRule, 'kind' | 'name'>;
  /** Lower case. */
  readonly header: string;
  /** The full header value, secret included. */
  readonly value: string;
  /** The secret's name, for the audit log. */
  readonly secret: string;
  /** Equal keys mean an open connection may keep its injection across a policy change. */
  readonly key: string;
}

export interface CompiledPolicy {
  readonly policy: Readonly<NetworkPolicy>;
  readonly allow: Allowlist;
  readonly inject: readonly CompiledInjection[];
}

/** Headers the proxy will not set: they frame the request or address a proxy. */
const RESERVED_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer', 'expect', 'proxy-authorization', 'proxy-connection', 'proxy-authenticate']);

const invalid = (message: string): WardenError => new WardenError('E_INVALID_SPEC', `Invalid sandbox spec: ${message}`);

/**
 * Compiles `policy` with the values of the secrets it injects. Throws
 * E_INVALID_SPEC for an injection outside the allowlist or a reserved header,
 * E_SECRET_NOT_FOUND for a secret without a value. Messages never contain a
 * secret's value.
 */
export function compilePolicy(policy: Readonly<NetworkPolicy>, secrets: SecretValues = {}): CompiledPolicy {
  const allow = new Allowlist(policy.allow);
  const inject = policy.inject.map((r, i): CompiledInjection => {
    const field = `network.inject[${i}]`;
    const rule = parseAllowEntry(r.domain, `${field}.domain`);
    if (!allow.rules.some((a) => patternWithin(rule, a))) {
      throw invalid(`${field}.domain ${JSON.stringify(r.domain)} is not covered by network.allow; the proxy only adds headers to requests it lets through. Add ${JSON.stringify(r.domain)} to network.allow.`);
    }
    const header = r.header.toLowerCase();
    if (RESERVED_HEADERS.has(header)) throw invalid(`${field}.header ${JSON.stringify(r.header)} frames the request or addresses a proxy; inject another header (Authorization, X-Api-Key, …).`);
    const grant = grantOf(secrets, r.secret);
    if (grant === undefined) {
      throw new WardenError('E_SECRET_NOT_FOUND', `${field}.secret names ${JSON.stringify(r.secret)}, which is not a stored secret of this tenant. Store it first (warden secrets set ${r.secret}).`, { details: { name: r.secret } });
    }
    // The secret's owner bound it to domains: an injection elsewhere would hand it to whoever runs that server.
    if (grant.domains !== undefined && !grant.domains.some((d) => patternWithin(rule, parseAllowEntry(d, `the domains of secret ${r.secret}`)))) {
      throw new WardenError(
        'E_SECRET_FORBIDDEN',
        `${field} injects ${JSON.stringify(r.secret)} for ${JSON.stringify(r.domain)}, but that secret may only be injected for ${grant.domains.length === 0 ? 'no domain at all' : grant.domains.join(', ')}. Ask someone with the secrets:write scope to bind it to this domain.`,
        { details: { name: r.secret, domain: r.domain, rule: 'domains' } },
      );
    }
    const secret = grant.value;
    if (/[\r\n\0]/.test(secret)) throw invalid(`${field}.secret ${JSON.stringify(r.secret)} holds a line break or NUL, which cannot go into a header.`);
    return { rule, header, value: r.template.replaceAll('{secret}', secret), secret: r.secret, key: `${header}\0${r.template}\0${r.secret}` };
  });
  if (policy.mode === 'none' && (policy.allow.length > 0 || policy.inject.length > 0)) {
    throw invalid('network.allow and network.inject apply in allowlist mode; set network.mode to "allowlist", or drop them.');
  }
  return { policy, allow, inject };
}

/** The injection for requests to `host` (the first matching rule), if any. */
export function injectionFor(p: CompiledPolicy, host: string): CompiledInjection | undefined {
  return p.inject.find((r) => nameMatches(r.rule, host));
}

/** DNS names a sandbox CA must be limited to (name constraints), or [] for "any" (a `*` rule). */
export function injectionDomains(p: CompiledPolicy): string[] {
  if (p.inject.some((r) => r.rule.kind === 'any')) return [];
  return [...new Set(p.inject.map((r) => r.rule.name))];
}
