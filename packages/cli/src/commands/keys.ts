/**
 * `warden keys create|list|revoke`: through the API with --server (needs an
 * admin key in WARDEN_API_KEY), or directly on the local store (as root on
 * the server's host, which is admin anyway).
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { SCOPES, type KeyView, type Scope } from '@warden/protocol';
import { openDb, KeyStore } from '@warden/server';
import { WardenClient } from '@warden/sdk';
import { printJson, UsageError } from '../output.js';

export const KEYS_USAGE = `usage: warden keys create --name NAME [--tenant T] [--scope S]... [--ttl-ms N] [--server URL | --data-dir DIR] [--json]
       warden keys list [--tenant T] [--server URL | --data-dir DIR] [--json]
       warden keys revoke KEY_ID [--server URL | --data-dir DIR] [--json]
scopes: ${SCOPES.join(', ')}`;

interface KeyBackend {
  create(o: { name: string; tenant: string; scopes: Scope[]; ttlMs?: number }): Promise<{ key: string; info: KeyView }>;
  list(tenant?: string): Promise<KeyView[]>;
  revoke(id: string): Promise<KeyView>;
  close(): void;
}

function localBackend(dataDir: string): KeyBackend {
  const db = openDb(join(dataDir, 'warden.db'));
  const keys = new KeyStore(db);
  return {
    create: (o) => Promise.resolve(keys.create(o)),
    list: (tenant) => Promise.resolve(keys.list(tenant)),
    revoke: (id) => {
      const v = keys.revoke(id) ? keys.get(id) : undefined;
      return v ? Promise.resolve(v) : Promise.reject(new UsageError(`no API key ${id}; see \`warden keys list\`.`));
    },
    close: () => db.close(),
  };
}

function remoteBackend(url: string): KeyBackend {
  const client = new WardenClient({ url });
  return {
    create: (o) => client.keys.create(o),
    list: (tenant) => client.keys.list(tenant),
    revoke: (id) => client.keys.revoke(id),
    close: () => undefined,
  };
}

export async function keysCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      tenant: { type: 'string' },
      scope: { type: 'string', multiple: true },
      'ttl-ms': { type: 'string' },
      server: { type: 'string' },
      'data-dir': { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  if (sub !== 'create' && sub !== 'list' && sub !== 'revoke') throw new UsageError(KEYS_USAGE);
  const server = values.server ?? undefined;
  const backend = server ? remoteBackend(server) : localBackend(values['data-dir'] ?? process.env.WARDEN_DATA_DIR ?? '/var/lib/warden');
  try {
    switch (sub) {
      case 'create': {
        if (!values.name) throw new UsageError(`warden keys create needs --name.\n${KEYS_USAGE}`);
        const scopes = (values.scope ?? ['sandboxes:read', 'sandboxes:write']) as Scope[];
        for (const s of scopes) if (!SCOPES.includes(s)) throw new UsageError(`unknown scope ${JSON.stringify(s)}; scopes are ${SCOPES.join(', ')}.`);
        const ttl = values['ttl-ms'] === undefined ? undefined : Number(values['ttl-ms']);
        if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < 1000)) throw new UsageError(`--ttl-ms must be an integer of at least 1000, got ${JSON.stringify(values['ttl-ms'])}.`);
        const created = await backend.create({ name: values.name, tenant: values.tenant ?? 'default', scopes, ...(ttl === undefined ? {} : { ttlMs: ttl }) });
        if (values.json) printJson(created);
        else process.stdout.write(`${created.key}\n(id ${created.info.id}, tenant ${created.info.tenant}, scopes ${created.info.scopes.join(' ')}; the key is shown only now)\n`);
        return 0;
      }
      case 'list': {
        const keys = await backend.list(values.tenant);
        if (values.json) printJson({ keys });
        else for (const k of keys) process.stdout.write(`${k.id}  ${k.tenant}  ${k.scopes.join(',')}  ${k.revokedAt ? 'revoked' : k.expiresAt && Date.parse(k.expiresAt) < Date.now() ? 'expired' : 'active'}  ${k.name}\n`);
        return 0;
      }
      case 'revoke': {
        const id = positionals[0];
        if (!id) throw new UsageError(`warden keys revoke needs a key id.\n${KEYS_USAGE}`);
        const v = await backend.revoke(id);
        if (values.json) printJson(v);
        else process.stdout.write(`revoked ${v.id} (${v.name})\n`);
        return 0;
      }
      case undefined:
      default:
        throw new UsageError(KEYS_USAGE);
    }
  } finally {
    backend.close();
  }
}
