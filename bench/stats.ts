/** Latency summaries: nearest-rank percentiles over samples in milliseconds. */

export interface Summary {
  readonly n: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly minMs: number;
  readonly maxMs: number;
}

/** Nearest-rank percentile of an ascending array (p in 0..100). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function summarize(samplesMs: readonly number[]): Summary {
  const s = [...samplesMs].sort((a, b) => a - b);
  const sum = s.reduce((a, b) => a + b, 0);
  return {
    n: s.length,
    meanMs: s.length ? sum / s.length : Number.NaN,
    p50Ms: percentile(s, 50),
    p95Ms: percentile(s, 95),
    p99Ms: percentile(s, 99),
    minMs: s[0] ?? Number.NaN,
    maxMs: s[s.length - 1] ?? Number.NaN,
  };
}

/** Milliseconds since `t0` (from `now()`), with sub-microsecond resolution. */
export function elapsedMs(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

export const now = (): bigint => process.hrtime.bigint();

/**
 * `clients` concurrent loops each running `fn` sequentially until `durationMs`
 * passes. Returns completed operations per second.
 */
export async function throughput(
  clients: number,
  durationMs: number,
  fn: (client: number) => Promise<void>,
  signal: AbortSignal,
): Promise<{ opsPerSec: number; ops: number; seconds: number }> {
  let ops = 0;
  const t0 = now();
  const until = Date.now() + durationMs;
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      while (Date.now() < until && !signal.aborted) {
        await fn(c);
        ops++;
      }
    }),
  );
  const seconds = elapsedMs(t0) / 1000;
  return { opsPerSec: ops / seconds, ops, seconds };
}

/** `items` rotated left by `round` places: run round i's variants in this order, so each takes every position in turn. */
export function rotated<T>(items: readonly T[], round: number): T[] {
  const k = items.length === 0 ? 0 : round % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}
