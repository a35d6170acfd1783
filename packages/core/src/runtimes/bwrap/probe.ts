/** Checks that bwrap and the kernel features it needs are usable here. */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { ProbeCheck } from '../driver.js';
import { builtChecks, executable, rootCheck } from '../launcher.js';

const run = promisify(execFile);


export async function probeBwrap(bwrapPath: string, agentPath: string, launcherPath: string): Promise<ProbeCheck[]> {
  const checks: ProbeCheck[] = [];
  let version = '';
  if (await executable(bwrapPath)) {
    version = await run(bwrapPath, ['--version']).then(
      (r) => r.stdout.trim(),
      () => '',
    );
  }
  checks.push(
    version
      ? { name: 'bwrap', ok: true, detail: `${version} at ${bwrapPath}` }
      : { name: 'bwrap', ok: false, detail: `no working bubblewrap at ${bwrapPath}`, fix: 'apt-get install -y bubblewrap (or set bwrapPath)' },
  );
  const maxNs = Number((await readFile('/proc/sys/user/max_user_namespaces', 'utf8').catch(() => '0')).trim());
  const unpriv = (await readFile('/proc/sys/kernel/unprivileged_userns_clone', 'utf8').catch(() => '1')).trim();
  checks.push(
    maxNs > 0 && unpriv !== '0'
      ? { name: 'user namespaces', ok: true, detail: `max_user_namespaces=${maxNs}` }
      : {
          name: 'user namespaces',
          ok: false,
          detail: `max_user_namespaces=${maxNs}, unprivileged_userns_clone=${unpriv}`,
          fix: 'sysctl -w user.max_user_namespaces=10000 kernel.unprivileged_userns_clone=1',
        },
  );
  const status = await readFile('/proc/self/status', 'utf8').catch(() => '');
  checks.push(
    /^Seccomp:/m.test(status)
      ? { name: 'seccomp', ok: true, detail: 'kernel supports seccomp filters' }
      : { name: 'seccomp', ok: false, detail: 'kernel has no seccomp', fix: 'use a kernel built with CONFIG_SECCOMP_FILTER' },
  );
  checks.push(rootCheck('cgroups and per-sandbox uids'));
  checks.push(...(await builtChecks(agentPath, launcherPath)));
  return checks;
}
