/** Server-level calls that are not about one sandbox: API keys, the caller's identity. */
import type { CreatedKey, KeyView, Scope, WhoAmI } from '@warden/protocol';
import { Http, type ConnectionOptions } from './http.js';

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

  whoami(): Promise<WhoAmI> {
    return this.#http.json<WhoAmI>('GET', '/v1/whoami');
  }
}
