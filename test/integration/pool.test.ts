/**
 * Warm pools with real sandboxes: what one user leaves never reaches the next,
 * pools refill after a burst, shutdown reaps them, a hand-over binds the new
 * owner's tenant and guard layers, and a dead pooled sandbox is never handed out.
 * The host is the oracle: processes, cgroup dirs, workspaces, uid lock files.
 */
import { randomInt } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { createGuard, type AuditSink, type Engine, type EngineOptions, type Guard, type Sandbox } from '@warden/core';
import { hasCode } from '@warden/protocol';
import { eventually, exists, leftovers, processesOwnedBy, sandboxHostProcesses, testEngine, type TestEngine } from '../helpers/host.js';

/** An engine with its own uid range, so "every process of its uids" means this engine's only. */
function poolEngine(options: EngineOptions): Promise<TestEngine> {
  return testEngine({ uidRange: { start: 1_900_000_000 + randomInt(0, 900_000) * 256, count: 256 }, ...options });
}

const uidsOf = (engine: Engine) => {
  const { start, count } = engine.config.uidRange;
  return (uid: number): boolean => uid >= start && uid < start + count;
};

/** Sandbox ids with a cgroup in this engine: handed-over and pooled alike. */
async function cgroupIds(engine: Engine): Promise<string[]> {
  const dir = engine.cgroupDirs[0] ?? '';
  return (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory() && e.name.startsWith('sbx_')).map((e) => e.name);
}

/** Sandboxes in the pools: cgroups of sandboxes nobody was handed. */
async function pooledIds(engine: Engine): Promise<string[]> {
  const used = new Set(engine.list().map((s) => s.id));
  return (await cgroupIds(engine)).filter((id) => !used.has(id));
}

async function cgroupPids(engine: Engine, id: string): Promise<number[]> {
  const text = await readFile(join(engine.cgroupDirs[0] ?? '', id, 'cgroup.procs'), 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map(Number);
}

async function full(engine: Engine, what = 'a full pool'): Promise<void> {
  await eventually(() => engine.poolStats().pools.every((p) => p.idle === p.size), 15_000, what);
}

function printOnFailure(engine: Engine): void {
  onTestFailed(() => {
    process.stderr.write(`pool stats: ${JSON.stringify(engine.poolStats())}\nsandboxes: ${JSON.stringify(engine.list().map((s) => s.id))}\n`);
  });
}

describe('no state crosses between users', () => {
  it("a file and a background process left by user A are never visible to user B's next create", async () => {
    await using t = await poolEngine({ pool: [{ size: 2 }] });
    printOnFailure(t.engine);
    await full(t.engine);

    const a = await t.engine.create({}, { tenant: 'a' });
    const aUid = a.info().hostUid;
    const aCgroup = join(t.engine.cgroupDirs[0] ?? '', a.id);
    const aWorkspace = join(t.engine.stateDir, 'ws', a.id);
    expect(t.engine.poolStats().hits).toBe(1);
    expect(await a.exec(['sh', '-c', 'echo secret-a > /workspace/left.txt; echo secret-a > /tmp/left.txt; echo secret-a > /dev/shm/left.txt'])).toMatchObject({ reason: 'exited', exitCode: 0 });
    a.spawn(['sleep', '600']);
    expect((await a.exec(['sh', '-c', 'setsid sleep 601 </dev/null >/dev/null 2>&1 & echo started'])).stdout).toBe('started\n');
    await eventually(async () => (await sandboxHostProcesses(t.engine, [a])).length >= 3, 5000, "A's agent and two sleeps");
    expect(await readFile(join(aWorkspace, 'left.txt'), 'utf8')).toBe('secret-a\n');

    await a.kill();
    // A's sandbox is gone for good, from the host and from the pool.
    expect(await processesOwnedBy(new Set([aUid]))).toEqual([]);
    expect(await exists(aCgroup)).toBe(false);
    expect(await exists(aWorkspace)).toBe(false);
    expect(await cgroupIds(t.engine)).not.toContain(a.id);

    const b = await t.engine.create({}, { tenant: 'b' });
    expect(t.engine.poolStats().hits).toBe(2); // a pooled one, and not A's
    expect(b.id).not.toBe(a.id);
    expect(b.info().hostUid).not.toBe(aUid);
    const seen = await b.exec(['sh', '-c', 'cat /workspace/left.txt /tmp/left.txt /dev/shm/left.txt 2>&1; ls -A /workspace /tmp /dev/shm; ps -eo comm= 2>/dev/null || ls /proc | grep -c "^[0-9]"']);
    expect(seen.stdout).not.toContain('secret-a');
    expect(seen.stdout).not.toContain('sleep');
    expect(seen.stdout).toMatch(/No such file/);
    // On the host: B's cgroup holds B's processes only, and none of them runs as A's uid.
    for (const pid of await cgroupPids(t.engine, b.id)) {
      expect(await readFile(`/proc/${pid}/status`, 'utf8').catch(() => `Uid:\t${b.info().hostUid}`)).not.toMatch(new RegExp(`^Uid:\\s+${aUid}\\b`, 'm'));
    }
    await b.kill();
  });

  it('a handed-over sandbox takes the caller\'s env, metadata and TTL, and its lifetime starts at hand-over', async () => {
    await using t = await poolEngine({ pool: [{ size: 1 }] });
    await full(t.engine);
    const before = Date.now();
    await using s = await t.engine.create({ env: { GREETING: 'hi' }, metadata: { who: 'me' }, limits: { ttlMs: 5000, timeoutMs: 300 } });
    expect(t.engine.poolStats().hits).toBe(1);
    expect(s.createdAt.getTime()).toBeGreaterThanOrEqual(before);
    expect(s.expiresAt.getTime() - s.createdAt.getTime()).toBe(5000);
    expect(s.info().metadata).toEqual({ who: 'me' });
    expect((await s.exec(['sh', '-c', 'echo $GREETING'], { timeoutMs: 10_000 })).stdout).toBe('hi\n');
    expect((await s.exec(['sleep', '10'])).reason).toBe('timeout'); // the caller's timeoutMs, not the pool's default
  });

  it('a create that does not match the profile is started cold, and never from the pool', async () => {
    await using t = await poolEngine({ pool: [{ size: 1 }] });
    await full(t.engine);
    const [pooled] = await pooledIds(t.engine);
    await using s = await t.engine.create({ limits: { memoryMb: 128 } });
    expect(s.id).not.toBe(pooled);
    expect(t.engine.poolStats()).toMatchObject({ hits: 0, misses: 0, unpooled: 1, pools: [{ idle: 1 }] });
  });
});

describe('refill', () => {
  it('after a burst larger than the pool: the first N are hits, the rest misses, and the pool fills again with fresh sandboxes', async () => {
    await using t = await poolEngine({ pool: [{ size: 2 }] });
    printOnFailure(t.engine);
    await full(t.engine);
    const before = await pooledIds(t.engine);

    const burst = await Promise.all(Array.from({ length: 5 }, () => t.engine.create()));
    const stats = t.engine.poolStats();
    expect(stats).toMatchObject({ hits: 2, misses: 3, pools: [{ hits: 2, misses: 3 }] });
    expect(stats.hitRate).toBeCloseTo(0.4);
    // Creates take pooled sandboxes in call order: the first two got the two that were waiting.
    expect(burst.slice(0, 2).map((s) => s.id).sort()).toEqual([...before].sort());

    await full(t.engine, 'the pool full again');
    const after = await pooledIds(t.engine);
    expect(after).toHaveLength(2);
    for (const id of after) expect(burst.map((s) => s.id)).not.toContain(id);
    for (const s of burst) expect((await s.exec(['true'])).exitCode).toBe(0);
    await Promise.all(burst.map((s) => s.kill()));
    // Handed-over sandboxes never go back: the pool still holds exactly its two fresh ones.
    expect((await pooledIds(t.engine)).sort()).toEqual([...after].sort());
  });

  it('pooled sandboxes count toward maxSandboxes; an idle one makes room for another profile, and the pool refills when room comes back', async () => {
    await using t = await poolEngine({ pool: [{ size: 2 }], maxSandboxes: 2 });
    printOnFailure(t.engine);
    await full(t.engine);
    const other = await t.engine.create({ hostname: 'other' });
    expect(t.engine.poolStats().pools[0]).toMatchObject({ idle: 1, evicted: 1 });
    const hit = await t.engine.create();
    expect(t.engine.poolStats().hits).toBe(1);
    const err = await t.engine.create().catch((e: unknown) => e);
    expect(hasCode(err, 'E_CAPACITY')).toBe(true);
    expect(await cgroupIds(t.engine)).toHaveLength(2); // never more than maxSandboxes on the host
    await other.kill();
    await eventually(() => t.engine.poolStats().pools[0]?.idle === 1, 15_000, 'the pool refilled into the free place');
    expect(await cgroupIds(t.engine)).toHaveLength(2);
    await hit.kill();
    await full(t.engine);
  });
});

describe('shutdown', () => {
  it('engine.close() reaps pooled sandboxes: no process of a pool uid, no cgroup, no workspace, no uid lock', async () => {
    await using t = await poolEngine({ pool: [{ size: 3 }, { size: 1, profile: { limits: { memoryMb: 128 } } }] });
    await full(t.engine);
    const ids = await pooledIds(t.engine);
    expect(ids).toHaveLength(4);
    const pids = (await Promise.all(ids.map((id) => cgroupPids(t.engine, id)))).flat();
    expect(pids.length).toBeGreaterThanOrEqual(4);
    const uids = new Set<number>();
    for (const pid of pids) {
      const m = /^Uid:\s+(\d+)/m.exec(await readFile(`/proc/${pid}/status`, 'utf8').catch(() => ''));
      if (m && uidsOf(t.engine)(Number(m[1]))) uids.add(Number(m[1]));
      // Under gVisor no process runs as the sandbox uid: its user namespaces map the sandbox user (1000) to it.
      const mapped = /^\s*1000\s+(\d+)\s+1\s*$/m.exec(await readFile(`/proc/${pid}/uid_map`, 'utf8').catch(() => ''));
      if (mapped && uidsOf(t.engine)(Number(mapped[1]))) uids.add(Number(mapped[1]));
    }
    expect(uids.size).toBe(4);
    const locks = t.engine.uidLeaseFiles();
    expect(locks.length).toBeGreaterThan(0);

    await t.engine.close();
    expect(await leftovers(t.engine, [...uids])).toEqual([]);
    expect(await processesOwnedBy(uidsOf(t.engine))).toEqual([]);
    for (const f of locks) expect(await exists(f)).toBe(false);
  });

  it('close() while the pool is still filling waits for the starts and reaps them too', async () => {
    await using t = await poolEngine({ pool: [{ size: 4 }] });
    await eventually(() => (t.engine.poolStats().pools[0]?.starting ?? 0) > 0, 5000, 'a start in flight');
    await t.engine.close();
    expect(await processesOwnedBy(uidsOf(t.engine))).toEqual([]);
    expect(await leftovers(t.engine, [])).toEqual([]);
    expect(t.engine.poolStats().pools[0]).toMatchObject({ idle: 0, starting: 0 });
  });
});

describe('hand-over binds the new owner', () => {
  const TENANT_POLICY = `version: 1
rules:
  - id: test.no-forbidden
    category: fs-destructive
    risk: high
    decision: deny
    message: tenant t1 may not touch forbidden files
    languages: [bash]
    when:
      command: { program: [touch], args: ['forbidden*'] }
    examples:
      match: ['touch forbidden-1']
      not_match: ['touch fine']
`;
  let guard: Guard;
  beforeAll(async () => {
    guard = await createGuard();
  });
  afterAll(() => guard?.close());

  it("a pooled sandbox's commands are audited with the tenant and actor it was handed to, under that tenant's guard layers", async () => {
    const events: Array<Record<string, unknown>> = [];
    const audit: AuditSink = { append: (e) => void events.push(e as unknown as Record<string, unknown>) };
    await using t = await poolEngine({ pool: [{ size: 2 }], guard, audit });
    printOnFailure(t.engine);
    await full(t.engine);
    expect(events).toEqual([]); // a pooled sandbox belongs to nobody: nothing is recorded for it

    const tenantLayer = guard.loadPolicy(TENANT_POLICY, { layer: 'tenant' });
    const s1: Sandbox = await t.engine.create({}, { tenant: 't1', actor: 'key:one', policies: [tenantLayer] });
    const s2: Sandbox = await t.engine.create({}, { tenant: 't2', actor: 'key:two' });
    expect(t.engine.poolStats().hits).toBe(2);

    const denied = await s1.exec(['touch', 'forbidden-1']).catch((e: unknown) => e);
    expect(hasCode(denied, 'E_GUARD_DENIED')).toBe(true);
    expect(await s1.files.exists('forbidden-1')).toBe(false);
    expect((await s2.exec(['touch', 'forbidden-1'])).exitCode).toBe(0); // t2's layers are its own
    expect((await s1.exec(['true'])).exitCode).toBe(0);

    const of = (id: string) => events.filter((e) => e.sandboxId === id);
    expect(of(s1.id).length).toBeGreaterThanOrEqual(4);
    expect(of(s1.id).every((e) => e.tenant === 't1')).toBe(true);
    expect(of(s2.id).every((e) => e.tenant === 't2')).toBe(true);
    expect(of(s1.id)[0]).toMatchObject({ action: 'sandbox.create', actor: 'key:one', tenant: 't1' });
    expect(of(s1.id).find((e) => e.decision === 'deny')).toMatchObject({ action: 'command.start', actor: 'local', tenant: 't1', outcome: 'denied', ruleIds: ['test.no-forbidden'] });
    await s1.kill();
    await s2.kill();
    expect(of(s1.id).at(-1)).toMatchObject({ action: 'sandbox.end', outcome: 'killed', tenant: 't1' });
  });
});

describe('dead pooled sandboxes', () => {
  it('a pooled sandbox whose agent died is discarded, not handed out, and replaced', async () => {
    await using t = await poolEngine({ pool: [{ size: 2 }] });
    printOnFailure(t.engine);
    await full(t.engine);
    const [victim] = await pooledIds(t.engine);
    if (!victim) throw new Error('no pooled sandbox');
    for (const pid of await cgroupPids(t.engine, victim)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await eventually(() => t.engine.poolStats().pools[0]?.discarded === 1, 5000, 'the death noticed');
    await eventually(async () => !(await cgroupIds(t.engine)).includes(victim), 5000, 'the dead one torn down');

    const s = await t.engine.create();
    expect(s.id).not.toBe(victim);
    expect(t.engine.poolStats().hits).toBe(1);
    expect((await s.exec(['echo', 'alive'])).stdout).toBe('alive\n');
    await s.kill();
    await full(t.engine, 'the pool full again after the death');
    expect(await pooledIds(t.engine)).not.toContain(victim);
  });
});
