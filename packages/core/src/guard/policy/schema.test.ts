/** The policy schema is published as JSON Schema in docs/; this keeps the file in step with the code. */
import { readFileSync, writeFileSync } from 'node:fs';
import { Value } from '@sinclair/typebox/value';
import { parse } from 'yaml';
import { expect, it } from 'vitest';
import { DEFAULT_POLICY_YAML } from '../default-policy.js';
import { PolicyDocument, policyJsonSchema } from './schema.js';

const file = new URL('../../../../../docs/guard-policy.schema.json', import.meta.url);

it('docs/guard-policy.schema.json is the current schema (regenerate with WARDEN_UPDATE_GENERATED=1)', () => {
  const want = `${JSON.stringify(policyJsonSchema(), null, 2)}\n`;
  if (process.env.WARDEN_UPDATE_GENERATED === '1') writeFileSync(file, want);
  expect(readFileSync(file, 'utf8')).toBe(want);
});

it('is plain JSON Schema: no TypeBox-only keywords, recursion by $ref', () => {
  const text = JSON.stringify(policyJsonSchema());
  expect(text).not.toMatch(/"\[Kind\]"|Symbol/);
  expect(text).toContain('"$ref":"When"');
  expect(policyJsonSchema()).toMatchObject({ $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', required: ['version'] });
});

it('accepts the default policy', () => {
  expect([...Value.Errors(PolicyDocument, parse(DEFAULT_POLICY_YAML))]).toEqual([]);
});
