/**
 * An E2B create request as a Warden sandbox: template → Warden's default
 * sandbox, timeout → TTL, metadata and envVars as they are. Options Warden
 * cannot honour are refused by name (E_UNSUPPORTED) rather than dropped: a
 * caller who asked for open egress, pausing or volumes must not get a sandbox
 * that silently lacks them. Named-domain egress maps onto Warden's allowlist. Pure.
 */
import { WardenError, type CreateSandboxBody } from '@warden/protocol';
import { DEFAULT_TIMEOUT_S } from '../wire.js';
import type { NewSandbox } from './schemas.js';
import { checkTemplate } from './templates.js';

/** v1: POST /sandboxes, whose SDKs send `secure` and `allow_internet_access: true` even when the caller set neither. */
export type ApiVersion = 'v1' | 'v2';

export interface E2bCreate {
  readonly template: string;
  readonly body: CreateSandboxBody;
}

function unsupported(feature: string, message: string): WardenError {
  return new WardenError('E_UNSUPPORTED', message, { details: { feature } });
}

function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (Array.isArray(v)) return v.length === 0;
  return typeof v === 'object' && Object.values(v).every((x) => x === undefined || x === null);
}

/** A host name or `*.suffix` as E2B's allowOut takes it (not an IP address or CIDR block). */
const DOMAIN = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/i;

/**
 * E2B's network options as a Warden egress policy. Deny-all (`denyOut:
 * ['0.0.0.0/0']`) with `allowOut` domains becomes an allowlist of those names
 * on any port, through Warden's egress proxy; deny-all alone, or nothing, is
 * Warden's no-network default. What would open more than named domains (no
 * deny-all, IP or CIDR entries) or needs E2B's infrastructure is refused by name.
 */
function networkPolicy(network: unknown): CreateSandboxBody['network'] | undefined {
  if (isEmpty(network)) return undefined;
  const n = network as Record<string, unknown>;
  const denyAll = Array.isArray(n.denyOut) && n.denyOut.length > 0 && n.denyOut.every((d) => d === '0.0.0.0/0');
  const allowOut = Array.isArray(n.allowOut) ? (n.allowOut as unknown[]) : [];
  for (const [key, value] of Object.entries(n)) {
    if (value === undefined || value === null || key === 'allowPublicTraffic') continue; // sandbox ports are never public here
    if (key === 'denyOut' && denyAll) continue;
    if (key === 'allowOut' && denyAll) continue;
    if (Array.isArray(value) && value.length === 0) continue;
    throw unsupported(
      `network.${key}`,
      key === 'allowOut'
        ? "network.allowOut without denyOut: ['0.0.0.0/0'] would leave all other traffic open, which Warden does not do. Add denyOut: [ALL_TRAFFIC] so that only the allowOut domains are reachable."
        : `network.${key} is not supported: Warden sandboxes created through the E2B API reach at most the domains of allowOut (with denyOut: ['0.0.0.0/0']), through Warden's egress proxy. Leave ${key} out.`,
    );
  }
  if (allowOut.length === 0) return undefined;
  const bad = allowOut.filter((d) => typeof d !== 'string' || !DOMAIN.test(d));
  if (bad.length > 0) {
    throw unsupported('network.allowOut', `network.allowOut ${JSON.stringify(bad)}: Warden's egress proxy allows domain names only (like "pypi.org" or "*.example.com"), never IP addresses or CIDR blocks. Name the domains instead.`);
  }
  return { mode: 'allowlist', allow: (allowOut as string[]).map((d) => `${d.toLowerCase()}:*`) };
}

export function toWardenCreate(b: NewSandbox, api: ApiVersion): E2bCreate {
  const template = checkTemplate(b.templateID);
  // v2 leaves the flag out unless the caller set it; v1 SDKs always send their default `true`.
  if (b.allow_internet_access === true && api === 'v2') {
    throw unsupported('allowInternetAccess', 'allowInternetAccess: true is not supported: Warden sandboxes created through the E2B API have no network. Leave it out or pass false.');
  }
  if (b.autoPause === true || b.autoPauseMemory !== undefined) {
    throw unsupported('lifecycle.onTimeout', "Pausing is not supported: a Warden sandbox is killed when its timeout passes. Leave lifecycle out (or use onTimeout: 'kill').");
  }
  if (!isEmpty(b.autoResume) && (b.autoResume as { enabled?: unknown }).enabled === true) {
    throw unsupported('lifecycle.autoResume', 'autoResume is not supported: Warden sandboxes cannot be paused, so they are never resumed.');
  }
  if (!isEmpty(b.mcp)) throw unsupported('mcp', 'The E2B MCP gateway (mcp) is not supported. Leave mcp out.');
  if (!isEmpty(b.iam)) throw unsupported('iam', 'Workload identity tokens (iam) are not supported.');
  if (!isEmpty(b.volumeMounts)) throw unsupported('volumeMounts', 'Volumes are not supported. Upload files with sandbox.files.write() instead.');
  const network = networkPolicy(b.network);
  // The engine validates the spec (env names, metadata sizes) like any other create: E_INVALID_SPEC.
  const body: CreateSandboxBody = {
    ...(b.metadata ? { metadata: { ...b.metadata } } : {}),
    ...(b.envVars ? { env: { ...b.envVars } } : {}),
    limits: { ttlMs: (b.timeout ?? DEFAULT_TIMEOUT_S) * 1000 },
    ...(network ? { network } : {}),
  };
  return { template, body };
}
