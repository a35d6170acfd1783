/** Server-level calls that are not about one sandbox: API keys, the caller's identity. */
import type {
  ApprovalView,
  AuditEventView,
  AuditQuery,
  AuditVerifyView,
  CreatedKey,
  GuardCheckView,
  GuardPolicyView,
  KeyView,
  PoolsView,
  SecretView,
  RecordedScan,
  Scope,
  ScanPolicy,
  VerdictView,
  WhoAmI,
} from '@warden/protocol';
import { toBytes } from './bytes.js';
import { Http, type Body, type ConnectionOptions } from './http.js';

export class WardenClient {
  readonly #http: Http;
  readonly keys: {
    create(o: { name: string; tenant?: string; scopes?: Scope[]; ttlMs?: number }): Promise<CreatedKey>;
    list(tenant?: string): Promise<KeyView[]>;
    revoke(id: string): Promise<KeyView>;
  };

  /** Actions the guard held for a person. Deciding needs a key with approvals:decide that did not ask. */
  readonly approvals: {
    list(o?: { state?: ApprovalView['state']; sandboxId?: string }): Promise<ApprovalView[]>;
    get(id: string): Promise<ApprovalView>;
    approve(id: string, o?: { scope?: 'once' | 'session'; reason?: string }): Promise<ApprovalView>;
    deny(id: string, o?: { reason?: string }): Promise<ApprovalView>;
  };
  /** The tamper-evident audit log: your tenant's events; verify and export need an admin key. */
  readonly audit: {
    query(q?: AuditQuery): Promise<AuditEventView[]>;
    verify(): Promise<AuditVerifyView>;
    /** The whole log as JSON Lines objects (events, then checkpoints). */
    export(): AsyncGenerator<Record<string, unknown>>;
  };
  /**
   * Your tenant's secrets. Values go in and are never returned; sandboxes name
   * them (`secrets`, `network.inject`). Storing and deleting need the
   * secrets:write scope.
   * @example await client.secrets.set('OPENAI_KEY', key, { injectOnly: true, domains: ['api.openai.com'] });
   */
  readonly secrets: {
    set(name: string, value: string, rules?: { injectOnly?: boolean; domains?: string[] }): Promise<SecretView>;
    list(): Promise<SecretView[]>;
    delete(name: string): Promise<void>;
  };
  /** The guard: check code without running it, and the tenant's policy layer. */
  readonly guard: {
    check(code: string, o?: { language?: 'bash' | 'python' | 'javascript' | 'typescript'; policy?: string }): Promise<GuardCheckView>;
    policy(): Promise<GuardPolicyView>;
    /** Admin: sets a tenant's policy layer (YAML); it can only tighten the server's. */
    setPolicy(tenant: string, policy: string): Promise<GuardPolicyView>;
    /** Admin: removes a tenant's policy layer. */
    clearPolicy(tenant: string): Promise<GuardPolicyView>;
  };

  constructor(opts: ConnectionOptions = {}) {
    const http = (this.#http = new Http(opts));
    const enc = encodeURIComponent;
    this.approvals = {
      list: async (o = {}) => (await http.json<{ approvals: ApprovalView[] }>('GET', '/v1/approvals', { query: o })).approvals,
      get: (id) => http.json<ApprovalView>('GET', `/v1/approvals/${enc(id)}`),
      approve: (id, o = {}) => http.json<ApprovalView>('POST', `/v1/approvals/${enc(id)}/approve`, { json: o }),
      deny: (id, o = {}) => http.json<ApprovalView>('POST', `/v1/approvals/${enc(id)}/deny`, { json: o }),
    };
    this.audit = {
      query: async (q = {}) => (await http.json<{ events: AuditEventView[] }>('GET', '/v1/audit', { query: q })).events,
      verify: () => http.json<AuditVerifyView>('GET', '/v1/audit/verify', { unbounded: true }),
      export: () => http.ndjson<Record<string, unknown>>('GET', '/v1/audit/export'),
    };
    this.guard = {
      check: (code, o = {}) => http.json<GuardCheckView>('POST', '/v1/guard/check', { json: { code, ...o } }),
      policy: () => http.json<GuardPolicyView>('GET', '/v1/guard-policy'),
      setPolicy: (tenant, policy) => http.json<GuardPolicyView>('PUT', `/v1/tenants/${enc(tenant)}/guard-policy`, { json: { policy } }),
      clearPolicy: (tenant) => http.json<GuardPolicyView>('DELETE', `/v1/tenants/${enc(tenant)}/guard-policy`),
    };
    this.secrets = {
      set: (name, value, rules = {}) => http.json<SecretView>('PUT', `/v1/secrets/${enc(name)}`, { json: { value, ...rules } }),
      list: async () => (await http.json<{ secrets: SecretView[] }>('GET', '/v1/secrets')).secrets,
      delete: async (name) => {
        await http.json('DELETE', `/v1/secrets/${enc(name)}`);
      },
    };
    this.keys = {
      create: (o) => http.json<CreatedKey>('POST', '/v1/keys', { json: o }),
      list: async (tenant) => (await http.json<{ keys: KeyView[] }>('GET', '/v1/keys', { query: { tenant } })).keys,
      revoke: (id) => http.json<KeyView>('DELETE', `/v1/keys/${encodeURIComponent(id)}`),
    };
  }

  /** A threat verdict for some content (level, score, confidence, findings, explanation). */
  scan(data: string | Uint8Array | Blob | ReadableStream<Uint8Array>, name = ''): Promise<VerdictView> {
    const body = typeof data === 'string' || data instanceof Uint8Array ? toBytes(data) : data;
    return this.#http.json<VerdictView>('POST', '/v1/scan', { query: { name }, body: body as Body, headers: { 'content-type': 'application/octet-stream' }, unbounded: true });
  }

  /** Verdicts recorded for your tenant (uploads, downloads, changes, direct scans), newest first. */
  async scans(opts: { sandboxId?: string; limit?: number } = {}): Promise<RecordedScan[]> {
    return (await this.#http.json<{ scans: RecordedScan[] }>('GET', '/v1/scans', { query: { sandboxId: opts.sandboxId, limit: opts.limit } })).scans;
  }

  /** Your tenant's scan policy; `setScanPolicy` needs an admin key. */
  scanPolicy(): Promise<ScanPolicy> {
    return this.#http.json<ScanPolicy>('GET', '/v1/scan-policy');
  }

  setScanPolicy(tenant: string, policy: ScanPolicy): Promise<ScanPolicy> {
    return this.#http.json<ScanPolicy>('PUT', `/v1/tenants/${encodeURIComponent(tenant)}/scan-policy`, { json: policy });
  }

  /** Liveness and the server's version (no key needed). */
  health(): Promise<{ ok: boolean; version: string }> {
    return this.#http.json<{ ok: boolean; version: string }>('GET', '/health');
  }

  whoami(): Promise<WhoAmI> {
    return this.#http.json<WhoAmI>('GET', '/v1/whoami');
  }

  /** Admin: the server's warm pools (size, idle, hits, misses, hit rate per profile). */
  pools(): Promise<PoolsView> {
    return this.#http.json<PoolsView>('GET', '/v1/pools');
  }
}
