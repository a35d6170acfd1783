/**
 * Warm pools over a real server (`--pool 2`): GET /v1/pools shows sizes, idle
 * counts, hits, misses and the hit rate; creates over the API are hand-overs
 * bound to the caller's tenant; only admins read the pools.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox, WardenClient } from '@warden/sdk';
import { eventually } from '../helpers/host.js';
import { testServer, type TestServer } from '../helpers/server.js';

let srv: TestServer;
let userKey: string;
const made: Sandbox[] = [];

interface Pools {
  pools: Array<{ size: number; idle: number; hits: number; misses: number; hitRate: number | null; profile: { limits: Record<string, number> } }>;
  hits: number;
  misses: number;
  hitRate: number | null;
  unpooled: number;
}

const pools = async (): Promise<Pools> => {
  const r = await srv.call(srv.adminKey, 'GET', '/v1/pools');
  expect(r.status).toBe(200);
  return r.body as unknown as Pools;
};

beforeAll(async () => {
  srv = await testServer({ poolSize: 2 });
  userKey = srv.key('pooltenant');
});

afterAll(async () => {
  await Promise.allSettled(made.map((s) => s.kill()));
  await srv?.[Symbol.asyncDispose]();
});

describe('GET /v1/pools', () => {
  it('shows the default pool filling up to its size', async () => {
    await eventually(async () => (await pools()).pools[0]?.idle === 2, 15_000, 'the pool full');
    const p = await pools();
    expect(p).toMatchObject({ hits: 0, misses: 0, hitRate: null, unpooled: 0, pools: [{ size: 2, idle: 2, starting: 0, hits: 0, misses: 0, hitRate: null, discarded: 0, evicted: 0, failures: 0, lastError: null }] });
    // The profile the API shows is the engine's, every field of it.
    expect(p.pools[0]?.profile).toEqual(srv.server.engine.poolStats().pools[0]?.profile);
    expect(p.pools[0]?.profile.limits).not.toHaveProperty('ttlMs');
  });

  it('counts hand-overs, misses and creates no pool serves; the SDK reads the same', async () => {
    await eventually(async () => (await pools()).pools[0]?.idle === 2, 15_000, 'the pool full');
    const conn = srv.conn(userKey);
    made.push(await Sandbox.create({ ...conn, env: { A: '1' }, metadata: { n: '1' } }));
    made.push(await Sandbox.create({ ...conn, timeoutMs: 120_000 }));
    made.push(await Sandbox.create({ ...conn, limits: { memoryMb: 64 } }));
    let p = await pools();
    expect(p).toMatchObject({ hits: 2, unpooled: 1, pools: [{ hits: 2 }] });
    const misses = p.misses;
    // A burst bigger than what is idle: hand-overs first, then cold starts.
    const burst = await Promise.all([1, 2, 3].map(() => Sandbox.create(conn)));
    made.push(...burst);
    p = await pools();
    expect(p.hits + p.misses).toBe(2 + misses + 3);
    expect(p.misses).toBeGreaterThanOrEqual(misses + 1);
    expect(p.hitRate).toBeCloseTo(p.hits / (p.hits + p.misses));
    for (const s of made) expect((await s.commands.run('echo ok')).stdout).toBe('ok\n');
    await eventually(async () => (await pools()).pools[0]?.idle === 2, 15_000, 'the pool refilled');
    expect(await new WardenClient(srv.conn(srv.adminKey)).pools()).toEqual(await pools());
  });

  it("a handed-over sandbox is the caller's: its tenant's list, its audit trail, its TTL", async () => {
    await eventually(async () => (await pools()).pools[0]?.idle === 2, 15_000, 'the pool full');
    const hitsBefore = (await pools()).hits;
    const started = Date.now();
    const sbx = await Sandbox.create({ ...srv.conn(userKey), timeoutMs: 60_000, metadata: { pooled: 'yes' } });
    made.push(sbx);
    expect((await pools()).hits).toBe(hitsBefore + 1);
    const info = await sbx.getInfo();
    expect(info).toMatchObject({ tenant: 'pooltenant', metadata: { pooled: 'yes' }, state: 'running' });
    expect(Date.parse(info.createdAt)).toBeGreaterThanOrEqual(started - 5); // createdAt is the hand-over, not the pool's start
    expect(Date.parse(info.expiresAt) - Date.parse(info.createdAt)).toBe(60_000);
    expect((await Sandbox.list({ ...srv.conn(userKey), metadata: { pooled: 'yes' } })).sandboxes.map((s) => s.id)).toEqual([sbx.id]);
    await sbx.commands.run('true');
    const events = await new WardenClient(srv.conn(userKey)).audit.query({ sandboxId: sbx.id });
    expect(events.length).toBeGreaterThanOrEqual(2);
    for (const e of events) expect(e.tenant).toBe('pooltenant');
    const created = events.find((e) => e.action === 'sandbox.create');
    expect(created?.tenant).toBe('pooltenant');
    expect(created?.actor).toMatch(/^key:key_/);
  });

  it('is for admins: a tenant key is refused, no key is unauthenticated', async () => {
    expect(await srv.call(userKey, 'GET', '/v1/pools')).toMatchObject({ status: 403, body: { code: 'E_FORBIDDEN', details: { scope: 'admin' } } });
    const anon = await fetch(`${srv.url}/v1/pools`);
    expect(anon.status).toBe(401);
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${srv.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(doc.paths).toHaveProperty('/v1/pools');
  });
});
