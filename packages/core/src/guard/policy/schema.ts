/**
 * The guard policy format (YAML, `version: 1`) as a TypeBox schema, which is
 * also the JSON Schema published at docs/guard-policy.schema.json. Field
 * names are snake_case because operators write them by hand in YAML.
 */
import { Type, type Static, type TLiteral, type TUnion } from '@sinclair/typebox';
import { CATEGORIES, DECISIONS, GUARD_LANGUAGES, GUARD_MODES, type Category } from '../types.js';

const literals = <T extends string>(values: readonly T[], hint: string): TUnion<TLiteral<T>[]> =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    { hint },
  );

/** Glob lists: `*` and `?` within a path segment, `**` across segments, `[a-z]`, `{a,b}`. */
const Globs = (what: string, example: string) =>
  Type.Array(Type.String({ minLength: 1, maxLength: 256 }), {
    minItems: 1,
    maxItems: 64,
    expects: `a non-empty list of ${what} (globs of at most 256 characters)`,
    hint: `For example [${example}].`,
  });

/** A flag name as rules write it: no dashes in front. */
const FLAG = '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$';

export const Language = literals(GUARD_LANGUAGES, `Use one of ${GUARD_LANGUAGES.join(', ')}.`);
export const DecisionSchema = literals(DECISIONS, 'Use allow, ask or deny.');
export const ModeSchema = literals(GUARD_MODES, 'Use off, audit-only or enforce.');
const RuleRisk = literals(['low', 'medium', 'high', 'critical'] as const, 'Use low, medium, high or critical.');
const RuleCategory = literals(
  CATEGORIES.filter((c): c is Exclude<Category, 'analysis'> => c !== 'analysis'),
  `Use one of ${CATEGORIES.filter((c) => c !== 'analysis').join(', ')} (analysis is reserved for the guard's own findings).`,
);

const Command = Type.Object(
  {
    program: Type.Optional(Globs('program names (the basename: /bin/rm is rm)', 'rm, mkfs.*')),
    flags: Type.Optional(
      Type.Array(Type.String({ pattern: FLAG }), {
        minItems: 1,
        maxItems: 16,
        expects: 'a non-empty list of flag names without dashes (r, f, recursive)',
        hint: 'All must be present; one letter means a short flag (in any bundle: -rf, -fr, -r -f), more means --long or -long.',
      }),
    ),
    args: Type.Optional(Globs('operand patterns (any operand matching is enough)', "'/', '/*', '~'")),
    via: Type.Optional(Globs('wrapper patterns', "sudo, 'bash -c'")),
    dynamic: Type.Optional(Type.Boolean({ description: 'true: some word is not literal ($VAR, $(…)); false: every word is literal.' })),
  },
  { additionalProperties: false, minProperties: 1, description: 'Some invocation (shell command, wrapper-unwrapped command, or subprocess call) matches all of these.' },
);

const Call = Type.Object(
  {
    name: Globs('qualified callee names', "os.system, 'subprocess.*'"),
    args: Type.Optional(Globs('literal argument patterns (any literal argument matching is enough)', "'/', '-rf'")),
    dynamic: Type.Optional(Type.Boolean({ description: 'true: the first argument is not a literal string (a variable, a computed value); false: it is one.' })),
  },
  { additionalProperties: false, description: 'Some Python/JS call, its callee resolved through import aliases, matches.' },
);

const Redirect = Type.Object(
  {
    op: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 4 }), { minItems: 1, maxItems: 16, expects: "a non-empty list of operators such as '>', '>>'" })),
    target: Type.Optional(Globs('target path patterns', "'/etc/**', '~/.bashrc'")),
  },
  { additionalProperties: false, minProperties: 1 },
);

const Pipe = Type.Object(
  {
    from: Globs('program names of an earlier stage', 'curl, wget'),
    to: Globs('program names of a later stage', 'sh, bash'),
  },
  { additionalProperties: false },
);

const Query = Type.Object(
  {
    bash: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    python: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    javascript: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    typescript: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
  },
  { additionalProperties: false, minProperties: 1, description: 'Tree-sitter queries per language; any capture is a match.' },
);

/** Maximum length of a rule's regex source. */
export const MAX_REGEX_SOURCE = 512;

export const When = Type.Recursive(
  (This) =>
    Type.Object(
      {
        command: Type.Optional(Command),
        call: Type.Optional(Call),
        import: Type.Optional(Globs('module names (ctypes also matches ctypes.util)', 'ctypes, socket')),
        regex: Type.Optional(
          Type.String({
            minLength: 1,
            maxLength: MAX_REGEX_SOURCE,
            expects: `a bounded pattern of at most ${MAX_REGEX_SOURCE} characters`,
            hint: 'The pattern language is the scanner’s: no * or +, write {m,n}; no ^ or $; (?i) at the start for case-insensitive.',
          }),
        ),
        query: Type.Optional(Query),
        path: Type.Optional(Globs('path patterns', "'/etc/**', '~/.ssh/**'")),
        redirect: Type.Optional(Redirect),
        write: Type.Optional(Globs('path patterns something writes to (redirect, tee, cp/mv destination, sed -i, open(…, "w"), fs.writeFile …)', "'/etc/passwd', '~/.bashrc'")),
        pipe: Type.Optional(Pipe),
        via: Type.Optional(Globs('wrapper patterns', "sudo, 'os.system'")),
        languages: Type.Optional(
          Type.Array(Language, { minItems: 1, uniqueItems: true, description: 'Only facts found in these languages count for the other conditions of this block (narrows the rule’s languages).' }),
        ),
        any: Type.Optional(Type.Array(This, { minItems: 1, maxItems: 64, expects: 'a non-empty list of conditions, one of which must hold' })),
        all: Type.Optional(Type.Array(This, { minItems: 1, maxItems: 64, expects: 'a non-empty list of conditions, all of which must hold' })),
        not: Type.Optional(This),
      },
      {
        additionalProperties: false,
        minProperties: 1,
        expects: 'an object with at least one condition (command, call, import, regex, query, path, redirect, write, pipe, via, any, all, not)',
      },
    ),
  { $id: 'When' },
);

const ExampleCode = Type.String({ minLength: 1, maxLength: 65_536 });
export const Example = Type.Union(
  [
    ExampleCode,
    Type.Object(
      { bash: Type.Optional(ExampleCode), python: Type.Optional(ExampleCode), javascript: Type.Optional(ExampleCode), typescript: Type.Optional(ExampleCode) },
      { additionalProperties: false, minProperties: 1 },
    ),
  ],
  { expects: 'a string (code in the rule’s first language) or an object such as { python: "…" }' },
);

const Examples = Type.Array(Example, { minItems: 1, maxItems: 64, expects: 'a non-empty list of examples' });

export const Rule = Type.Object(
  {
    id: Type.String({
      pattern: '^[a-z][a-z0-9-]*(\\.[a-z0-9][a-z0-9-]*)+$',
      maxLength: 100,
      expects: 'a dotted lowercase id such as fs.rm-root',
      hint: 'Ids are unique within a policy; guard.* is reserved.',
    }),
    category: RuleCategory,
    risk: RuleRisk,
    decision: DecisionSchema,
    message: Type.String({ minLength: 1, maxLength: 500, expects: 'a sentence of 1 to 500 characters saying why' }),
    languages: Type.Optional(Type.Array(Language, { minItems: 1, uniqueItems: true, description: 'Facts found in these languages only. Default: all.' })),
    when: When,
    examples: Type.Object(
      { match: Examples, not_match: Examples },
      { additionalProperties: false, description: 'Run at load: every match example must match the rule, no not_match example may.' },
    ),
  },
  { additionalProperties: false },
);

export const PolicyDocument = Type.Object(
  {
    version: Type.Literal(1, { hint: 'Write version: 1.' }),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    definitions: Type.Optional(Type.Unknown({ description: 'Anything, ignored: a place to define YAML anchors (&name) that rules reuse (*name).' })),
    mode: Type.Optional(ModeSchema),
    default: Type.Optional(Type.Union([Type.Literal('allow'), Type.Literal('ask'), Type.Literal('deny')], { default: 'allow', hint: 'Use allow, ask or deny.' })),
    on_error: Type.Optional(
      Type.Union([Type.Literal('ask'), Type.Literal('deny')], {
        default: 'ask',
        hint: 'Code the guard cannot analyse is never allowed: use ask or deny.',
      }),
    ),
    flag_aliases: Type.Optional(
      Type.Record(
        Type.String({ pattern: '^[A-Za-z0-9._+-]{1,64}$' }),
        Type.Record(Type.String({ pattern: FLAG }), Type.String({ pattern: FLAG, expects: 'a flag name without dashes' }), {
          additionalProperties: false,
          expects: 'an object mapping flag names without dashes to the flag they also count as',
        }),
        {
          additionalProperties: false,
          expects: 'an object mapping a program to { flag: canonical flag }',
          hint: 'For example { tar: { extract: x } }.',
        },
      ),
    ),
    rules: Type.Optional(Type.Array(Rule, { maxItems: 1000, default: [] })),
  },
  { additionalProperties: false },
);

export type PolicyDocument = Static<typeof PolicyDocument>;
export type RuleDocument = Static<typeof Rule>;
export type WhenDocument = Static<typeof When>;
export type ExampleDocument = Static<typeof Example>;

/** The policy format as a standalone JSON Schema document (what docs/guard-policy.schema.json holds). */
export function policyJsonSchema(): Record<string, unknown> {
  // JSON.stringify drops TypeBox's symbol keys; Warden's `expects`/`hint` become a standard description.
  const plain = JSON.parse(JSON.stringify(PolicyDocument), (_key, value: unknown) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
    const { expects, hint, ...rest } = value as { expects?: unknown; hint?: unknown; description?: unknown };
    // `properties` maps field names to schemas: a field may be called description.
    if (typeof expects !== 'string' && typeof hint !== 'string') return value;
    const own = typeof rest.description === 'string' ? rest.description : typeof expects === 'string' ? `${expects[0]!.toUpperCase()}${expects.slice(1)}.` : undefined;
    const words = [own, typeof hint === 'string' ? hint : undefined].filter(Boolean);
    return { ...rest, description: words.join(' ') };
  }) as Record<string, unknown>;
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://warden.dev/schemas/guard-policy.schema.json',
    title: 'Warden guard policy',
    ...plain,
  };
}
