/**
 * Secrets as tenants see them: store (value never returned), list, delete,
 * and the grants a sandbox create or network change needs. The value is
 * checked here, by messages that never repeat it.
 */
import { WardenError, type NetworkPolicyInput, type PutSecretBody, type SecretList, type SecretMount, type SecretView } from '@warden/protocol';
import type { SecretGrant } from '@warden/core';
import type { SecretStore } from '../store/secrets.js';

/** At least as long as the audit log and output masking need to recognise it. */
const MIN_VALUE_CHARS = 4;
const MAX_VALUE_CHARS = 65_536;

export class SecretService {
  readonly #store: SecretStore;

  constructor(store: SecretStore) {
    this.#store = store;
  }

  put(tenant: string, name: string, body: PutSecretBody): SecretView {
    const v: unknown = body.value;
    if (typeof v !== 'string' || v.length < MIN_VALUE_CHARS || v.length > MAX_VALUE_CHARS || v.includes('\0')) {
      throw new WardenError('E_INVALID_REQUEST', `Invalid request body: value must be a string of ${MIN_VALUE_CHARS} to ${MAX_VALUE_CHARS} characters without NUL bytes (the value given is not repeated here).`);
    }
    return this.#store.put(tenant, name, v, { injectOnly: body.injectOnly ?? false, domains: body.domains ?? [] });
  }

  list(tenant: string): SecretList {
    return { secrets: this.#store.list(tenant) };
  }

  delete(tenant: string, name: string): void {
    if (!this.#store.delete(tenant, name)) {
      throw new WardenError('E_SECRET_NOT_FOUND', `Your tenant has no secret ${JSON.stringify(name)}. List them with GET /v1/secrets.`, { details: { name } });
    }
  }

  /**
   * The grants of every secret `secrets` and `network.inject` name. Missing
   * ones are left out: the engine refuses them (E_SECRET_NOT_FOUND), and
   * enforces each secret's rules (E_SECRET_FORBIDDEN).
   */
  grantsFor(tenant: string, use: { readonly secrets?: readonly SecretMount[] | undefined; readonly network?: NetworkPolicyInput | undefined }): Record<string, SecretGrant> {
    const names = [...(use.secrets ?? []).map((m) => m.name), ...(use.network?.inject ?? []).map((r) => r.secret)];
    return names.length === 0 ? {} : this.#store.grants(tenant, names);
  }
}
