/**
 * Name resolution for the egress proxy. By default the host's resolver
 * (getaddrinfo: /etc/hosts, then DNS); with `servers`, DNS queries to those
 * servers only (A and AAAA), which is how tests point the proxy at a DNS
 * server of their own. Either way every address is then checked by
 * address-check.ts before anything connects to it.
 */
import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import { WardenError } from '@warden/protocol';

export interface Resolver {
  /** Every address `host` resolves to (at least one); rejects with a ResolveError. */
  resolve(host: string, signal?: AbortSignal): Promise<string[]>;
}

/** Why a name did not resolve: `not-found` (NXDOMAIN, no records) or `failed` (timeout, server failure). */
export class ResolveError extends Error {
  constructor(
    readonly kind: 'not-found' | 'failed',
    message: string,
  ) {
    super(message);
    this.name = 'ResolveError';
  }
}

export interface ResolverOptions {
  /** DNS servers as `ip` or `ip:port` (IPv6 as `[ip]:port`). Default: the host's resolver. */
  readonly servers?: readonly string[];
  /** Per lookup. Default 5000. */
  readonly timeoutMs?: number;
}

const NOT_FOUND = new Set(['ENOTFOUND', 'ENODATA', 'NXDOMAIN', 'ENONAME']);

function checkServer(s: unknown): string {
  const host = typeof s === 'string' ? (/^\[(.+)\](?::\d+)?$/.exec(s)?.[1] ?? s.replace(/:\d+$/, '')) : '';
  if (typeof s !== 'string' || isIP(host) === 0) {
    throw new WardenError('E_INVALID_SPEC', `Invalid engine config: egress.dnsServers entries must be IP addresses with an optional port, such as "192.0.2.53" or "192.0.2.53:5353", got ${JSON.stringify(s)}.`);
  }
  return s;
}

export function createResolver(o: ResolverOptions = {}): Resolver {
  const timeoutMs = o.timeoutMs ?? 5000;
  const servers = o.servers?.map(checkServer);
  let lookup: (host: string) => Promise<string[]>;
  if (servers && servers.length > 0) {
    const r = new dns.Resolver({ timeout: Math.max(100, Math.floor(timeoutMs / 2)), tries: 2 });
    r.setServers(servers);
    lookup = async (host) => {
      const [a, aaaa] = await Promise.allSettled([r.resolve4(host), r.resolve6(host)]);
      const found = [...(a.status === 'fulfilled' ? a.value : []), ...(aaaa.status === 'fulfilled' ? aaaa.value : [])];
      if (found.length > 0) return found;
      const errs = [a, aaaa].map((x) => (x.status === 'rejected' ? (x.reason as NodeJS.ErrnoException).code : undefined));
      if (errs.every((c) => c === undefined || NOT_FOUND.has(c))) throw new ResolveError('not-found', `${host} has no A or AAAA record`);
      throw new ResolveError('failed', `resolving ${host} failed (${errs.filter(Boolean).join(', ')})`);
    };
  } else {
    lookup = async (host) => {
      try {
        const all = await dns.lookup(host, { all: true, verbatim: true });
        if (all.length === 0) throw new ResolveError('not-found', `${host} has no address`);
        return all.map((x) => x.address);
      } catch (err) {
        if (err instanceof ResolveError) throw err;
        const code = (err as NodeJS.ErrnoException).code ?? '';
        throw new ResolveError(NOT_FOUND.has(code) ? 'not-found' : 'failed', `resolving ${host} failed (${code || String(err)})`);
      }
    };
  }
  return {
    async resolve(host, signal) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new ResolveError('failed', `resolving ${host} took longer than ${timeoutMs} ms`)), timeoutMs);
      });
      const aborted = new Promise<never>((_, reject) => {
        if (signal?.aborted) reject(new ResolveError('failed', 'aborted'));
        signal?.addEventListener('abort', () => reject(new ResolveError('failed', 'aborted')), { once: true });
      });
      try {
        return await Promise.race([lookup(host), timeout, aborted]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
