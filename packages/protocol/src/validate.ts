/**
 * Validation at the edge: raw input → schema check → defaulted, frozen value.
 * Messages name the field, what it expects, what it got and how to fix it.
 */
import { Kind, type Static, type TSchema } from '@sinclair/typebox';
import { Value, ValueErrorType, type ValueError } from '@sinclair/typebox/value';
import { WardenError } from './errors.js';
import { SandboxSpec, type SandboxSpecInput } from './spec.js';

type Annotated = TSchema & { hint?: string; description?: string; expects?: string };

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `${JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value)} (string)`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return `${value} (${typeof value})`;
  return `a value of type ${typeof value}`;
}

function range(s: Annotated & { minimum?: number; maximum?: number }): string {
  if (s.minimum !== undefined && s.maximum !== undefined) return ` from ${s.minimum} to ${s.maximum}`;
  if (s.minimum !== undefined) return ` of at least ${s.minimum}`;
  if (s.maximum !== undefined) return ` of at most ${s.maximum}`;
  return '';
}

function describeSchema(s: Annotated): string {
  const any = s;
  if (s.expects) return s.expects;
  switch (s[Kind]) {
    case 'Integer':
      return `an integer${range(any)}`;
    case 'Number':
      return `a number${range(any)}`;
    case 'String':
      if (typeof any.pattern === 'string') return `a string matching /${any.pattern}/`;
      if (typeof any.maxLength === 'number') return `a string of at most ${any.maxLength} characters`;
      return 'a string';
    case 'Boolean':
      return 'true or false';
    case 'Literal':
      return JSON.stringify(any.const);
    case 'Union':
      return `one of ${(any.anyOf as Annotated[]).map(describeSchema).join(', ')}`;
    case 'Record':
      return 'an object of string values';
    case 'Object':
      return 'an object';
    case 'Array':
      return `an array${typeof any.minItems === 'number' && any.minItems > 0 ? ' (not empty)' : ''}`;
    default:
      return 'a valid value';
  }
}

function fieldName(path: string, what: string): string {
  return path.replace(/^\//, '').replaceAll('/', '.') || `the ${what}`;
}

function formatError(e: ValueError, what: string): string {
  const field = fieldName(e.path, what);
  const schema = e.schema as Annotated;
  if (e.type === ValueErrorType.ObjectAdditionalProperties) {
    const parent = e.path.slice(0, e.path.lastIndexOf('/'));
    const known = Object.keys((schema as Annotated & { properties?: object }).properties ?? {});
    const key = e.path.slice(e.path.lastIndexOf('/') + 1);
    if (known.length > 0) {
      return `${fieldName(parent, what)} has an unknown option ${JSON.stringify(key)}; known options are ${known.join(', ')}.`;
    }
    const hint = schema.hint ? ` ${schema.hint}` : '';
    return `${fieldName(parent, what)} has an invalid key ${JSON.stringify(key)}: expected ${describeSchema(schema)}.${hint}`;
  }
  const hint = schema.hint ? ` ${schema.hint}` : '';
  return `${field} must be ${describeSchema(schema)}, got ${describeValue(e.value)}.${hint}`;
}

/**
 * Checks `input` against `schema`; throws E_INVALID_SPEC listing every
 * problem (one per field), with `code` (E_INVALID_SPEC unless told).
 */
export function parseWith<T extends TSchema>(schema: T, input: unknown, what: string, code: 'E_INVALID_SPEC' | 'E_INVALID_REQUEST' = 'E_INVALID_SPEC'): Readonly<Static<T>> {
  let copy: unknown;
  try {
    copy = structuredClone(input ?? {});
  } catch (err) {
    throw new WardenError(code, `Invalid ${what}: it contains a function, symbol or other value that cannot be copied. Pass plain data only: objects, arrays, strings, numbers and booleans.`, { cause: err });
  }
  const seen = new Set<string>();
  const problems: string[] = [];
  const report = (e: ValueError): void => {
    // Unions report every branch, a bad object every child: the first error per field is enough.
    if ([...seen].some((p) => p === e.path || (p !== '' && e.path.startsWith(`${p}/`)))) return;
    seen.add(e.path);
    problems.push(formatError(e, what === 'sandbox spec' ? 'spec' : what));
  };
  // Value.Default merges any object, arrays included, into an object default:
  // `limits: []` would silently become the defaults (and an object given for an
  // array with a default, the empty array). Catch those before it runs.
  for (const e of Value.Errors(schema, copy)) if ((e.type === ValueErrorType.Object || e.type === ValueErrorType.Array) && e.value !== undefined) report(e);
  const withDefaults = Value.Default(schema, copy);
  for (const e of Value.Errors(schema, withDefaults)) report(e);
  if (problems.length > 0) {
    const first = problems[0] ?? '';
    const message = problems.length === 1 ? `Invalid ${what}: ${first}` : `Invalid ${what} (${problems.length} problems): ${problems.join(' ')}`;
    throw new WardenError(code, message, { details: { problems } });
  }
  return deepFreeze(withDefaults) as Readonly<Static<T>>;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** Validates a sandbox spec and fills every default. */
export function parseSandboxSpec(input: SandboxSpecInput | undefined): Readonly<SandboxSpec> {
  if (input !== undefined && (typeof input !== 'object' || input === null || Array.isArray(input))) {
    throw new WardenError('E_INVALID_SPEC', `Invalid sandbox spec: expected an object, got ${describeValue(input)}. Pass {} for all defaults.`);
  }
  const spec = parseWith(SandboxSpec, input ?? {}, 'sandbox spec');
  const sources = [spec.workspace && 'workspace', spec.codebase && 'codebase', spec.snapshot && 'snapshot'].filter(Boolean);
  if (sources.length > 1) {
    throw new WardenError('E_INVALID_SPEC', `Invalid sandbox spec: ${sources.join(' and ')} cannot be combined; a sandbox's /workspace comes from one of workspace (a host directory), codebase or snapshot.`);
  }
  if ((spec.policy !== undefined || spec.preset !== undefined) && !spec.codebase && !spec.snapshot) {
    throw new WardenError('E_INVALID_SPEC', 'Invalid sandbox spec: policy and preset apply to a codebase; set codebase (or snapshot) too, or drop them.');
  }
  if (spec.snapshot && (spec.policy !== undefined || spec.preset !== undefined)) {
    throw new WardenError('E_INVALID_SPEC', 'Invalid sandbox spec: a snapshot keeps the policy it was taken with; drop policy and preset.');
  }
  return spec;
}
