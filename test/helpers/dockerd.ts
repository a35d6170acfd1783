/**
 * A Docker Engine for the tests. As a vitest globalSetup (the conformance-
 * docker project) and from test files that need one (`useDockerd`): uses an
 * engine that already answers (WARDEN_TEST_DOCKER_SOCKET, DOCKER_HOST, or
 * /var/run/docker.sock), or starts a private dockerd: no bridge, no iptables,
 * the cgroupfs driver, and its own data root, exec root, pidfile and socket
 * under /var/lib and /run, so it never meets a system dockerd. It is stopped,
 * and what it made removed, afterwards. The socket goes to tests in
 * WARDEN_TEST_DOCKER_SOCKET (testEngine() passes it as dockerSocket).
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, open, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import http from 'node:http';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const SOCKET_ENV = 'WARDEN_TEST_DOCKER_SOCKET';
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

/** Whether a Docker Engine answers GET /_ping on `socketPath`. */
export function answers(socketPath: string, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path: '/_ping', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

function candidates(): string[] {
  const out: string[] = [];
  const own = process.env[SOCKET_ENV];
  if (own) out.push(own);
  const host = process.env.DOCKER_HOST;
  if (host?.startsWith('unix://')) out.push(host.slice('unix://'.length));
  out.push('/var/run/docker.sock');
  return out;
}

export interface TestDockerd {
  readonly socketPath: string;
  /** Whether this helper started it (and will stop it). */
  readonly started: boolean;
  stop(): Promise<void>;
}

/** Mount points at or below `dir` (deepest last), from this process's mountinfo. */
async function mountsUnder(dir: string): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  return text
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => p !== undefined && (p === dir || p.startsWith(`${dir}/`)));
}

/** Removes a directory dockerd used: unmounts what it left mounted first, and never crosses into another filesystem. */
async function removeTree(dir: string): Promise<void> {
  for (const p of (await mountsUnder(dir)).reverse()) await run('umount', ['--lazy', p]).catch(() => undefined);
  await run('rm', ['-rf', '--one-file-system', '--', dir]).catch(() => undefined);
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string, child?: ChildProcess): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (child && child.exitCode !== null) throw new Error(`${what}: dockerd exited with ${child.exitCode}`);
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const RUN_DIR = '/run/warden-test';
const DATA_DIR = '/var/lib/warden-test';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Directories of private dockerds that are no longer running (an interrupted run): removed. */
async function removeStale(): Promise<void> {
  const names = new Set([...(await readdir(RUN_DIR).catch(() => [])), ...(await readdir(DATA_DIR).catch(() => []))]);
  for (const name of names) {
    if (!name.startsWith('d-')) continue;
    const pid = Number((await readFile(`${RUN_DIR}/${name}/dockerd.pid`, 'utf8').catch(() => '')).trim());
    if (pid > 0 && alive(pid)) continue;
    await removeTree(`${RUN_DIR}/${name}`);
    await removeTree(`${DATA_DIR}/${name}`);
  }
}

/** An engine that answers, starting a private dockerd when none does. */
export async function startDockerd(): Promise<TestDockerd> {
  for (const socketPath of candidates()) {
    if (await answers(socketPath)) return { socketPath, started: false, stop: () => Promise.resolve() };
  }
  const dockerd = await run('sh', ['-c', 'command -v dockerd']).then(
    (r) => r.stdout.trim(),
    () => '',
  );
  if (!dockerd) throw new Error('No Docker Engine answers and dockerd is not installed: apt-get install -y docker.io (scripts/setup.sh does).');
  await removeStale();
  // Short paths: containerd's socket lives under the exec root, and Unix socket paths are short.
  await mkdir(RUN_DIR, { recursive: true, mode: 0o700 });
  const execRoot = await mkdtemp(`${RUN_DIR}/d-`);
  await mkdir(DATA_DIR, { recursive: true, mode: 0o700 });
  const dataRoot = `${DATA_DIR}/${basename(execRoot)}`;
  await mkdir(dataRoot, { mode: 0o700 });
  const socketPath = `${execRoot}/docker.sock`;
  const config = `${execRoot}/daemon.json`;
  const logFile = `${execRoot}/dockerd.log`;
  await writeFile(config, '{}\n');
  const log = await open(logFile, 'w');
  const child = spawn(
    dockerd,
    [
      `--config-file=${config}`,
      `--data-root=${dataRoot}`,
      `--exec-root=${execRoot}/exec`,
      `--pidfile=${execRoot}/dockerd.pid`,
      `--host=unix://${socketPath}`,
      '--bridge=none',
      '--iptables=false',
      '--ip6tables=false',
      '--ip-masq=false',
      '--exec-opt=native.cgroupdriver=cgroupfs',
      '--log-level=warn',
    ],
    // Same process group: an interrupted run (Ctrl-C) stops it too.
    { stdio: ['ignore', log.fd, log.fd], env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } },
  );
  await log.close();
  const exited = once(child, 'exit');
  const cleanup = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      // SIGTERM: dockerd stops its containers and its containerd, and unmounts its layers.
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
    await removeTree(execRoot);
    await removeTree(dataRoot);
  };
  try {
    await waitFor(() => answers(socketPath), START_TIMEOUT_MS, `dockerd to answer on ${socketPath} (log: ${logFile})`, child);
  } catch (err) {
    const text = await readFile(logFile, 'utf8').catch(() => '');
    await cleanup();
    throw new Error(`${(err as Error).message}\n${text.slice(-2000)}`);
  }
  return { socketPath, started: true, stop: cleanup };
}

/** vitest globalSetup: the engine for the whole run, its socket in WARDEN_TEST_DOCKER_SOCKET. */
export default async function setup(): Promise<() => Promise<void>> {
  const d = await startDockerd();
  process.env[SOCKET_ENV] = d.socketPath;
  return async () => {
    await d.stop();
  };
}

/** True when `path` is a socket (a quick check for tests that skip without an engine). */
export async function isSocket(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isSocket(),
    () => false,
  );
}
