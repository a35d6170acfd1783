/**
 * Threat: a command floods stdout/stderr to exhaust the server's memory.
 * Oracle: the result holds exactly the cap, and the flooding processes are
 * gone from the host. Twin: output of exactly the cap passes untouched.
 */
import { describe, expect, it } from 'vitest';
import { eventually } from '../helpers/host.js';
import { hostPidsMatching, useEngine } from './harness.js';

const h = useEngine();
const CAP = 1024 * 1024;

describe('output floods are capped', () => {
  it('`yes` on stdout stops at maxOutputBytes with reason output-limit', async () => {
    await using sbx = await h.create({ limits: { maxOutputBytes: CAP } });

    const r = await sbx.exec(['yes'], { timeoutMs: 30_000 });

    expect(r.reason).toBe('output-limit');
    expect(r.exitCode).toBeNull();
    expect(r.signal).toBe('SIGKILL');
    expect(r.truncated).toBe(true);
    expect(r.stdout.length).toBe(CAP);
    expect(r.stdout).toBe('y\n'.repeat(CAP / 2));
    expect(r.stderr).toBe('');
    await eventually(async () => (await hostPidsMatching(sbx.info().hostUid, 'yes')).length === 0, 5000, 'yes to be gone on the host');
  });

  it('stdout and stderr count together, and a background child dies with the flood', async () => {
    await using sbx = await h.create();

    // 600 kB on stdout first, then stderr floods; a sleeper in the background.
    const r = await sbx.exec(['sh', '-c', 'sleep 600 & head -c 600000 /dev/zero; exec yes err >&2'], { timeoutMs: 30_000, maxOutputBytes: CAP });

    expect(r.reason).toBe('output-limit');
    expect(r.exitCode).toBeNull();
    expect(r.truncated).toBe(true);
    expect(r.stdout.length + r.stderr.length).toBe(CAP);
    expect(r.stdout.length).toBeGreaterThan(600_000 - 65_536); // all but at most one pipe buffer
    expect(r.stderr.length).toBeGreaterThan(0);
    const uid = sbx.info().hostUid;
    await eventually(
      async () => (await hostPidsMatching(uid, 'yes')).length + (await hostPidsMatching(uid, 'sleep')).length === 0,
      5000,
      'yes and sleep to be gone on the host',
    );
  });

  it('twin: output of exactly the cap is delivered whole and not truncated', async () => {
    await using sbx = await h.create({ limits: { maxOutputBytes: CAP } });

    const r = await sbx.exec(['sh', '-c', `yes | head -c ${CAP}`], { timeoutMs: 30_000 });

    expect(r.reason).toBe('exited');
    expect(r.exitCode).toBe(0);
    expect(r.truncated).toBe(false);
    expect(r.stdout).toBe('y\n'.repeat(CAP / 2));
  });
});
