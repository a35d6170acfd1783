/**
 * The policy a user writes, and its validation at the edge: raw input →
 * checked, defaulted, frozen `NormalizedPolicy`. Inner code never sees raw
 * input. Every error is `E_INVALID_SPEC` naming the field, what is wrong,
 * what was received and what to do.
 */
import { WardenError } from '@warden/protocol';
import { LEVELS, type Level } from '../types.js';
import { parseGlob, type Glob } from './glob.js';
import { PRESET_NAMES, getPreset } from './presets.js';

/** Most rules a policy may have (preset rules included). */
export const MAX_RULES = 1000;

/** The level of paths no rule matches, unless a preset or `default` says otherwise. */
export const DEFAULT_LEVEL: Level = 'read';

export interface RuleInput {
  /** A glob (see glob.ts): `docs/`, `*.pem`, `/output/`, `src/**\/*.ts`. */
  readonly pattern: string;
  readonly level: Level;
}

/**
 * What a user writes. `undefined` (or `{}`) means: everything readable.
 * @example { preset: 'agent-safe', rules: [{ pattern: 'docs/', level: 'write' }] }
 */
export interface PolicyInput {
  /** A named preset (see presets.ts); its rules come before `rules`. */
  readonly preset?: string;
  /** Level of paths no rule matches. Default: the preset's default, else 'read'. */
  readonly default?: Level;
  /** Ordered rules; among equally specific matches the later one wins. Default: none. */
  readonly rules?: readonly RuleInput[];
}

export interface NormalizedRule {
  readonly glob: Glob;
  readonly level: Level;
  /** Where the rule came from, for explanations: the preset, or the user's `rules[index]`. */
  readonly source: 'preset' | 'user';
  readonly index: number;
}

export interface NormalizedPolicy {
  readonly preset: string | undefined;
  readonly default: Level;
  /** Preset rules first, then the user's, in order. */
  readonly rules: readonly NormalizedRule[];
}

const INPUT_KEYS = ['preset', 'default', 'rules'];
const RULE_KEYS = ['pattern', 'level'];

function invalid(field: string, message: string, received: unknown): WardenError {
  return new WardenError('E_INVALID_SPEC', message, { details: { field, received: jsonSafe(received) } });
}

function jsonSafe(value: unknown): unknown {
  if (value === undefined || value === null || ['string', 'number', 'boolean'].includes(typeof value)) return value ?? null;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return typeof value === 'object' ? 'an object' : typeof value;
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${value} (${typeof value})`;
  return typeof value === 'object' ? 'an object' : `a value of type ${typeof value}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkKeys(value: Record<string, unknown>, known: readonly string[], where: string): void {
  const unknown = Object.keys(value).find((k) => !known.includes(k));
  if (unknown !== undefined) {
    throw invalid(
      where === 'policy' ? unknown : `${where}.${unknown}`,
      `${where} has an unknown key ${JSON.stringify(unknown)}; the known keys are ${known.join(', ')}. Remove it or fix its spelling.`,
      unknown,
    );
  }
}

function checkLevel(value: unknown, field: string): Level {
  if (typeof value === 'string' && (LEVELS as readonly string[]).includes(value)) return value as Level;
  throw invalid(field, `${field} must be one of ${LEVELS.join(', ')}, got ${show(value)}.`, value);
}

/** Validates one rule; `field` is how errors name it, e.g. "rules[2]". */
export function parseRule(value: unknown, field: string): { glob: Glob; level: Level } {
  if (!isRecord(value)) {
    throw invalid(field, `${field} must be an object like { "pattern": "docs/", "level": "write" }, got ${show(value)}.`, value);
  }
  checkKeys(value, RULE_KEYS, field);
  const pattern = value['pattern'];
  if (typeof pattern !== 'string') {
    throw invalid(`${field}.pattern`, `${field}.pattern must be a string glob such as "docs/" or "*.pem", got ${show(pattern)}.`, pattern);
  }
  const parsed = parseGlob(pattern);
  if (!parsed.ok) {
    throw invalid(`${field}.pattern`, `${field}.pattern ${show(pattern)} ${parsed.error.problem}; ${parsed.error.fix}.`, pattern);
  }
  return { glob: parsed.glob, level: checkLevel(value['level'], `${field}.level`) };
}

/**
 * Validates and normalises a policy. `preset` (e.g. from a CLI flag) is the
 * same as `input.preset`; giving two different presets is an error.
 * @throws WardenError E_INVALID_SPEC
 */
export function normalizePolicy(input: unknown, preset?: string): NormalizedPolicy {
  if (input !== undefined && !isRecord(input)) {
    throw invalid('policy', `policy must be an object like { "default": "read", "rules": [...] }, got ${show(input)}.`, input);
  }
  const raw = input ?? {};
  checkKeys(raw, INPUT_KEYS, 'policy');

  const presetName = resolvePresetName(raw['preset'], preset);
  const base = presetName === undefined ? undefined : getPreset(presetName);
  if (presetName !== undefined && base === undefined) {
    throw invalid(
      'preset',
      `preset ${show(presetName)} is unknown; the known presets are ${PRESET_NAMES.join(', ')}. Pick one of them or list your own rules.`,
      presetName,
    );
  }

  const level = raw['default'] === undefined ? (base?.default ?? DEFAULT_LEVEL) : checkLevel(raw['default'], 'default');

  const userRules = raw['rules'] ?? [];
  if (!Array.isArray(userRules)) {
    throw invalid('rules', `rules must be an array of { "pattern", "level" } objects, got ${show(userRules)}.`, userRules);
  }
  const presetRules = base?.rules ?? [];
  if (presetRules.length + userRules.length > MAX_RULES) {
    const which = presetRules.length > 0 ? ` (${presetRules.length} from preset ${JSON.stringify(presetName)})` : '';
    throw invalid(
      'rules',
      `rules has ${userRules.length} entries${which}; the limit is ${MAX_RULES}. Merge rules with wildcards, e.g. "logs/**" instead of one rule per file.`,
      userRules.length,
    );
  }

  const rules: NormalizedRule[] = [];
  presetRules.forEach((r, index) => rules.push(Object.freeze({ ...parseRule(r, `preset ${presetName} rules[${index}]`), source: 'preset', index })));
  userRules.forEach((r: unknown, index) => rules.push(Object.freeze({ ...parseRule(r, `rules[${index}]`), source: 'user', index })));

  return Object.freeze({ preset: presetName, default: level, rules: Object.freeze(rules) });
}

function resolvePresetName(inInput: unknown, argument: string | undefined): string | undefined {
  if (inInput !== undefined && typeof inInput !== 'string') {
    throw invalid('preset', `preset must be a preset name such as "agent-safe", got ${show(inInput)}.`, inInput);
  }
  if (inInput !== undefined && argument !== undefined && inInput !== argument) {
    throw invalid(
      'preset',
      `preset is given twice with different values, ${show(inInput)} in the policy and ${show(argument)} separately. Give it once.`,
      inInput,
    );
  }
  return inInput ?? argument;
}
