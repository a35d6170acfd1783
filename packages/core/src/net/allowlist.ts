/**
 * Egress allowlists: which (name, port) a sandbox may reach. Pure.
 *
 * An entry is `name`, `*.suffix` (every name below suffix, not suffix itself)
 * or `*` (any name), optionally followed by `:PORT` or `:*`; without a port
 * it allows 80 and 443. Names compare case-insensitively with a trailing dot
 * ignored. IP addresses are never names: a destination given as an address
 * (any spelling getaddrinfo would read as one) matches nothing, so the
 * allowlist can only be satisfied through a name the proxy resolves and checks.
 */
import { WardenError } from '@warden/protocol';

/** Ports an entry without `:PORT` allows. */
export const DEFAULT_PORTS: readonly number[] = [80, 443];

export interface AllowRule {
  /** The entry as written. */
  readonly entry: string;
  /** `exact`: host equals `name`; `suffix`: host ends with `.name`; `any`: every name. */
  readonly kind: 'exact' | 'suffix' | 'any';
  /** Lower case, no trailing dot; empty for `any`. */
  readonly name: string;
  /** Allowed ports; `any` for `:*`. */
  readonly ports: readonly number[] | 'any';
}

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * The canonical form of a destination host name (lower case, no trailing dot),
 * or undefined when it is not a DNS name: an IP literal in any notation
 * (dotted, decimal, hex, octal, IPv6), an empty label, a character outside
 * letters, digits and hyphens, or more than 253 characters.
 */
export function normalizeHostname(raw: string): string | undefined {
  if (typeof raw !== 'string') return undefined;
  const name = (raw.endsWith('.') ? raw.slice(0, -1) : raw).toLowerCase();
  if (name.length === 0 || name.length > 253) return undefined;
  const labels = name.split('.');
  if (!labels.every((l) => LABEL.test(l))) return undefined;
  // A last label of digits (or 0x… hex) is how every IPv4 spelling ends: 127.0.0.1, 2130706433, 0x7f.1.
  const last = labels[labels.length - 1]!;
  if (/^[0-9]+$/.test(last) || /^0x[0-9a-f]*$/.test(last)) return undefined;
  return name;
}

/** Parses one allowlist entry; throws E_INVALID_SPEC naming the entry. */
export function parseAllowEntry(entry: string, field = 'network.allow'): AllowRule {
  const bad = (why: string): WardenError =>
    new WardenError('E_INVALID_SPEC', `Invalid sandbox spec: ${field} entry ${JSON.stringify(entry)} ${why}. Write a domain such as pypi.org, *.example.com or *, optionally with :PORT or :*.`);
  if (typeof entry !== 'string') throw bad('is not a string');
  const m = /^(.*?)(?::(\*|[0-9]{1,5}))?$/.exec(entry);
  const host = m?.[1] ?? '';
  const port = m?.[2];
  let ports: readonly number[] | 'any' = DEFAULT_PORTS;
  if (port === '*') ports = 'any';
  else if (port !== undefined) {
    const n = Number(port);
    if (!Number.isInteger(n) || n < 1 || n > 65_535 || port.startsWith('0')) throw bad('has a port outside 1 to 65535');
    ports = [n];
  }
  if (host === '*') return { entry, kind: 'any', name: '', ports };
  const wildcard = host.startsWith('*.');
  const name = normalizeHostname(wildcard ? host.slice(2) : host);
  if (name === undefined) throw bad('is not a domain name (IP addresses cannot be allowed: the proxy only reaches names it resolves and checks)');
  return { entry, kind: wildcard ? 'suffix' : 'exact', name, ports };
}

/** Whether `host` (already normalized) is covered by the name part of `rule`. */
export function nameMatches(rule: Pick<AllowRule, 'kind' | 'name'>, host: string): boolean {
  switch (rule.kind) {
    case 'any':
      return true;
    case 'exact':
      return host === rule.name;
    case 'suffix':
      return host.endsWith(`.${rule.name}`);
  }
}

/**
 * Whether every name `inner` covers is covered by `outer` (both domain
 * patterns without ports): a secret bound to `*.example.com` may be injected
 * for `api.example.com` or `*.api.example.com`, not for `example.com`.
 */
export function patternWithin(inner: Pick<AllowRule, 'kind' | 'name'>, outer: Pick<AllowRule, 'kind' | 'name'>): boolean {
  if (outer.kind === 'any') return true;
  if (inner.kind === 'any') return false;
  if (inner.kind === 'exact') return nameMatches(outer, inner.name);
  // inner is *.x: every name below x must match outer
  return outer.kind === 'suffix' && (inner.name === outer.name || inner.name.endsWith(`.${outer.name}`));
}

export class Allowlist {
  readonly rules: readonly AllowRule[];

  /** Throws E_INVALID_SPEC for a bad entry. */
  constructor(entries: readonly string[], field = 'network.allow') {
    this.rules = entries.map((e, i) => parseAllowEntry(e, `${field}[${i}]`));
  }

  /** The first rule allowing `host:port`, or undefined. `host` must come from normalizeHostname. */
  match(host: string, port: number): AllowRule | undefined {
    return this.rules.find((r) => nameMatches(r, host) && (r.ports === 'any' || r.ports.includes(port)));
  }

  /** Whether some rule allows `host` on some port (for header injection targets). */
  coversName(host: string): boolean {
    return this.rules.some((r) => nameMatches(r, host));
  }
}
