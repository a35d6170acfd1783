/**
 * (f) helper, run as a worker thread by bench/api.ts: SDK clients with their
 * own event loop, so the server's loop does not also do the clients' fetch
 * work (as it would not in production). Protocol: workerData is a ClientJob;
 * the worker connects and warms up, posts 'ready', waits for 'go', runs the
 * clients for job.ms (or until 'stop') and posts its { ops, seconds } or { error }.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Sandbox } from '@warden/sdk';
import { throughput } from './stats.js';

export interface ClientJob {
  readonly url: string;
  readonly apiKey: string;
  readonly ids: readonly string[];
  readonly clients: number;
  readonly ms: number;
}

export type ClientMessage = 'ready' | { readonly ops: number; readonly seconds: number } | { readonly error: string };

async function main(port: NonNullable<typeof parentPort>): Promise<void> {
  const job = workerData as ClientJob;
  const ac = new AbortController();
  let go: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (go = resolve));
  port.on('message', (m) => {
    if (m === 'go') go();
    if (m === 'stop') {
      ac.abort();
      go();
    }
  });
  const handles = await Promise.all(Array.from({ length: job.clients }, (_, c) => Sandbox.connect(job.ids[c % job.ids.length]!, { url: job.url, apiKey: job.apiKey })));
  const once = async (sbx: Sandbox): Promise<void> => {
    const r = await sbx.commands.run('', { argv: ['/bin/true'], timeoutMs: 10_000 });
    if (r.reason !== 'exited' || r.exitCode !== 0) throw new Error(`/bin/true in ${sbx.id} (API, worker) ended ${r.reason} ${r.exitCode ?? r.signal}: ${r.stderr}`);
  };
  for (let i = 0; i < 2; i++) await Promise.all(handles.map(once));
  port.postMessage('ready' satisfies ClientMessage);
  await started;
  const r = await throughput(job.clients, job.ms, (c) => once(handles[c]!), ac.signal);
  port.postMessage({ ops: r.ops, seconds: r.seconds } satisfies ClientMessage);
}

if (parentPort) {
  const port = parentPort;
  main(port).catch((err: unknown) => port.postMessage({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies ClientMessage));
}
