/**
 * A strict reader of the Prometheus text exposition format (0.0.4): every
 * line must be a HELP, a TYPE or a sample, label values unescaped, names
 * declared once, and each histogram's buckets cumulative with +Inf = _count.
 * It throws on anything else, so a test that reads /metrics also checks that
 * the exposition parses.
 */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Exposition {
  readonly samples: readonly Sample[];
  readonly types: ReadonlyMap<string, string>;
  /** The value of the sample with exactly these labels (a subset match when `subset`), else 0 (an absent series counts as 0). */
  value(name: string, labels?: Record<string, string>): number;
  /** The sum over every sample of `name` whose labels include `labels`. */
  sum(name: string, labels?: Record<string, string>): number;
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: (-?\\d+))?$`);
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/;

function parseLabels(text: string, line: string): Record<string, string> {
  const out: Record<string, string> = {};
  let rest = text;
  while (rest.length > 0) {
    const m = LABEL.exec(rest);
    if (!m) throw new Error(`bad labels in exposition line: ${line}`);
    const [all, key = '', raw = ''] = m;
    if (key in out) throw new Error(`label ${key} twice in: ${line}`);
    out[key] = raw.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    rest = rest.slice(all.length);
  }
  return out;
}

/** Prometheus reads values with Go's ParseFloat, which takes NaN and Inf in any case (prom-client writes `Nan`). */
function parseValue(v: string, line: string): number {
  const lower = v.toLowerCase();
  if (lower === '+inf' || lower === 'inf') return Infinity;
  if (lower === '-inf') return -Infinity;
  if (lower === 'nan') return NaN;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new Error(`bad value in exposition line: ${line}`);
  return n;
}

const matches = (labels: Readonly<Record<string, string>>, want: Record<string, string>): boolean => Object.entries(want).every(([k, v]) => labels[k] === v);

export function parseExposition(text: string): Exposition {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const helps = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# HELP ')) {
      const name = line.slice(7).split(' ')[0] ?? '';
      if (!new RegExp(`^${NAME}$`).test(name) || helps.has(name)) throw new Error(`bad or repeated HELP: ${line}`);
      helps.add(name);
      continue;
    }
    if (line.startsWith('# TYPE ')) {
      const [name = '', type = ''] = line.slice(7).split(' ');
      if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(type) || types.has(name)) throw new Error(`bad or repeated TYPE: ${line}`);
      types.set(name, type);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    samples.push({ name: m[1] ?? '', labels: parseLabels(m[2] ?? '', line), value: parseValue(m[3] ?? '', line) });
  }
  // Every histogram: buckets cumulative per series, +Inf equal to _count.
  for (const [name, type] of types) {
    if (type !== 'histogram') continue;
    const series = new Map<string, Sample[]>();
    for (const s of samples.filter((x) => x.name === `${name}_bucket`)) {
      const { le: _le, ...rest } = s.labels;
      const key = JSON.stringify(rest);
      series.set(key, [...(series.get(key) ?? []), s]);
    }
    for (const [key, buckets] of series) {
      let prev = -1;
      for (const b of buckets) {
        if (b.value < prev) throw new Error(`${name}${key}: bucket le=${b.labels.le} is below the one before`);
        prev = b.value;
      }
      const inf = buckets.find((b) => b.labels.le === '+Inf');
      const count = samples.find((s) => s.name === `${name}_count` && JSON.stringify(s.labels) === key);
      if (!inf || !count || inf.value !== count.value) throw new Error(`${name}${key}: +Inf bucket ${inf?.value} differs from _count ${count?.value}`);
    }
  }
  return {
    samples,
    types,
    value: (name, labels = {}) => samples.find((s) => s.name === name && matches(s.labels, labels) && Object.keys(s.labels).length === Object.keys(labels).length)?.value ?? 0,
    sum: (name, labels = {}) => samples.filter((s) => s.name === name && matches(s.labels, labels)).reduce((a, s) => a + s.value, 0),
  };
}
