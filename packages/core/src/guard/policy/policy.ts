/** A loaded policy: validated, compiled, examples passed, frozen. Made only by loadPolicy. */
import type { Decision, GuardMode } from '../types.js';
import type { CompiledRule } from './compile.js';
import type { FlagAliases } from './flags.js';

const BRAND = Symbol.for('warden.guard.policy');

export interface Policy {
  /** Where it sits: `server`, `tenant`, `sandbox` or a custom name; findings carry it. */
  readonly layer: string;
  /** The mode this layer asks for, if it sets one. */
  readonly mode: GuardMode | undefined;
  /** The layer's decision when none of its rules matches. */
  readonly default: Decision;
  /** The layer's decision when the analysis reports a problem; never allow. */
  readonly onError: 'ask' | 'deny';
  readonly rules: readonly CompiledRule[];
  readonly aliases: FlagAliases;
  readonly description: string | undefined;
  readonly [BRAND]: true;
}

export function makePolicy(fields: Omit<Policy, typeof BRAND>): Policy {
  return Object.freeze({ ...fields, rules: Object.freeze([...fields.rules]), [BRAND]: true as const });
}

/** Brand check that works across package copies. */
export function isPolicy(value: unknown): value is Policy {
  return typeof value === 'object' && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
}
