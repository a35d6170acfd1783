/**
 * Which sandbox a warm pool may hand out for a spec. Pure.
 *
 * A pooled sandbox was started before its spec was known, so only the parts
 * of a spec that nothing at start-up reads may differ from the pool's
 * profile: what the Sandbox object applies itself after hand-over (env is
 * merged into every spawn, metadata is a label, the TTL and per-command
 * defaults are armed when it is built). Everything else must match exactly.
 *
 * Fail closed: the key is made of every field *except* the listed hand-over
 * ones, so a field added to the spec later (a network policy, say) is part
 * of the key until someone decides it can be applied at hand-over.
 */
import type { Limits, SandboxSpec } from '@warden/protocol';

/**
 * Spec fields applied when a sandbox is handed over, not when it starts. The
 * network policy is one: every sandbox of an egress-capable runtime starts
 * with its (empty) egress directory, and the proxy is set up at hand-over.
 */
export const HANDOVER_FIELDS = ['env', 'metadata', 'network', 'secrets'] as const satisfies ReadonlyArray<keyof SandboxSpec>;

/** Limits the Sandbox object applies (TTL timer, per-command defaults); the runtime and cgroup never see them. */
export const HANDOVER_LIMITS = ['ttlMs', 'timeoutMs', 'maxOutputBytes'] as const satisfies ReadonlyArray<keyof Limits>;

/**
 * Spec fields that make a sandbox unpoolable: its /workspace comes from a
 * codebase, a snapshot or a host directory chosen by the caller (and a
 * codebase's policy and preset). Such sandboxes are always started cold.
 */
export const NEVER_POOLED = ['workspace', 'codebase', 'snapshot', 'policy', 'preset', 'image'] as const satisfies ReadonlyArray<keyof SandboxSpec>;

/** The parts of a spec a pooled sandbox must match. */
export type PoolProfile = Readonly<Omit<SandboxSpec, (typeof HANDOVER_FIELDS)[number] | (typeof NEVER_POOLED)[number] | 'limits'>> & {
  readonly limits: Readonly<Omit<Limits, (typeof HANDOVER_LIMITS)[number]>>;
};

const omit = <T extends object>(o: T, keys: readonly string[]): Record<string, unknown> => Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));

/** The profile of a (parsed, defaulted) spec, or undefined when such a sandbox is never pooled. */
export function profileOf(spec: Readonly<SandboxSpec>): PoolProfile | undefined {
  if (NEVER_POOLED.some((k) => spec[k] !== undefined)) return undefined;
  const rest = omit(spec, [...HANDOVER_FIELDS, ...NEVER_POOLED]);
  return { ...rest, limits: omit(spec.limits, HANDOVER_LIMITS) } as PoolProfile;
}

/** JSON with object keys sorted at every depth: equal profiles give equal strings whatever their key order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** The pool key of a spec: equal keys mean a sandbox started for one can serve the other. Undefined: never pooled. */
export function poolKey(spec: Readonly<SandboxSpec>): string | undefined {
  const p = profileOf(spec);
  return p === undefined ? undefined : canonical(p);
}
