/** Checks that runsc, its ptrace platform and Warden's native pieces are usable here. */
import { execFile } from 'node:child_process';
import { access, constants, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ProbeCheck } from '../driver.js';
import { builtChecks, executable, rootCheck } from '../launcher.js';

const run = promisify(execFile);

/** A cold `runsc do /bin/true` takes ~150 ms here; a hang (as the kvm platform does on some VMs) must not hang the engine. */
const PLATFORM_CHECK_TIMEOUT_MS = 20_000;

export interface GvisorProbeInput {
  readonly runscPath: string;
  readonly agentPath: string;
  readonly launcherPath: string;
  readonly compatLibPath: string;
}


/** First line of `runsc --version` ('' when runsc does not run). */
async function runscVersion(runscPath: string): Promise<string> {
  if (!(await executable(runscPath))) return '';
  return run(runscPath, ['--version'], { timeout: 10_000, env: {} }).then(
    (r) => r.stdout.split('\n')[0]?.trim() ?? '',
    () => '',
  );
}

/**
 * Runs `/bin/true` under runsc on the ptrace platform, no network, no cgroups,
 * with a throwaway state root: proves that runsc can build a sandbox here
 * (user namespaces, ptrace, seccomp) before any sandbox depends on it.
 */
async function platformWorks(runscPath: string): Promise<{ ok: true; ms: number } | { ok: false; detail: string }> {
  const root = await mkdtemp(join(tmpdir(), 'warden-runsc-probe-'));
  const started = Date.now();
  try {
    await run(runscPath, [`--root=${root}`, '--platform=ptrace', '--network=none', '--ignore-cgroups', 'do', '/bin/true'], {
      timeout: PLATFORM_CHECK_TIMEOUT_MS,
      killSignal: 'SIGKILL',
      env: {},
      cwd: '/',
    });
    return { ok: true, ms: Date.now() - started };
  } catch (err) {
    const e = err as { stderr?: string; killed?: boolean; message: string };
    const why = e.killed ? `did not finish within ${PLATFORM_CHECK_TIMEOUT_MS} ms` : (e.stderr?.trim().split('\n').at(-1) ?? e.message);
    return { ok: false, detail: why };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

export async function probeGvisor(i: GvisorProbeInput): Promise<ProbeCheck[]> {
  const checks: ProbeCheck[] = [];
  const rootOk = rootCheck('runsc, which builds its sandboxes as root, and for cgroups and per-sandbox uids');
  checks.push(rootOk);
  const root = rootOk.ok;
  const version = await runscVersion(i.runscPath);
  checks.push(
    version
      ? { name: 'runsc', ok: true, detail: `${version} at ${i.runscPath}` }
      : { name: 'runsc', ok: false, detail: `no working runsc at ${i.runscPath}`, fix: 'apt-get install -y runsc (or set runscPath)' },
  );
  if (version && root) {
    const p = await platformWorks(i.runscPath);
    checks.push(
      p.ok
        ? { name: 'runsc platform', ok: true, detail: `ptrace platform runs a sandbox (runsc do /bin/true: ${p.ms} ms); kvm is not used (it hangs on VMs without working nested virtualisation)` }
        : {
            name: 'runsc platform',
            ok: false,
            detail: `runsc --platform=ptrace do /bin/true failed: ${p.detail}`,
            fix: 'let root use ptrace and user namespaces (kernel.yama.ptrace_scope below 3, user.max_user_namespaces above 0), and run outside a seccomp profile that forbids them',
          },
    );
  }
  checks.push(...(await builtChecks(i.agentPath, i.launcherPath)));
  const compat = await access(i.compatLibPath, constants.R_OK).then(
    () => true,
    () => false,
  );
  const name = 'gvisor compat library';
  checks.push(compat ? { name, ok: true, detail: i.compatLibPath } : { name, ok: false, detail: `${i.compatLibPath} is missing`, fix: 'npm run build (builds the gVisor compat library with the agent)' });
  return checks;
}
