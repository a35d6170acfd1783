/** `warden run`: one sandbox, one command, exit code passed through. */
import { parseArgs } from 'node:util';
import { readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createEngine, createGuard, type Guard, type Sandbox } from '@warden/core';
import { hasCode, WardenError, type ExecResult, type PolicyInput, type RuntimeName, type SandboxSpecInput } from '@warden/protocol';
import { constants } from 'node:os';
import { Sandbox as RemoteSandbox } from '@warden/sdk';
import { printJson, UsageError } from '../output.js';

export const RUN_USAGE = `usage: warden run [--runtime bwrap|gvisor|docker [--image NAME]] [--memory-mb N] [--cpus N] [--pids N] [--timeout-ms N]
                  [--workspace DIR | --codebase NAME [--version N] [--preset P | --policy FILE.json] | --snapshot ID] [--disk-mb N]
                  [--diff] [--export FILE.tar|FILE.patch] [--commit] [--take-snapshot]
                  [--env K=V]... [--allow-domain NAME[:PORT]]... [--secret NAME[=VAR|=/tmp/FILE]]... [--inject DOMAIN=SECRET]...
                  [--data-dir DIR | --server URL] [--guard-policy FILE|off] [--json] -- CMD [ARGS...]
(--allow-domain turns on egress through Warden's proxy for that domain (*.suffix for its subdomains); --secret gives
 a secret as variable NAME (or VAR, or a file under /tmp); --inject has the proxy add "Authorization: Bearer <secret>"
 to HTTPS requests to DOMAIN. With --server the secrets are your tenant's stored ones; locally their values come from
 variables of the same name in warden's own environment.
 With --server, the API key comes from WARDEN_API_KEY; locally the guard checks CMD against the shipped policy
 or --guard-policy first, and an action it would hold for a person is refused: run it through a server to approve it)`;

function intFlag(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^-?\d+(\.\d+)?$/.test(v) || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got ${JSON.stringify(v)}.\n${RUN_USAGE}`);
  return n;
}

export interface AfterRun {
  readonly diff: boolean;
  readonly export: string | undefined;
  readonly commit: boolean;
  readonly snapshot: boolean;
}

export interface RunArgs {
  readonly spec: SandboxSpecInput;
  readonly argv: string[];
  readonly json: boolean;
  readonly dataDir: string | undefined;
  readonly timeoutMs: number | undefined;
  readonly after: AfterRun;
  /** Run through this Warden server (with WARDEN_API_KEY) instead of a local engine. */
  readonly server: string | undefined;
  /** Local runs: the guard policy file, 'off', or undefined for the shipped default. */
  readonly guardPolicy: string | undefined;
  /** Names of the secrets the spec uses (local runs read their values from the environment). */
  readonly secretNames: readonly string[];
}

export function parseRunArgs(args: string[]): RunArgs {
  const dash = args.indexOf('--');
  const flags = dash >= 0 ? args.slice(0, dash) : args;
  const argv = dash >= 0 ? args.slice(dash + 1) : [];
  const { values, positionals } = parseArgs({
    args: flags,
    allowPositionals: true,
    options: {
      runtime: { type: 'string' },
      image: { type: 'string' },
      'memory-mb': { type: 'string' },
      'disk-mb': { type: 'string' },
      cpus: { type: 'string' },
      pids: { type: 'string' },
      'timeout-ms': { type: 'string' },
      workspace: { type: 'string' },
      env: { type: 'string', multiple: true },
      'data-dir': { type: 'string' },
      json: { type: 'boolean' },
      codebase: { type: 'string' },
      version: { type: 'string' },
      preset: { type: 'string' },
      policy: { type: 'string' },
      snapshot: { type: 'string' },
      diff: { type: 'boolean' },
      export: { type: 'string' },
      commit: { type: 'boolean' },
      'take-snapshot': { type: 'boolean' },
      server: { type: 'string' },
      'guard-policy': { type: 'string' },
      'allow-domain': { type: 'string', multiple: true },
      secret: { type: 'string', multiple: true },
      inject: { type: 'string', multiple: true },
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
  set('diskMb', intFlag('disk-mb', values['disk-mb']));
  set('cpus', intFlag('cpus', values.cpus));
  set('pids', intFlag('pids', values.pids));
  const timeoutMs = intFlag('timeout-ms', values['timeout-ms']);
  set('timeoutMs', timeoutMs);
  const allow = values['allow-domain'] ?? [];
  const inject = (values.inject ?? []).map((kv) => {
    const eq = kv.lastIndexOf('=');
    if (eq <= 0 || eq === kv.length - 1) throw new UsageError(`--inject must look like DOMAIN=SECRET, got ${JSON.stringify(kv)}.\n${RUN_USAGE}`);
    return { domain: kv.slice(0, eq), secret: kv.slice(eq + 1) };
  });
  const secrets = (values.secret ?? []).map((kv) => {
    const eq = kv.indexOf('=');
    const name = eq < 0 ? kv : kv.slice(0, eq);
    const to = eq < 0 ? undefined : kv.slice(eq + 1);
    if (name === '' || to === '') throw new UsageError(`--secret must look like NAME, NAME=VAR or NAME=/tmp/FILE, got ${JSON.stringify(kv)}.\n${RUN_USAGE}`);
    return { name, ...(to === undefined ? {} : to.startsWith('/') ? { file: to } : { env: to }) };
  });
  const spec: SandboxSpecInput = {
    // Checked with the rest of the spec: a bad name gets the spec's error and hint.
    ...(values.runtime === undefined ? {} : { runtime: values.runtime as RuntimeName }),
    ...(values.image === undefined ? {} : { image: values.image }),
    limits,
    env,
    ...(allow.length > 0 || inject.length > 0 ? { network: { mode: 'allowlist' as const, allow, inject } } : {}),
    ...(secrets.length > 0 ? { secrets } : {}),
    ...(values.workspace === undefined ? {} : { workspace: { hostPath: values.workspace } }),
    ...(values.codebase === undefined ? {} : { codebase: { name: values.codebase, ...(values.version === undefined ? {} : { version: intFlag('version', values.version) ?? 0 }) } }),
    ...(values.preset === undefined ? {} : { preset: values.preset }),
    ...(values.policy === undefined ? {} : { policy: readPolicy(values.policy) }),
    ...(values.snapshot === undefined ? {} : { snapshot: values.snapshot }),
  };
  const after: AfterRun = { diff: values.diff ?? false, export: values.export, commit: values.commit ?? false, snapshot: values['take-snapshot'] ?? false };
  if (values.server !== undefined && (values.workspace !== undefined || after.diff || after.export !== undefined || after.commit || after.snapshot)) {
    throw new UsageError('--workspace, --diff, --export, --commit and --take-snapshot work only without --server (a remote server cannot mount or write your local files).');
  }
  if (values.server !== undefined && values['guard-policy'] !== undefined) throw new UsageError('--guard-policy applies to local runs only; with --server the server’s policies apply.');
  const secretNames = [...new Set([...secrets.map((m) => m.name), ...inject.map((r) => r.secret)])];
  return { spec, argv: command, json: values.json ?? false, dataDir: values['data-dir'], timeoutMs, after, server: values.server, guardPolicy: values['guard-policy'], secretNames };
}

function readPolicy(file: string): PolicyInput {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as PolicyInput;
  } catch (err) {
    throw new UsageError(`--policy ${file}: ${(err as Error).message}. Pass a JSON file like {"default":"read","rules":[{"pattern":"docs/","level":"write"}]}.`);
  }
}

/** Local runs: each secret's value is the variable of the same name in warden's own environment. */
function localSecrets(names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const v = process.env[name];
    if (v === undefined) throw new UsageError(`--secret/--inject ${name}: a local run takes the value from the variable ${name} in warden's environment, and it is not set. Export it first, or use --server to use your tenant's stored secret.`);
    out[name] = v;
  }
  return out;
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

/** --diff, --export, --commit, --take-snapshot: what to do with a codebase sandbox's changes before it goes. */
async function afterRun(sandbox: Sandbox, after: AfterRun, json: boolean): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const say = (line: string): void => {
    if (!json) process.stderr.write(`${line}\n`);
  };
  if (after.diff) {
    const d = await sandbox.diff();
    out.diff = d;
    for (const c of d.added) say(`A ${c.path}`);
    for (const c of d.modified) say(`M ${c.path}`);
    for (const c of d.deleted) say(`D ${c.path}`);
  }
  if (after.export !== undefined) {
    if (after.export.endsWith('.patch') || after.export.endsWith('.diff')) {
      writeFileSync(after.export, await sandbox.exportChanges({ format: 'patch' }));
    } else {
      await sandbox.exportChanges({ format: 'tar', file: after.export });
    }
    out.exported = after.export;
    say(`exported changes to ${after.export}`);
  }
  if (after.commit) {
    const v = await sandbox.commit();
    out.committed = { codebase: v.codebase, version: v.version };
    say(`committed ${v.codebase} v${v.version}`);
  }
  if (after.snapshot) {
    const s = await sandbox.snapshot();
    out.snapshot = s.id;
    say(`snapshot ${s.id}`);
  }
  return out;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

/** `warden run --server URL`: the same through the API and the SDK. */
async function runRemote(opts: RunArgs): Promise<number> {
  const { workspace: _local, ...spec } = opts.spec;
  // Signals are caught from the start: Ctrl-C while the sandbox is being made or stdin read
  // must still end the remote sandbox, not leave it to its TTL.
  const ctl = new AbortController();
  const onSignal = (): void => ctl.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let sandbox: RemoteSandbox | undefined;
  try {
    sandbox = await RemoteSandbox.create({ url: opts.server, ...(spec as Omit<SandboxSpecInput, 'workspace' | 'runtime'>) });
    const stdin = process.stdin.isTTY || ctl.signal.aborted ? undefined : await readAll(process.stdin);
    if (ctl.signal.aborted) return 130;
    const result = await sandbox.commands.run('', {
      argv: opts.argv,
      signal: ctl.signal,
      ...(stdin && stdin.length > 0 ? { stdin: new Uint8Array(stdin) } : {}),
      ...(opts.json ? {} : { onStdout: (s: string) => process.stdout.write(s), onStderr: (s: string) => process.stderr.write(s) }),
    });
    if (opts.json) printJson({ sandboxId: sandbox.id, ...result });
    else if (result.reason !== 'exited' && result.reason !== 'signaled') process.stderr.write(`warden: command ended: ${result.reason}\n`);
    return exitStatus(result);
  } catch (err) {
    if (ctl.signal.aborted) return 130;
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await sandbox?.kill();
  }
}

export async function runCommand(args: string[]): Promise<number> {
  const opts = parseRunArgs(args);
  if (opts.server !== undefined) return runRemote(opts);
  const guard = await localGuard(opts.guardPolicy);
  const engine = await createEngine({ ...(opts.dataDir === undefined ? {} : { dataDir: opts.dataDir }), ...(guard ? { guard } : {}) }).catch((err: unknown) => {
    guard?.close();
    throw err;
  });
  try {
    const sandbox = await engine.create(opts.spec, { actor: 'cli', secrets: localSecrets(opts.secretNames) });
    const forwardStdin = !process.stdin.isTTY;
    const proc = admitLocally(() => sandbox.spawn(opts.argv, {
      ...(forwardStdin ? { stdin: 'pipe' } : {}),
      ...(opts.json
        ? {}
        : {
            onStdout: (b: Buffer) => process.stdout.write(b),
            onStderr: (b: Buffer) => process.stderr.write(b),
          }),
    }));
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
    const extra = await afterRun(sandbox, opts.after, opts.json);
    if (opts.json) printJson({ sandboxId: sandbox.id, ...result, ...extra });
    else if (result.reason !== 'exited' && result.reason !== 'signaled') {
      process.stderr.write(`warden: command ended: ${result.reason}${result.reason === 'timeout' ? ` after ${result.durationMs} ms` : ''}\n`);
    }
    return exitStatus(result);
  } finally {
    await engine.close();
    guard?.close();
  }
}

/** The guard of a local run: the shipped default policy, a policy file, or none ('off'). */
async function localGuard(policy: string | undefined): Promise<Guard | undefined> {
  if (policy === 'off') return undefined;
  if (policy === undefined) return createGuard();
  const source = await readFile(policy, 'utf8').catch((err: unknown) => {
    throw new UsageError(`--guard-policy ${policy}: ${(err as Error).message}. Pass a YAML policy file (docs/guard.md) or off.`);
  });
  return createGuard({ policies: [{ layer: 'server', source }] });
}

/** Locally nobody can approve: an action the guard would hold for a person is refused, saying how to run it. */
function admitLocally<T>(start: () => T): T {
  try {
    return start();
  } catch (err) {
    if (!hasCode(err, 'E_APPROVAL_PENDING')) throw err;
    throw new WardenError('E_GUARD_DENIED', `${err.message.split('. Approval ')[0] ?? err.message}. A local run has nobody to approve it: run it through a server (warden run --server URL) where an approver can decide, or pass --guard-policy with a policy that allows it.`, {
      details: Object.fromEntries(Object.entries(err.details).filter(([k]) => k !== 'approvalId' && k !== 'expiresAt')),
    });
  }
}
