/** `warden run`: one sandbox, one command, exit code passed through. */
import { parseArgs } from 'node:util';
import { createEngine } from '@warden/core';
import type { ExecResult, SandboxSpecInput } from '@warden/protocol';
import { constants } from 'node:os';
import { printJson, UsageError } from '../output.js';

export const RUN_USAGE = `usage: warden run [--runtime bwrap] [--memory-mb N] [--cpus N] [--pids N] [--timeout-ms N]
                  [--workspace DIR] [--env K=V]... [--data-dir DIR] [--json] -- CMD [ARGS...]`;

function intFlag(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^-?\d+(\.\d+)?$/.test(v) || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got ${JSON.stringify(v)}.\n${RUN_USAGE}`);
  return n;
}

export function parseRunArgs(args: string[]): { spec: SandboxSpecInput; argv: string[]; json: boolean; dataDir: string | undefined; timeoutMs: number | undefined } {
  const dash = args.indexOf('--');
  const flags = dash >= 0 ? args.slice(0, dash) : args;
  const argv = dash >= 0 ? args.slice(dash + 1) : [];
  const { values, positionals } = parseArgs({
    args: flags,
    allowPositionals: true,
    options: {
      runtime: { type: 'string' },
      'memory-mb': { type: 'string' },
      cpus: { type: 'string' },
      pids: { type: 'string' },
      'timeout-ms': { type: 'string' },
      workspace: { type: 'string' },
      env: { type: 'string', multiple: true },
      'data-dir': { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const command = [...positionals, ...argv];
  if (command.length === 0) throw new UsageError(`warden run needs a command after --, e.g. warden run -- echo hello.\n${RUN_USAGE}`);
  const env: Record<string, string> = {};
  for (const kv of values.env ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new UsageError(`--env must look like KEY=VALUE, got ${JSON.stringify(kv)}.`);
    env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  const limits: Record<string, number> = {};
  const set = (key: string, v: number | undefined): void => {
    if (v !== undefined) limits[key] = v;
  };
  set('memoryMb', intFlag('memory-mb', values['memory-mb']));
  set('cpus', intFlag('cpus', values.cpus));
  set('pids', intFlag('pids', values.pids));
  const timeoutMs = intFlag('timeout-ms', values['timeout-ms']);
  set('timeoutMs', timeoutMs);
  const spec: SandboxSpecInput = {
    ...(values.runtime === undefined ? {} : { runtime: values.runtime as 'bwrap' }),
    limits,
    env,
    ...(values.workspace === undefined ? {} : { workspace: { hostPath: values.workspace } }),
  };
  return { spec, argv: command, json: values.json ?? false, dataDir: values['data-dir'], timeoutMs };
}

/** Exit status the shell would show for this result. */
export function exitStatus(r: ExecResult): number {
  switch (r.reason) {
    case 'exited':
      return r.exitCode ?? 1;
    case 'timeout':
      return 124;
    case 'signaled':
    case 'oom':
    case 'sandbox-closed':
    case 'aborted':
      return 128 + (constants.signals[(r.signal ?? 'SIGKILL') as keyof typeof constants.signals] ?? 9);
    case 'output-limit':
      return 125;
  }
}

export async function runCommand(args: string[]): Promise<number> {
  const opts = parseRunArgs(args);
  const engine = await createEngine(opts.dataDir === undefined ? {} : { dataDir: opts.dataDir });
  try {
    const sandbox = await engine.create(opts.spec);
    const forwardStdin = !process.stdin.isTTY;
    const proc = sandbox.spawn(opts.argv, {
      ...(forwardStdin ? { stdin: 'pipe' } : {}),
      ...(opts.json
        ? {}
        : {
            onStdout: (b: Buffer) => process.stdout.write(b),
            onStderr: (b: Buffer) => process.stderr.write(b),
          }),
    });
    if (forwardStdin) {
      process.stdin.on('data', (chunk: Buffer) => {
        process.stdin.pause();
        proc.write(chunk).then(
          () => process.stdin.resume(),
          () => process.stdin.destroy(),
        );
      });
      process.stdin.on('end', () => void proc.end().catch(() => undefined));
    }
    const onSignal = (): void => proc.kill('SIGKILL');
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const result = await proc.wait();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (forwardStdin) process.stdin.destroy();
    if (opts.json) printJson({ sandboxId: sandbox.id, ...result });
    else if (result.reason !== 'exited' && result.reason !== 'signaled') {
      process.stderr.write(`warden: command ended: ${result.reason}${result.reason === 'timeout' ? ` after ${result.durationMs} ms` : ''}\n`);
    }
    return exitStatus(result);
  } finally {
    await engine.close();
  }
}
