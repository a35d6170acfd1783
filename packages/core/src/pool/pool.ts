/**
 * Warm pools: per profile, sandboxes started ahead of time so that a matching
 * create is a hand-over instead of a start.
 *
 * Safety rules, all enforced here:
 * - Only fresh sandboxes are handed out. A pooled sandbox is a started runtime
 *   with a ready agent and nothing else: no Sandbox object exists for it, so
 *   nothing can run in it, and take() removes it from the pool before it is
 *   handed over. A handed-over sandbox never comes back; it dies with its user.
 * - A dead one is never handed out: it is dropped as soon as its runtime exits,
 *   and take() checks it is still alive before handing it over. (The check is
 *   synchronous, from the agent pipe's and the runtime's exit events: a ping
 *   would cost a wake-up round trip, 0.3 ms idle and several ms on a busy host,
 *   and proves no more, as the agent can die right after answering, just as
 *   a sandbox can die right after a cold create.)
 * - Bounded: a pool never holds more than its size (idle plus starting); fills
 *   run a few at a time and only while the engine has room under maxSandboxes.
 *   When a create finds the engine full, an idle pooled sandbox makes room.
 * - Failed starts back off (0.5 s doubling to 30 s) instead of spinning.
 *
 * Generic over what a started sandbox is, so the policy is unit-tested with
 * fakes; the engine supplies the real start, check and discard.
 */
import type { SandboxSpec } from '@warden/protocol';
import { isWardenError, parseSandboxSpec } from '@warden/protocol';
import type { Logger } from '../logger.js';
import type { PoolEntry } from './config.js';
import { poolKey, profileOf, type PoolProfile } from './profile.js';

export interface WarmPoolDeps<U> {
  /** Starts a sandbox for `spec` up to a ready agent, without handing it to anyone. */
  start(spec: Readonly<SandboxSpec>): Promise<U>;
  /** Settles when the sandbox dies by itself (or is discarded). */
  died(unit: U): Promise<unknown>;
  /** Whether the sandbox is still alive, as far as the engine has heard (synchronous: hand-over stays sub-millisecond). */
  alive(unit: U): boolean;
  /** Kills the sandbox and frees everything it holds. */
  discard(unit: U): Promise<void>;
  /** Whether the engine may start one more sandbox now (maxSandboxes, not closing). */
  hasRoom(): boolean;
  readonly logger: Logger;
  /** Most sandboxes started at once for the pools, all pools together. */
  readonly fillConcurrency: number;
  /** Backoff after a failed start. Default 500 ms doubling up to 30 s. */
  readonly backoffMs?: { readonly first: number; readonly max: number };
  /**
   * How long a refill waits after a hand-over. Default 10 ms: starting a
   * sandbox blocks this thread for a few ms (spawn forks it), and the new
   * owner's first command, usually sent at once, should not wait for that.
   */
  readonly refillDelayMs?: number;
}

/** One pool's numbers. */
export interface PoolStat {
  /** What a create must match (runtime, hostname, limits) to be served from this pool. */
  readonly profile: PoolProfile;
  /** Configured number of idle sandboxes. */
  readonly size: number;
  /** Started, ready and waiting for a create. */
  readonly idle: number;
  /** Being started now. */
  readonly starting: number;
  /** Creates of this profile served by a hand-over. */
  readonly hits: number;
  /** Creates of this profile that found no idle sandbox and started one cold. */
  readonly misses: number;
  /** hits / (hits + misses); null before the first create of this profile. */
  readonly hitRate: number | null;
  /** Idle sandboxes dropped because their agent died. */
  readonly discarded: number;
  /** Idle sandboxes killed to make room under maxSandboxes for a create of another profile. */
  readonly evicted: number;
  /** Starts that failed (each followed by a backoff). */
  readonly failures: number;
  /** The last failure, until a start succeeds again. */
  readonly lastError?: { readonly code: string; readonly message: string; readonly at: string };
}

export interface PoolStats {
  readonly pools: readonly PoolStat[];
  /** Over every pool. */
  readonly hits: number;
  readonly misses: number;
  readonly hitRate: number | null;
  /** Creates no pool serves: codebase, snapshot or host-workspace sandboxes, or a profile without a pool. */
  readonly unpooled: number;
}

interface Entry<U> {
  readonly key: string;
  readonly profile: PoolProfile;
  readonly spec: Readonly<SandboxSpec>;
  readonly size: number;
  /** Oldest first. */
  readonly idle: U[];
  starting: number;
  hits: number;
  misses: number;
  discarded: number;
  evicted: number;
  failures: number;
  failedInARow: number;
  retryAt: number;
  lastError: PoolStat['lastError'];
}

const rate = (hits: number, misses: number): number | null => (hits + misses === 0 ? null : hits / (hits + misses));

export class WarmPool<U> {
  readonly #d: WarmPoolDeps<U>;
  readonly #entries: Entry<U>[];
  readonly #byKey = new Map<string, Entry<U>>();
  readonly #fills = new Set<Promise<void>>();
  readonly #discards = new Set<Promise<void>>();
  #filling = 0;
  #unpooled = 0;
  #closed = false;
  #pumpQueued: NodeJS.Immediate | undefined;
  #pumpLater: NodeJS.Timeout | undefined;
  #retryTimer: NodeJS.Timeout | undefined;

  /** `pool` is validated (schema and checkPoolConfig); filling starts on the next turn of the event loop. */
  constructor(pool: readonly PoolEntry[], deps: WarmPoolDeps<U>) {
    this.#d = deps;
    this.#entries = pool.map((p) => {
      const spec = parseSandboxSpec(p.profile);
      const key = poolKey(spec);
      const profile = profileOf(spec);
      if (key === undefined || profile === undefined) throw new Error('a pool profile is always poolable');
      const e: Entry<U> = { key, profile, spec, size: p.size, idle: [], starting: 0, hits: 0, misses: 0, discarded: 0, evicted: 0, failures: 0, failedInARow: 0, retryAt: 0, lastError: undefined };
      this.#byKey.set(key, e);
      return e;
    });
    this.pump();
  }

  /** Idle and starting sandboxes of every pool: they count toward the engine's maxSandboxes. */
  held(): number {
    return this.#entries.reduce((n, e) => n + e.idle.length + e.starting, 0);
  }

  /** Whether a create of `spec` would find an idle sandbox now (it may still turn out dead). */
  hasIdle(spec: Readonly<SandboxSpec>): boolean {
    const key = this.#closed ? undefined : poolKey(spec);
    return key !== undefined && (this.#byKey.get(key)?.idle.length ?? 0) > 0;
  }

  /**
   * A fresh sandbox for `spec` taken out of its pool, or undefined (a miss, or
   * no pool for it). The caller owns what it gets and must never give it back.
   */
  take(spec: Readonly<SandboxSpec>): U | undefined {
    const key = this.#closed ? undefined : poolKey(spec);
    const e = key === undefined ? undefined : this.#byKey.get(key);
    if (!e) {
      this.#unpooled++;
      return undefined;
    }
    for (let u = e.idle.shift(); u !== undefined; u = e.idle.shift()) {
      if (this.#d.alive(u)) {
        e.hits++;
        this.#pumpAfter(this.#d.refillDelayMs ?? 10);
        return u;
      }
      // Its death is being handled (#diedIdle) but was not yet: drop it here.
      e.discarded++;
      void this.#discard(u);
    }
    e.misses++;
    this.pump();
    return undefined;
  }

  /**
   * Kills one idle sandbox (of the pool with the most) so a create can use its
   * place: it leaves the count at once, and the returned promise settles once
   * it is torn down (never rejects; a failure is logged). Undefined when none is idle.
   */
  evict(): Promise<void> | undefined {
    const e = this.#entries.reduce<Entry<U> | undefined>((best, x) => (x.idle.length > (best?.idle.length ?? 0) ? x : best), undefined);
    const u = e?.idle.pop();
    if (!e || u === undefined) return undefined;
    e.evicted++;
    return this.#discard(u).catch(() => undefined);
  }

  stats(): PoolStats {
    const pools = this.#entries.map(
      (e): PoolStat => ({
        profile: e.profile,
        size: e.size,
        idle: e.idle.length,
        starting: e.starting,
        hits: e.hits,
        misses: e.misses,
        hitRate: rate(e.hits, e.misses),
        discarded: e.discarded,
        evicted: e.evicted,
        failures: e.failures,
        ...(e.lastError ? { lastError: e.lastError } : {}),
      }),
    );
    const hits = pools.reduce((n, p) => n + p.hits, 0);
    const misses = pools.reduce((n, p) => n + p.misses, 0);
    return { pools, hits, misses, hitRate: rate(hits, misses), unpooled: this.#unpooled };
  }

  /** Starts what the pools lack, on the next turn of the event loop (never inside a hand-over). */
  pump(): void {
    if (this.#closed || this.#pumpQueued) return;
    this.#pumpQueued = setImmediate(() => {
      this.#pumpQueued = undefined;
      this.#pumpNow();
    });
  }

  #pumpAfter(ms: number): void {
    if (ms <= 0) return this.pump();
    if (this.#closed || this.#pumpLater) return;
    this.#pumpLater = setTimeout(() => {
      this.#pumpLater = undefined;
      this.pump();
    }, ms);
  }

  #pumpNow(): void {
    const now = Date.now();
    while (!this.#closed && this.#filling < this.#d.fillConcurrency && this.#d.hasRoom()) {
      // The pool furthest below its size first.
      let neediest: Entry<U> | undefined;
      for (const e of this.#entries) {
        const lack = e.size - e.idle.length - e.starting;
        if (lack > 0 && e.retryAt <= now && lack > (neediest ? neediest.size - neediest.idle.length - neediest.starting : 0)) neediest = e;
      }
      if (!neediest) break;
      this.#fill(neediest);
    }
    this.#armRetry(now);
  }

  /** Wakes the pump when the earliest backoff of a pool that lacks sandboxes ends. */
  #armRetry(now: number): void {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    const waiting = this.#entries.filter((e) => e.retryAt > now && e.size > e.idle.length + e.starting);
    if (this.#closed || waiting.length === 0) return;
    const at = Math.min(...waiting.map((e) => e.retryAt));
    this.#retryTimer = setTimeout(() => this.pump(), at - now);
    this.#retryTimer.unref();
  }

  #fill(e: Entry<U>): void {
    e.starting++;
    this.#filling++;
    const done = this.#d.start(e.spec).then(
      (u) => {
        e.starting--;
        this.#filling--;
        if (this.#closed) return void this.#discard(u);
        e.failedInARow = 0;
        e.lastError = undefined;
        e.idle.push(u);
        void this.#d.died(u).then(() => this.#diedIdle(e, u));
      },
      (err: unknown) => {
        e.starting--;
        this.#filling--;
        this.#failed(e, err);
      },
    );
    const tracked = done.finally(() => {
      this.#fills.delete(tracked);
      this.pump();
    });
    this.#fills.add(tracked);
  }

  #diedIdle(e: Entry<U>, u: U): void {
    const i = e.idle.indexOf(u);
    if (i < 0) return; // handed over or discarded already: not the pool's any more
    e.idle.splice(i, 1);
    e.discarded++;
    // Counted as a failure so that sandboxes that die right after starting do not restart in a tight loop.
    this.#failed(e, new Error("a pooled sandbox's agent exited while idle"));
    void this.#discard(u);
    this.pump();
  }

  #failed(e: Entry<U>, err: unknown): void {
    e.failures++;
    e.failedInARow++;
    const { first, max } = this.#d.backoffMs ?? { first: 500, max: 30_000 };
    e.retryAt = Date.now() + Math.min(max, first * 2 ** (e.failedInARow - 1));
    const code = isWardenError(err) ? err.code : 'E_INTERNAL';
    const message = err instanceof Error ? err.message : String(err);
    e.lastError = { code, message, at: new Date().toISOString() };
    this.#d.logger.warn('a pooled sandbox failed; retrying after a backoff', { profile: e.key, code, err: message, retryInMs: e.retryAt - Date.now() });
  }

  #discard(u: U): Promise<void> {
    const p = this.#d.discard(u).catch((err: unknown) => {
      this.#d.logger.error('could not tear down a pooled sandbox', { err: String(err) });
      throw err;
    });
    const tracked = p.finally(() => this.#discards.delete(tracked));
    tracked.catch(() => undefined); // reported by close(), logged above
    this.#discards.add(tracked);
    return tracked;
  }

  /**
   * Stops filling, waits for starts in flight and tears down every pooled
   * sandbox. Idempotent; rejects with the first teardown failure.
   */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#pumpQueued) clearImmediate(this.#pumpQueued);
    this.#pumpQueued = undefined;
    clearTimeout(this.#pumpLater);
    clearTimeout(this.#retryTimer);
    await Promise.allSettled([...this.#fills]);
    for (const e of this.#entries) for (const u of e.idle.splice(0)) void this.#discard(u);
    const failed = (await Promise.allSettled([...this.#discards])).find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason instanceof Error ? failed.reason : new Error('pooled sandbox teardown failed', { cause: failed.reason });
  }
}
