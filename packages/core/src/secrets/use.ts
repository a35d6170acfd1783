/**
 * Which secret values a sandbox spec asks for, and how: environment
 * variables, files, header injections. Pure; errors never carry a value.
 */
import { WardenError, type SandboxSpec } from '@warden/protocol';

/**
 * A secret as the engine gets it: its value, and the rules its owner stored
 * with it. A plain string is a value without rules (local use).
 */
export interface SecretGrant {
  readonly value: string;
  /** Only header injection may use it: never an environment variable or a file. Default false. */
  readonly injectOnly?: boolean;
  /** Domains (exact or `*.suffix`) it may be injected for; [] = none; undefined = any. */
  readonly domains?: readonly string[];
}

/** Secret values (or grants) by name. */
export type SecretValues = Readonly<Record<string, string | SecretGrant>>;

/** The grant for `name`, or undefined. */
export function grantOf(values: SecretValues, name: string): SecretGrant | undefined {
  const v = Object.hasOwn(values, name) ? values[name] : undefined;
  return typeof v === 'string' ? { value: v } : v;
}

export interface SecretUse {
  /** Variables the sandbox's processes get: name → value. */
  readonly env: Readonly<Record<string, string>>;
  /** Every value the spec names (env, files, injections), by secret name: what is masked. */
  readonly all: Readonly<Record<string, string>>;
}

/**
 * Resolves the secrets `spec` names against `values`. Throws
 * E_SECRET_NOT_FOUND for a name without a value, E_INVALID_SPEC for two
 * sources of one variable (spec.env or another secret) or of one file.
 */
export function secretValuesFor(spec: Pick<SandboxSpec, 'secrets' | 'network' | 'env'>, values: SecretValues): SecretUse {
  const value = (name: string, field: string): string => {
    const g = grantOf(values, name);
    if (g === undefined) {
      throw new WardenError('E_SECRET_NOT_FOUND', `${field} names the secret ${JSON.stringify(name)}, which this tenant has not stored. Store it first (warden secrets set ${name}), or fix the name.`, { details: { name } });
    }
    return g.value;
  };
  const env: Record<string, string> = {};
  const all: Record<string, string> = {};
  const files = new Set<string>();
  spec.secrets.forEach((m, i) => {
    const v = value(m.name, `secrets[${i}].name`);
    if (grantOf(values, m.name)?.injectOnly === true) {
      throw new WardenError('E_SECRET_FORBIDDEN', `secrets[${i}] asks for ${JSON.stringify(m.name)} as ${m.file === undefined ? 'an environment variable' : 'a file'}, but it is stored inject-only: only the egress proxy may use it, as a header (network.inject). The sandbox never gets its value.`, {
        details: { name: m.name, rule: 'injectOnly' },
      });
    }
    all[m.name] = v;
    if (m.env !== undefined || m.file === undefined) {
      const name = m.env ?? m.name;
      if (Object.hasOwn(spec.env, name) || Object.hasOwn(env, name)) {
        throw new WardenError('E_INVALID_SPEC', `Invalid sandbox spec: secrets[${i}] would set the environment variable ${name}, which ${Object.hasOwn(spec.env, name) ? 'env' : 'another secret'} sets too. Give it another name with secrets[${i}].env.`);
      }
      env[name] = v;
    }
    if (m.file !== undefined) {
      if (files.has(m.file)) throw new WardenError('E_INVALID_SPEC', `Invalid sandbox spec: secrets[${i}].file ${m.file} is also the file of another secret.`);
      files.add(m.file);
    }
  });
  spec.network.inject.forEach((r, i) => {
    all[r.secret] = value(r.secret, `network.inject[${i}].secret`);
  });
  return { env, all };
}
