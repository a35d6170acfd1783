/** Server-level calls that are not about one sandbox: API keys, the caller's identity. */
import type { CreatedKey, KeyView, RecordedScan, Scope, ScanPolicy, VerdictView, WhoAmI } from '@warden/protocol';
import { toBytes } from './bytes.js';
import { Http, type Body, type ConnectionOptions } from './http.js';

export class WardenClient {
  readonly #http: Http;
  readonly keys: {
    create(o: { name: string; tenant?: string; scopes?: Scope[]; ttlMs?: number }): Promise<CreatedKey>;
    list(tenant?: string): Promise<KeyView[]>;
    revoke(id: string): Promise<KeyView>;
  };

  constructor(opts: ConnectionOptions = {}) {
    const http = (this.#http = new Http(opts));
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

  whoami(): Promise<WhoAmI> {
    return this.#http.json<WhoAmI>('GET', '/v1/whoami');
  }
}
