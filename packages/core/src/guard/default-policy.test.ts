/** The shipped default policy: embedded verbatim, loads (every example passes on the real analyzer), well covered. */
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAnalyzer, type Analyzer } from './analysis/index.js';
import { DEFAULT_POLICY_YAML, loadDefaultPolicy } from './default-policy.js';
import { CATEGORIES } from './types.js';

const yamlUrl = new URL('./default-policy.yaml', import.meta.url);
const tsUrl = new URL('./default-policy.ts', import.meta.url);

/** default-policy.ts is generated so the YAML ships inside the compiled JS (tsc copies no .yaml). */
function renderDefaultPolicyModule(yaml: string): string {
  return `/**
 * GENERATED from default-policy.yaml by default-policy.test.ts; do not edit.
 * Edit the YAML, then run:
 *   WARDEN_UPDATE_GENERATED=1 npx vitest run packages/core/src/guard/default-policy.test.ts
 */
import type { PolicyAnalyzer } from './policy/examples.js';
import { loadPolicy } from './policy/load.js';
import type { Policy } from './policy/policy.js';

/** The default policy's YAML text: a starting point for an operator's own server policy. */
export const DEFAULT_POLICY_YAML: string = ${JSON.stringify(yaml)};

/** Loads the default policy as layer \`server\` (its examples run on \`analyzer\`). */
export function loadDefaultPolicy(analyzer: PolicyAnalyzer): Policy {
  return loadPolicy(DEFAULT_POLICY_YAML, { layer: 'server', analyzer });
}
`;
}

it('default-policy.ts embeds default-policy.yaml verbatim (regenerate with WARDEN_UPDATE_GENERATED=1)', () => {
  const yaml = readFileSync(yamlUrl, 'utf8');
  const want = renderDefaultPolicyModule(yaml);
  if (process.env.WARDEN_UPDATE_GENERATED === '1') writeFileSync(tsUrl, want);
  expect(readFileSync(tsUrl, 'utf8')).toBe(want);
  expect(DEFAULT_POLICY_YAML).toBe(yaml);
});

describe('the default policy', () => {
  let analyzer: Analyzer;
  beforeAll(async () => {
    analyzer = await createAnalyzer();
  });
  afterAll(() => analyzer.close());

  it('loads: every rule compiles and every inline example behaves', () => {
    const p = loadDefaultPolicy(analyzer);
    expect([p.layer, p.mode, p.default, p.onError]).toEqual(['server', 'enforce', 'allow', 'ask']);
    expect(p.rules.length).toBeGreaterThanOrEqual(20);
  });

  it('gives every rule at least two match and two not_match examples', () => {
    const thin = loadDefaultPolicy(analyzer).rules.filter((r) => r.examples.match.length < 2 || r.examples.notMatch.length < 2).map((r) => r.id);
    expect(thin).toEqual([]);
  });

  it('uses dotted ids prefixed by their category family and covers every category but analysis and process-spawn', () => {
    const rules = loadDefaultPolicy(analyzer).rules;
    const used = new Set(rules.map((r) => r.category));
    expect(CATEGORIES.filter((c) => !used.has(c))).toEqual(['process-spawn', 'analysis']);
    for (const r of rules) expect(r.category.startsWith(r.id.split('.')[0]!)).toBe(true);
  });
});
