/**
 * The guard's vocabulary, shared by analysis (what an action would do),
 * policy (what the operator allows) and decisions (what happens now).
 * Offsets are JavaScript string indices into the *normalised* text.
 */

export const GUARD_LANGUAGES = ['bash', 'python', 'javascript', 'typescript'] as const;
export type GuardLanguage = (typeof GUARD_LANGUAGES)[number];

export const DECISIONS = ['allow', 'ask', 'deny'] as const;
/** Precedence deny > ask > allow. */
export type Decision = (typeof DECISIONS)[number];

export const RISKS = ['none', 'low', 'medium', 'high', 'critical'] as const;
export type Risk = (typeof RISKS)[number];

export const CATEGORIES = [
  'fs-destructive',
  'code-eval',
  'obfuscation',
  'process-spawn',
  'network-egress',
  'credential-access',
  'privilege',
  'persistence',
  'resource-abuse',
  'supply-chain',
  'analysis',
] as const;
export type Category = (typeof CATEGORIES)[number];

/** enforce: deny/ask take effect. audit-only: decisions are recorded, everything runs. off: no analysis. */
export const GUARD_MODES = ['off', 'audit-only', 'enforce'] as const;
export type GuardMode = (typeof GUARD_MODES)[number];

export interface Span {
  readonly start: number;
  readonly end: number;
}

/** A program that would run: from a shell line, a wrapper, or a subprocess/exec call in code. */
export interface Invocation {
  /** Words after quote removal and expansion of what is literal; argv[0] as written. */
  readonly argv: readonly string[];
  /** Basename of argv[0]: `/bin/rm` → `rm`. */
  readonly program: string;
  readonly span: Span;
  /** Wrappers peeled to reach it, outermost first: `sudo`, `bash -c`, `os.system`, `find -exec`. */
  readonly via: readonly string[];
  /** true when a word is not literal (a variable, a command substitution, a computed string). */
  readonly dynamic: boolean;
  /** Which language the invocation was found in (shell inside python's os.system is `bash`). */
  readonly language: GuardLanguage;
  /** Pipeline membership: invocations with the same `pipeline` id are joined by `|`, in `stage` order. */
  readonly pipeline?: { readonly id: number; readonly stage: number };
}

/** A function call in Python or JS/TS, with the callee resolved through import aliases. */
export interface Call {
  /** Qualified name: `os.system`, `subprocess.run`, `eval`, `child_process.exec`, `fs.rmSync`. */
  readonly name: string;
  /** Literal string arguments (positional; `null` where not a literal string). Lists of literals are joined with NUL. */
  readonly args: readonly (string | null)[];
  /**
   * Keyword arguments: Python's `name=value` (`open(p, mode='w')`), or the
   * properties of a JS/TS object literal passed last (`{ recursive: true }`).
   * A value is its literal string, a boolean as spelled (`True`, `false`),
   * and null for anything else. Absent when the call has none.
   */
  readonly kwargs?: Readonly<Record<string, string | null>>;
  readonly span: Span;
  readonly language: GuardLanguage;
}

export interface Import {
  readonly module: string;
  readonly span: Span;
  readonly language: GuardLanguage;
}

/** Shell redirections with a literal target (`> /etc/passwd`, `>> ~/.bashrc`). */
export interface Redirect {
  readonly op: string;
  readonly target: string;
  readonly span: Span;
}

/** Something the analysis could not understand; the guard turns it into `ask`, never `allow`. */
export interface AnalysisProblem {
  readonly kind: 'parse-error' | 'too-large' | 'too-deep' | 'analyzer-error';
  readonly message: string;
  readonly span?: Span;
}

/** What normalisation changed: invisible/bidi characters removed, NFKC changes. */
export interface Normalisation {
  readonly removedInvisible: number;
  readonly removedBidi: number;
  readonly nfkcChanged: boolean;
  readonly truncated: boolean;
}

export interface Analysis {
  readonly language: GuardLanguage;
  /** The normalised text that was analysed (and whose sha256 binds approvals). */
  readonly text: string;
  readonly normalisation: Normalisation;
  readonly invocations: readonly Invocation[];
  readonly calls: readonly Call[];
  readonly imports: readonly Import[];
  readonly redirects: readonly Redirect[];
  /** Literal strings in the code (Python/JS string literals, shell words), for path and regex rules. */
  readonly strings: readonly { readonly value: string; readonly span: Span }[];
  readonly problems: readonly AnalysisProblem[];
  /** true when this came from the analyzer's cache of identical recent actions (same facts, no parsing). */
  readonly cached?: boolean;
  /**
   * Runs a tree-sitter query over the parse tree of `language` code found in
   * this action (the top level and any nested code such as `python3 -c '…'`)
   * and returns the spans of its captures. Throws E_POLICY_INVALID for a bad query.
   */
  query(language: GuardLanguage, source: string): Span[];
}

export interface GuardFinding {
  readonly ruleId: string;
  readonly category: Category;
  readonly risk: Risk;
  readonly decision: Decision;
  /** Why, in words a reviewer can act on. */
  readonly message: string;
  readonly evidence: readonly Span[];
  /** The policy layer the rule came from: `server`, `tenant`, `sandbox` or a custom name. */
  readonly layer: string;
}

export interface GuardResult {
  readonly decision: Decision;
  /** The highest risk among the findings (`none` without findings). */
  readonly risk: Risk;
  readonly findings: readonly GuardFinding[];
  readonly language: GuardLanguage;
  /** The effective mode; in `audit-only` the decision is recorded but not enforced. */
  readonly mode: GuardMode;
  /** sha256 hex of `language + "\n" + normalised text`: what an approval binds to. */
  readonly digest: string;
  /** The normalised text (for previews and approval screens). */
  readonly text: string;
  readonly durationMs: number;
}
