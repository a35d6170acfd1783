/**
 * Threat: a sandbox fills its /tmp or /dev/shm (bytes or inodes) to exhaust
 * the host's memory or disk.
 * Oracle: the writes fail with ENOSPC at the cap, and nothing lands in the
 * host staging directory the tmpfs is mounted on. Twin: writes under the cap
 * succeed.
 */
import { describe, expect, it } from 'vitest';
import { hostEntries, useEngine } from './harness.js';

const h = useEngine();
const TMP_MB = 4;
const TMP_INODES = 64;
const limits = { tmpMb: TMP_MB, tmpInodes: TMP_INODES };

describe('/tmp and /dev/shm are capped', () => {
  it.each(['/tmp', '/dev/shm'])('writing twice tmpMb into %s fails with ENOSPC at the cap', async (dir) => {
    await using sbx = await h.create({ limits });

    const r = await sbx.exec(
      ['sh', '-c', 'head -c "$2" /dev/zero > "$1/big"; status=$?; stat -c %s "$1/big"; exit $status', 'sh', dir, String(2 * TMP_MB * 1024 * 1024)],
      {
        timeoutMs: 20_000,
      },
    );

    expect(r.reason).toBe('exited');
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/No space left on device/);
    expect(Number(r.stdout.trim())).toBeLessThanOrEqual(TMP_MB * 1024 * 1024);
    // Nothing reached the host directory the tmpfs is mounted on.
    expect(await hostEntries(`${h.engine.stateDir}/stage/tmp`)).toEqual([]);
    expect(await hostEntries(`${h.engine.stateDir}/stage/shm`)).toEqual([]);
  });

  it.each(['/tmp', '/dev/shm'])('creating more than tmpInodes files in %s fails with ENOSPC', async (dir) => {
    await using sbx = await h.create({ limits });

    const r = await sbx.exec(['sh', '-c', 'i=0; while [ $i -lt "$2" ]; do true > "$1/f$i" || exit 1; i=$((i+1)); done', 'sh', dir, String(2 * TMP_INODES)], {
      timeoutMs: 20_000,
    });

    expect(r.reason).toBe('exited');
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/No space left on device/);
    const count = await sbx.exec(['sh', '-c', 'ls -A "$1" | wc -l', 'sh', dir], { timeoutMs: 10_000 });
    expect(Number(count.stdout.trim())).toBeLessThan(TMP_INODES);
  });

  it('twin: writes and files under the caps succeed', async () => {
    await using sbx = await h.create({ limits });

    const r = await sbx.exec(
      [
        'sh',
        '-c',
        'for d in /tmp /dev/shm; do head -c "$1" /dev/zero > "$d/big" && i=0 && while [ $i -lt 10 ]; do true > "$d/f$i"; i=$((i+1)); done || exit 1; done; ls -A /tmp /dev/shm | grep -c "^f"',
        'sh',
        String((TMP_MB - 1) * 1024 * 1024),
      ],
      { timeoutMs: 20_000 },
    );

    expect(r.reason).toBe('exited');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe('20\n');
  });
});
