/** The `warden` command as a user runs it: the built binary, real sandboxes. */
import { describe, expect, it } from 'vitest';
import { runWarden, type CliRun } from '../helpers/cli.js';
import { tempDir } from '../helpers/host.js';

/** Each call gets a fresh data dir. */
async function warden(args: string[], opts: { stdin?: string } = {}): Promise<CliRun> {
  await using data = await tempDir('warden-cli-');
  return await runWarden(args, { dataDir: data.path, ...opts });
}

describe('warden run', () => {
  it('streams output and passes the exit code through', async () => {
    const r = await warden(['run', '--', 'sh', '-c', 'echo to-out; echo to-err >&2; exit 3']);
    expect(r).toMatchObject({ code: 3, stdout: 'to-out\n', stderr: 'to-err\n' });
  });

  it('prints one JSON document with --json', async () => {
    const r = await warden(['run', '--json', '--memory-mb', '128', '--env', 'A=b c', '--', 'sh', '-c', 'echo "$A"']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(doc).toMatchObject({ reason: 'exited', exitCode: 0, stdout: 'b c\n' });
    expect(doc.sandboxId).toMatch(/^sbx_/);
  });

  it('forwards stdin', async () => {
    const r = await warden(['run', '--', 'python3', '-c', 'import sys; print(sys.stdin.read()[::-1])'], { stdin: 'abc' });
    expect(r).toMatchObject({ code: 0, stdout: 'cba\n' });
  });

  it('exits 124 on a timeout', async () => {
    const r = await warden(['run', '--timeout-ms', '200', '--', 'sleep', '30']);
    expect(r.code).toBe(124);
    expect(r.stderr).toContain('timeout');
  });

  it('says what is wrong and how to fix it for bad flags', async () => {
    const r = await warden(['run', '--memory-mb', '0.5', '--', 'true']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('limits.memoryMb must be an integer from 16');
    expect(r.stderr).toContain('E_INVALID_SPEC');
    const json = await warden(['run', '--json', '--pids', '1', '--', 'true']);
    expect(json.code).toBe(2);
    expect((JSON.parse(json.stdout) as { error: { code: string } }).error.code).toBe('E_INVALID_SPEC');
    const missing = await warden(['run']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('needs a command after --');
  });

  it('exits 127 for a command that does not exist', async () => {
    const r = await warden(['run', '--', 'definitely-not-a-command']);
    expect(r.code).toBe(127);
    expect(r.stderr).toContain('E_EXEC_FAILED');
  });
});

describe('warden doctor', () => {
  it('reports the bwrap runtime ready on this host', async () => {
    const r = await warden(['doctor', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { ok: boolean; runtimes: { bwrap: { ready: boolean; checks: Array<{ name: string; ok: boolean }> } } };
    expect(report.runtimes.bwrap.ready).toBe(true);
    expect(report.runtimes.bwrap.checks.map((c) => c.name)).toEqual(expect.arrayContaining(['bwrap', 'user namespaces', 'seccomp', 'cgroup memory']));
  });
});

describe('warden demo (what npm start runs)', () => {
  it('runs a command, Python and a codebase sandbox, and reports what it changed', async () => {
    const r = await warden(['demo', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { python: { stdout: string }; timeout: { reason: string }; codebaseDiff: { added: Array<{ path: string }> } };
    expect(doc.python.stdout).toContain('2**100 = 1267650600228229401496703205376');
    expect(doc.timeout.reason).toBe('timeout');
    expect(doc.codebaseDiff.added.map((c) => c.path)).toEqual(['output/run.log']);
  });
});
