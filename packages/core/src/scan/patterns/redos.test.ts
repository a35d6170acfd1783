/**
 * Slow-regex safety, by counting work rather than timing it: every rule
 * string runs through a backtracking matcher that explores alternatives as
 * V8's Irregexp does, on inputs built to make it backtrack (long runs of the
 * bytes its repetitions accept, its literals pumped back to back, its own
 * matches cut one byte short and repeated). The work must stay within a
 * constant factor of what a linear-time (Thompson NFA) engine would do:
 * steps <= WORK_FACTOR * (longest match + 1) * input bytes.
 */
import { describe, expect, it } from 'vitest';
import { compileRules, type CompiledString } from './compile.js';
import { DEFAULT_PATTERN_RULES } from './rules/index.js';
import { members } from './syntax/charset.js';
import { countedSearch } from './syntax/backtrack.js';
import type { Node } from './syntax/parse.js';

const INPUT_BYTES = 1536;
const WORK_FACTOR = 4;
const compiled = compileRules(DEFAULT_PATTERN_RULES);

function repeatedSets(n: Node, out: Uint8Array[] = []): Uint8Array[] {
  switch (n.kind) {
    case 'repeat':
      if (n.body.kind === 'set') out.push(n.body.set);
      repeatedSets(n.body, out);
      break;
    case 'seq':
      n.items.forEach((i) => repeatedSets(i, out));
      break;
    case 'alt':
      n.options.forEach((o) => repeatedSets(o, out));
      break;
    case 'set':
    case 'boundary':
      break;
  }
  return out;
}

function allSets(n: Node, out: Uint8Array[] = []): Uint8Array[] {
  if (n.kind === 'set') out.push(n.set);
  else if (n.kind === 'seq') n.items.forEach((i) => allSets(i, out));
  else if (n.kind === 'alt') n.options.forEach((o) => allSets(o, out));
  else if (n.kind === 'repeat') allSets(n.body, out);
  return out;
}

function fill(unit: string, bytes = INPUT_BYTES): Buffer {
  return Buffer.from(unit.length === 0 ? '' : unit.repeat(Math.ceil(bytes / unit.length)).slice(0, bytes), 'latin1');
}

/** Inputs meant to make this string's matcher backtrack as much as it can. */
function adversarial(s: CompiledString, rules = compiled.rules): { label: string; bytes: Buffer }[] {
  const inputs: { label: string; bytes: Buffer }[] = [];
  const sets = allSets(s.pattern.root);
  // For each repeated class, the byte it shares with the most other parts of the pattern.
  for (const set of repeatedSets(s.pattern.root)) {
    const byte = members(set).sort((a, b) => sets.filter((x) => x[b]).length - sets.filter((x) => x[a]).length)[0]!;
    const run = String.fromCharCode(byte);
    inputs.push({ label: `run of ${JSON.stringify(run)}`, bytes: fill(run) });
    for (const atom of s.atoms.slice(0, 3)) inputs.push({ label: `${JSON.stringify(atom.text)} then a run of ${JSON.stringify(run)}`, bytes: Buffer.concat([Buffer.from(atom.text, 'latin1'), fill(run)]) });
  }
  for (const atom of s.atoms.slice(0, 3)) inputs.push({ label: `${JSON.stringify(atom.text)} pumped`, bytes: fill(atom.text) });
  const re = new RegExp(s.js.source, s.js.flags);
  for (const example of rules[s.rule]!.examples.match) {
    const m = re.exec(example);
    if (!m) continue;
    const cut = m[0].slice(0, -1);
    inputs.push({ label: 'its match minus the last byte, pumped', bytes: fill(cut) });
    inputs.push({ label: 'its match minus the last byte, pumped with spaces', bytes: fill(`${cut} `) });
    inputs.push({ label: 'its match, pumped', bytes: fill(m[0]) });
  }
  return inputs;
}

describe('every rule string runs in linear time on adversarial input', () => {
  const worst: { name: string; stepsPerByte: number; bound: number }[] = [];

  it.each(compiled.strings.map((s) => [`${compiled.rules[s.rule]!.id} $${s.name}`, s] as const))('%s', (name, s) => {
    const bound = WORK_FACTOR * (s.maxLength + 1);
    let max = 0;
    for (const input of adversarial(s)) {
      const limit = bound * input.bytes.length;
      const { steps } = countedSearch(s.pattern.root, input.bytes, limit);
      expect(steps, `${input.label}: ${steps} steps for ${input.bytes.length} bytes (bound ${limit})`).toBeLessThanOrEqual(limit);
      max = Math.max(max, steps / input.bytes.length);
    }
    worst.push({ name, stepsPerByte: Math.round(max), bound });
  });

  it('reports the worst cases', () => {
    worst.sort((a, b) => b.stepsPerByte / b.bound - a.stepsPerByte / a.bound);
    console.info(
      `adversarial work, steps per input byte (bound = ${WORK_FACTOR} x (longest match + 1)):\n` +
        worst
          .slice(0, 8)
          .map((w) => `  ${w.name}: ${w.stepsPerByte} (bound ${w.bound})`)
          .join('\n'),
    );
    expect(worst.length).toBe(compiled.strings.length);
  });
});

it('the bound is not vacuous: two gaps that can trade bytes blow it', () => {
  // Passes the static checks (the gaps are not adjacent) but backtracks quadratically in the gap width.
  const rules = compileRules([
    {
      id: 'patterns/two-gaps',
      severity: 'low',
      certainty: 0.1,
      message: 'test',
      strings: { g: String.raw`foo[^\n]{0,200}x[^\n]{0,200}y` },
      examples: { match: ['foo x y'], notMatch: ['foo'] },
    },
  ]);
  const s = rules.strings[0];
  const bound = WORK_FACTOR * (s!.maxLength + 1);
  const over = adversarial(s!, rules.rules).filter((i) => countedSearch(s!.pattern.root, i.bytes, bound * i.bytes.length).steps > bound * i.bytes.length);
  expect(over.length).toBeGreaterThan(0);
});
