/** `warden serve`: the HTTP API with an embedded SQLite store and the bubblewrap runtime (gVisor and Docker on request). */
import { parseArgs } from 'node:util';
import type { RuntimeName } from '@warden/protocol';
import { serve } from '@warden/server';
import { UsageError } from '../output.js';

export const SERVE_USAGE = `usage: warden serve [--port P (8765)] [--host H (127.0.0.1)] [--data-dir DIR] [--log-level info|debug|warn|silent]
                    [--guard-policy FILE|off] [--pool N] [--runtime bwrap|gvisor|docker] [--json]
  --guard-policy  the server's guard policy (YAML; default $WARDEN_GUARD_POLICY, else the shipped one); off: no guard
  --pool          default sandboxes kept started, so that creating one is a hand-over (default $WARDEN_POOL_SIZE, else 2; 0: none)
  --runtime       runtime of sandboxes that name none (default $WARDEN_RUNTIME, else bwrap); docker uses DOCKER_HOST or /var/run/docker.sock
  --secrets-key   the key file tenants' secrets are encrypted with (default $WARDEN_SECRETS_KEY, else <data dir>/keys/secrets.key; created 0600)
  --dns-server    a DNS server (IP[:PORT]) the egress proxy resolves allowed names with, repeatable (default: the host's resolver)`;

export async function serveCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { port: { type: 'string' }, host: { type: 'string' }, 'data-dir': { type: 'string' }, 'log-level': { type: 'string' }, 'guard-policy': { type: 'string' }, 'audit-key': { type: 'string' }, pool: { type: 'string' }, runtime: { type: 'string' }, 'secrets-key': { type: 'string' }, 'dns-server': { type: 'string', multiple: true }, json: { type: 'boolean' } },
  });
  const port = values.port === undefined ? 8765 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a port number from 0 to 65535, got ${JSON.stringify(values.port)}.\n${SERVE_USAGE}`);
  const pool = values.pool === undefined ? undefined : /^\d+$/.test(values.pool) ? Number(values.pool) : Number.NaN;
  if (pool !== undefined && !(pool <= 1000)) throw new UsageError(`--pool must be an integer from 0 to 1000 (warm default sandboxes; 0 for none), got ${JSON.stringify(values.pool)}.\n${SERVE_USAGE}`);
  const server = await serve({
    port,
    ...(values.host === undefined ? {} : { host: values.host }),
    ...(values['data-dir'] === undefined ? {} : { dataDir: values['data-dir'] }),
    logLevel: values['log-level'] ?? 'info',
    ...(values['guard-policy'] === undefined ? {} : { guardPolicy: values['guard-policy'] }),
    ...(values['audit-key'] === undefined ? {} : { auditKeyFile: values['audit-key'] }),
    ...(pool === undefined ? {} : { poolSize: pool }),
    ...(values.runtime === undefined ? {} : { runtime: values.runtime as RuntimeName }), // checked by the engine config schema
    ...(values['secrets-key'] === undefined ? {} : { secretsKeyFile: values['secrets-key'] }),
    ...(values['dns-server'] === undefined ? {} : { egress: { dnsServers: values['dns-server'] } }),
  });
  const key = server.createdAdminKey;
  if (values.json) {
    // One line, printed once the server listens: a supervisor can read it as a ready signal.
    process.stdout.write(`${JSON.stringify({ url: server.url, engineId: server.engine.id, adminKey: key ?? null, recovered: server.recovered })}\n`);
  } else {
    process.stdout.write(`Warden is listening on ${server.url}  (OpenAPI: ${server.url}/openapi.json)\n`);
    if (key) process.stdout.write(`First admin API key (shown once; keep it safe):\n  ${key}\n`);
    process.stdout.write(`Next:\n  export WARDEN_URL=${server.url} WARDEN_API_KEY=<your key>\n  npx warden run --server $WARDEN_URL -- echo hello\nStop with Ctrl-C.\n`);
  }
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await server.close();
  return 0;
}
