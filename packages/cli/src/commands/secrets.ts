/**
 * `warden secrets set|list|delete`: the tenant's secrets live in the running
 * server, so these go through its API (WARDEN_URL or --server, with a key in
 * WARDEN_API_KEY; set and delete need the secrets:write scope). A value is
 * read from stdin, never from the command line, where `ps` would show it.
 */
import { parseArgs } from 'node:util';
import type { SecretView } from '@warden/protocol';
import { WardenClient } from '@warden/sdk';
import { printJson, UsageError } from '../output.js';

export const SECRETS_USAGE = `usage: warden secrets set NAME [--inject-only] [--domain DOMAIN]... [--server URL] [--json]   (the value is read from stdin)
       warden secrets list [--server URL] [--json]
       warden secrets delete NAME [--server URL] [--json]
  --inject-only: only the egress proxy may use it, as a header (never an env var or file in a sandbox)
  --domain: a domain (or *.suffix) the proxy may inject it for; without one it is never injected`;

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new UsageError('warden secrets set reads the value from stdin: pipe it in (printf %s "$TOKEN" | warden secrets set NAME).');
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(Buffer.from(c as Uint8Array));
  // A trailing newline from `echo` is not part of a secret.
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

const line = (s: SecretView): string => `${s.name}${s.injectOnly ? '  inject-only' : ''}${s.domains.length > 0 ? `  domains: ${s.domains.join(', ')}` : ''}  updated ${s.updatedAt}`;

export async function secretsCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { 'inject-only': { type: 'boolean' }, domain: { type: 'string', multiple: true }, server: { type: 'string' }, json: { type: 'boolean' } },
  });
  const client = new WardenClient(values.server ? { url: values.server } : {});
  const name = (): string => {
    const n = positionals[0];
    if (!n) throw new UsageError(`warden secrets ${String(sub)} needs a secret name.\n${SECRETS_USAGE}`);
    return n;
  };
  switch (sub) {
    case 'set': {
      const n = name();
      const v = await client.secrets.set(n, await readStdin(), { injectOnly: values['inject-only'] ?? false, domains: values.domain ?? [] });
      if (values.json) printJson(v);
      else process.stdout.write(`stored ${line(v)}\n`);
      return 0;
    }
    case 'list': {
      const all = await client.secrets.list();
      if (values.json) printJson(all);
      else process.stdout.write(all.map((s) => `${line(s)}\n`).join(''));
      return 0;
    }
    case 'delete': {
      const n = name();
      await client.secrets.delete(n);
      if (values.json) printJson({ deleted: n });
      else process.stdout.write(`deleted ${n}\n`);
      return 0;
    }
    case undefined:
    default:
      throw new UsageError(SECRETS_USAGE);
  }
}
