/** Number and table formatting shared by every bench section. */
import type { Summary } from './stats.js';

/** Milliseconds with 2, 1 or 0 decimals by size. */
export const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(x >= 100 ? 0 : x >= 10 ? 1 : 2) : '-');

/** Aligns columns: the first `leftCols` to the left, the rest (numbers) to the right. */
export function table(rows: readonly (readonly string[])[], leftCols = 1): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i < leftCols ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd());
}

export const latencyRow = (name: string, s: Summary): string[] => [name, String(s.n), f1(s.meanMs), f1(s.p50Ms), f1(s.p95Ms), f1(s.p99Ms)];
export const LAT_HEAD = ['', 'n', 'mean', 'p50', 'p95', 'p99'];

/** The PASS/MISS lines of one section's targets. */
export function printTargets(section: string, targets: readonly { readonly pass: boolean; readonly name: string; readonly goal: string; readonly measured: string }[], out: (line: string) => void): void {
  out('');
  out(`Targets (${section})`);
  for (const l of table(targets.map((t) => [t.pass ? 'PASS' : 'MISS', t.name, t.goal, t.measured]), 4)) out(`  ${l}`);
}

/** `a ÷ b` as "1.23×", or "-" when either is missing. */
export const ratio = (a: number, b: number): string => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : '-');

/** LAT_HEAD with the p50 and p99 ratios to a baseline row. */
export const LAT_RATIO_HEAD = [...LAT_HEAD, 'p50 ×', 'p99 ×'];

/** A latency row with its p50 and p99 divided by the baseline's. */
export const latencyRatioRow = (name: string, s: Summary, base: Summary): string[] => [...latencyRow(name, s), ratio(s.p50Ms, base.p50Ms), ratio(s.p99Ms, base.p99Ms)];
