/**
 * The guard's layers per request: the engine's (server) layer, the tenant's
 * stored layer (compiled once per change), and a sandbox's own layer given
 * at create. Lower layers can only tighten.
 */
import { WardenError } from '@warden/protocol';
import type { Engine, GuardLanguage, GuardResult, Policy } from '@warden/core';
import type { GuardPolicyStore } from '../store/guard-policies.js';
import type { GuardPolicyView } from '@warden/protocol';

export class GuardService {
  readonly #engine: Engine;
  readonly #store: GuardPolicyStore;
  /**
   * tenant → its compiled layer (undefined: none). Asked before every command, so it is read from the
   * store once per tenant; this service is the only writer and drops an entry when it changes it.
   */
  readonly #compiled = new Map<string, Policy | undefined>();

  constructor(engine: Engine, store: GuardPolicyStore) {
    this.#engine = engine;
    this.#store = store;
  }

  /** The tenant's layer and, when given, a sandbox's layer (validated: E_POLICY_INVALID). */
  layers(tenant: string, sandboxPolicy?: string): Policy[] {
    const guard = this.#engine.guard;
    if (!guard) {
      if (sandboxPolicy !== undefined) throw noGuard();
      return [];
    }
    const tenantLayer = this.#tenantLayer(tenant);
    return [...(tenantLayer ? [tenantLayer] : []), ...(sandboxPolicy !== undefined ? [guard.loadPolicy(sandboxPolicy, { layer: 'sandbox' })] : [])];
  }

  check(tenant: string, input: { code: string; language: GuardLanguage; policy?: string }): GuardResult {
    const guard = this.#engine.guard;
    if (!guard) throw noGuard();
    return guard.check({ language: input.language, code: input.code }, { layers: this.layers(tenant, input.policy) });
  }

  policy(tenant: string): GuardPolicyView {
    return this.#store.get(tenant);
  }

  /** Validates (schema, examples) before storing: a broken policy never reaches the store. */
  setPolicy(tenant: string, policy: string): GuardPolicyView {
    const guard = this.#engine.guard;
    if (!guard) throw noGuard();
    const compiled = guard.loadPolicy(policy, { layer: 'tenant' });
    const view = this.#store.set(tenant, policy);
    this.#compiled.set(tenant, compiled);
    return view;
  }

  clearPolicy(tenant: string): GuardPolicyView {
    this.#compiled.delete(tenant);
    return this.#store.clear(tenant);
  }

  #tenantLayer(tenant: string): Policy | undefined {
    if (this.#compiled.has(tenant)) return this.#compiled.get(tenant);
    const stored = this.#store.get(tenant).policy;
    const policy = stored === null ? undefined : this.#engine.guard?.loadPolicy(stored, { layer: 'tenant' });
    this.#compiled.set(tenant, policy);
    return policy;
  }
}

function noGuard(): WardenError {
  return new WardenError('E_INVALID_REQUEST', 'This server runs without a guard (started with --guard-policy off), so it has no policies to check against. Restart it with a guard policy.');
}
