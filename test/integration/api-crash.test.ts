/**
 * Crash recovery of the real server: `warden serve` with 50 live sandboxes is
 * killed with SIGKILL; the next start cleans up what it left (processes,
 * cgroups, mounts, state dirs), the store and the sandboxes agree, and a
 * graceful stop after that leaves nothing either.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdir, readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Sandbox } from '@warden/sdk';
import { eventually, exists, tempDir, type TempDir } from '../helpers/host.js';

const BIN = fileURLToPath(new URL('../../packages/cli/dist/bin.js', import.meta.url));
const N = 50;
const children: ChildProcess[] = [];
let data: TempDir | undefined;

interface Started {
  readonly child: ChildProcess;
  readonly url: string;
  readonly engineId: string;
  readonly adminKey: string | null;
  readonly recovered: { engines: Array<{ engineId: string; processesKilled: number[]; cgroupsRemoved: string[] }>; orphanedSandboxes: string[] };
}

async function startServer(dataDir: string, adminKey: string): Promise<Started> {
  // No warm pool: the probes below count exactly the sandboxes this test made (test/integration/pool-crash.test.ts covers pooled ones).
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data-dir', dataDir, '--json', '--log-level', 'warn', '--pool', '0'], {
    env: { ...process.env, WARDEN_ADMIN_KEY: adminKey },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const lines = createInterface({ input: child.stdout });
  const [line] = (await Promise.race([once(lines, 'line'), once(child, 'exit').then(() => [''])])) as [string];
  if (!line) throw new Error('warden serve exited before it printed its address');
  return { child, ...(JSON.parse(line) as Omit<Started, 'child'>) };
}

/** Live (non-zombie) host processes whose real uid is in `uids`. */
async function liveProcessesOf(uids: ReadonlySet<number>): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const status = await readFile(`/proc/${name}/status`, 'utf8').catch(() => '');
    const uid = /^Uid:\s+(\d+)/m.exec(status);
    const state = /^State:\s+(\S)/m.exec(status);
    if (uid && uids.has(Number(uid[1])) && state?.[1] !== 'Z') out.push(Number(name));
  }
  return out;
}

/** Host uids of every process below `pid` (the sandboxes' uids). */
async function descendantUids(pid: number): Promise<Set<number>> {
  const parent = new Map<number, number>();
  const uidOf = new Map<number, number>();
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const status = await readFile(`/proc/${name}/status`, 'utf8').catch(() => '');
    const pp = /^PPid:\s+(\d+)/m.exec(status);
    const uid = /^Uid:\s+(\d+)/m.exec(status);
    if (pp && uid) {
      parent.set(Number(name), Number(pp[1]));
      uidOf.set(Number(name), Number(uid[1]));
    }
  }
  const uids = new Set<number>();
  for (const [p, u] of uidOf) {
    for (let q: number | undefined = p; q !== undefined && q > 1; q = parent.get(q)) {
      if (q === pid) {
        if (u !== 0) uids.add(u);
        break;
      }
    }
  }
  return uids;
}

async function engineLeftovers(dataDir: string, engineId: string): Promise<string[]> {
  const found: string[] = [];
  if (await exists(`${dataDir}/run/${engineId}`)) found.push(`state dir of ${engineId}`);
  for (const controller of await readdir('/sys/fs/cgroup').catch(() => [] as string[])) {
    const d = `/sys/fs/cgroup/${controller}/warden/${engineId}`;
    if (await exists(d)) found.push(`cgroup ${d}`);
  }
  const mounts = await readFile('/proc/self/mountinfo', 'utf8');
  for (const l of mounts.split('\n')) if (l.includes(dataDir)) found.push(`mount ${l.split(' ')[4] ?? l}`);
  return found;
}

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await data?.[Symbol.asyncDispose]();
});

describe('the server after kill -9', () => {
  it(`cleans up ${N} live sandboxes of the dead run and marks them closed`, async () => {
    data = await tempDir('warden-crash-');
    const adminKey = 'wdn_crash_admin_key';
    const first = await startServer(data.path, adminKey);
    const conn = { url: first.url, apiKey: adminKey };

    const made: Sandbox[] = [];
    for (let i = 0; i < N; i += 10) {
      made.push(...(await Promise.all(Array.from({ length: 10 }, () => Sandbox.create({ ...conn, limits: { memoryMb: 64 }, metadata: { crash: 'yes' } })))));
    }
    // Busy ones too: a background sleeper and a double-forked escaper in some.
    await Promise.all(made.slice(0, 10).map((s, i) => s.commands.run(i % 2 ? 'sleep 600' : 'setsid sh -c "sleep 600 &" ; (sleep 600 &); sleep 600', { background: true })));
    await Promise.all(made.slice(10, 15).map((s) => s.files.write('note.txt', 'x')));
    const uids = await descendantUids(first.child.pid!);
    expect(uids.size).toBe(N); // the probe sees one uid per sandbox
    expect(await liveProcessesOf(uids)).not.toEqual([]);
    expect(await engineLeftovers(data.path, first.engineId)).not.toEqual([]); // positive twin: the probe sees a live engine's state

    first.child.kill('SIGKILL');
    await once(first.child, 'exit');

    const second = await startServer(data.path, adminKey);
    expect(second.adminKey).toBeNull(); // the store kept its keys; no new admin key
    expect(second.recovered.engines.map((e) => e.engineId)).toEqual([first.engineId]);
    expect(new Set(second.recovered.orphanedSandboxes)).toEqual(new Set(made.map((s) => s.id)));

    await eventually(async () => (await liveProcessesOf(uids)).length === 0, 10_000, 'no process of the dead run');
    expect(await engineLeftovers(data.path, first.engineId)).toEqual([]);

    // The store agrees: nothing runs, each of the 50 is closed with the reason.
    const conn2 = { url: second.url, apiKey: adminKey };
    expect((await Sandbox.list({ ...conn2 })).sandboxes).toEqual([]);
    const all = await Sandbox.list({ ...conn2, state: 'all', metadata: { crash: 'yes' }, limit: 1000 });
    expect(all.sandboxes).toHaveLength(N);
    for (const s of all.sandboxes) expect(s).toMatchObject({ state: 'closed', closedReason: 'server-restart' });

    // And the restarted server works.
    const fresh = await Sandbox.create(conn2);
    expect((await fresh.commands.run('echo alive')).stdout).toBe('alive\n');

    // A graceful stop after that leaves nothing either.
    const freshUids = await descendantUids(second.child.pid!);
    expect(freshUids.size).toBe(1);
    second.child.kill('SIGTERM');
    const [code] = (await once(second.child, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(await liveProcessesOf(freshUids)).toEqual([]);
    expect(await engineLeftovers(data.path, second.engineId)).toEqual([]);
  }, 120_000);
});
