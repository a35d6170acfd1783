/** The pool's rules with fake sandboxes; test/integration/pool.test.ts runs them with real ones. */
import { describe, expect, it } from 'vitest';
import { WardenError, parseSandboxSpec, type SandboxSpecInput } from '@warden/protocol';
import { silentLogger } from '../logger.js';
import type { PoolEntry } from './config.js';
import { WarmPool, type WarmPoolDeps } from './pool.js';

interface Fake {
  readonly n: number;
  readonly hostname: string;
  dead: boolean;
  discarded: boolean;
  die(): void;
  readonly died: Promise<void>;
}

interface Harness {
  readonly pool: WarmPool<Fake>;
  readonly made: Fake[];
  /** Starts in flight now, and the most there ever were. */
  readonly inFlight: { now: number; max: number };
  room: boolean;
  /** Make the next start(s) fail. */
  failNext: number;
  /** Starts wait for this, when set. */
  gate: Promise<void> | undefined;
}

function harness(pool: PoolEntry[], over: Partial<WarmPoolDeps<Fake>> = {}): Harness {
  const h = { made: [] as Fake[], inFlight: { now: 0, max: 0 }, room: true, failNext: 0, gate: undefined as Promise<void> | undefined } as Harness & { pool: WarmPool<Fake> };
  const deps: WarmPoolDeps<Fake> = {
    start: async (spec) => {
      h.inFlight.now++;
      h.inFlight.max = Math.max(h.inFlight.max, h.inFlight.now);
      try {
        await (h.gate ?? new Promise((r) => setTimeout(r, 1)));
        if (h.failNext > 0) {
          h.failNext--;
          throw new WardenError('E_SANDBOX_START_FAILED', 'bwrap said no');
        }
        let die!: () => void;
        const died = new Promise<void>((r) => (die = r));
        const f: Fake = { n: h.made.length, hostname: spec.hostname, dead: false, discarded: false, died, die: () => ((f.dead = true), die()) };
        h.made.push(f);
        return f;
      } finally {
        h.inFlight.now--;
      }
    },
    died: (f) => f.died,
    alive: (f) => !f.dead,
    discard: (f) => {
      f.discarded = true;
      f.die();
      return Promise.resolve();
    },
    hasRoom: () => h.room,
    logger: silentLogger,
    fillConcurrency: 2,
    backoffMs: { first: 20, max: 40 },
    ...over,
  };
  h.pool = new WarmPool(pool, deps);
  return h;
}

const entry = (size: number, profile: Partial<PoolEntry['profile']> = {}): PoolEntry => {
  const spec = parseSandboxSpec(profile);
  return { size, profile: { runtime: spec.runtime, hostname: spec.hostname, limits: spec.limits } };
};
const spec = (input: SandboxSpecInput = {}) => parseSandboxSpec(input);

async function until(check: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('WarmPool', () => {
  it('fills each pool to its size, never beyond, at most fillConcurrency starts at once', async () => {
    const h = harness([entry(5), entry(2, { hostname: 'b' })]);
    await until(() => h.pool.stats().pools.every((p) => p.idle === p.size), 'full pools');
    await new Promise((r) => setTimeout(r, 20));
    expect(h.made).toHaveLength(7);
    expect(h.inFlight.max).toBe(2);
    expect(h.pool.held()).toBe(7);
    await h.pool.close();
  });

  it('a matching create is a hit, handed out once, and refilled; others are misses or unpooled', async () => {
    const h = harness([entry(1)]);
    await until(() => h.pool.stats().pools[0]?.idle === 1, 'full pool');
    const first = h.pool.take(spec({ env: { A: '1' }, limits: { ttlMs: 5000 } }));
    expect(first?.n).toBe(0);
    expect(h.pool.take(spec())).toBeUndefined(); // empty until the refill is ready: a miss
    expect(h.pool.take(spec({ hostname: 'other' }))).toBeUndefined(); // no pool for it
    expect(h.pool.take(spec({ codebase: { name: 'app' } }))).toBeUndefined(); // never pooled
    await until(() => h.pool.stats().pools[0]?.idle === 1, 'refill');
    expect(h.pool.take(spec())?.n).toBe(1); // a fresh one, never the first again
    expect(h.pool.stats()).toMatchObject({ hits: 2, misses: 1, hitRate: 2 / 3, unpooled: 2, pools: [{ hits: 2, misses: 1, size: 1 }] });
    await h.pool.close();
    expect(first?.discarded).toBe(false); // a handed-out sandbox is its user's to kill, not the pool's
  });

  it('a sandbox that dies idle is dropped and replaced, and never handed out', async () => {
    const h = harness([entry(2)]);
    await until(() => h.pool.stats().pools[0]?.idle === 2, 'full pool');
    const [a] = h.made;
    a?.die();
    await until(() => (h.pool.stats().pools[0]?.discarded ?? 0) === 1, 'discard');
    expect(a?.discarded).toBe(true);
    expect(h.pool.take(spec())?.n).toBe(1);
    await until(() => h.made.length === 4, 'replacements'); // after a short backoff
    await h.pool.close();
  });

  it('a sandbox found dead at hand-over (its exit not yet heard) is dropped there', async () => {
    const h = harness([entry(2)]);
    await until(() => h.pool.stats().pools[0]?.idle === 2, 'full pool');
    const [a, b] = h.made;
    if (a) a.dead = true; // dead, but the exit event has not arrived
    expect(h.pool.take(spec())).toBe(b);
    expect(a?.discarded).toBe(true);
    expect(h.pool.stats().pools[0]).toMatchObject({ hits: 1, misses: 0, discarded: 1 });
    await h.pool.close();
  });

  it('a failed start backs off, reports its error, and recovers', async () => {
    const h = harness([entry(1)]);
    h.failNext = 2;
    await until(() => h.pool.stats().pools[0]?.failures === 2, 'two failures');
    expect(h.pool.stats().pools[0]?.lastError).toMatchObject({ code: 'E_SANDBOX_START_FAILED', message: 'bwrap said no' });
    await until(() => h.pool.stats().pools[0]?.idle === 1, 'recovery');
    expect(h.pool.stats().pools[0]?.lastError).toBeUndefined();
    await h.pool.close();
  });

  it('fills only while the engine has room, and resumes when told', async () => {
    const h = harness([entry(2)]);
    h.room = false;
    await new Promise((r) => setTimeout(r, 20));
    expect(h.made).toHaveLength(0);
    h.room = true;
    h.pool.pump();
    await until(() => h.pool.stats().pools[0]?.idle === 2, 'full pool');
    await h.pool.close();
  });

  it('evict() frees an idle place for another profile', async () => {
    const h = harness([entry(2)]);
    await until(() => h.pool.stats().pools[0]?.idle === 2, 'full pool');
    h.room = false;
    const gone = h.pool.evict();
    expect(h.pool.held()).toBe(1); // at once: the create that evicted counts on it
    await gone;
    expect(h.made.filter((f) => f.discarded)).toHaveLength(1);
    expect(h.pool.stats().pools[0]?.evicted).toBe(1);
    expect(h.pool.evict()).toBeInstanceOf(Promise);
    expect(h.pool.evict()).toBeUndefined();
    await h.pool.close();
  });

  it('close() waits for starts in flight and tears down every pooled sandbox; nothing starts after', async () => {
    let open!: () => void;
    const h = harness([entry(3)]);
    h.gate = new Promise((r) => (open = r));
    await until(() => h.inFlight.now === 2, 'starts in flight');
    const closing = h.pool.close();
    open();
    await closing;
    expect(h.made).toHaveLength(2);
    expect(h.made.every((f) => f.discarded)).toBe(true);
    expect(h.pool.held()).toBe(0);
    expect(h.pool.take(spec())).toBeUndefined();
    h.pool.pump();
    await new Promise((r) => setTimeout(r, 20));
    expect(h.made).toHaveLength(2);
  });

  it('size 0 keeps nothing but still counts', async () => {
    const h = harness([entry(0)]);
    await new Promise((r) => setTimeout(r, 10));
    expect(h.pool.take(spec())).toBeUndefined();
    expect(h.made).toHaveLength(0);
    expect(h.pool.stats()).toMatchObject({ misses: 1, hitRate: 0 });
    await h.pool.close();
  });

  it('close() reports a teardown that failed', async () => {
    const h = harness([entry(1)], {
      discard: () => Promise.reject(new Error('cgroup busy')),
    });
    await until(() => h.pool.stats().pools[0]?.idle === 1, 'full pool');
    await expect(h.pool.close()).rejects.toThrow('cgroup busy');
  });
});
