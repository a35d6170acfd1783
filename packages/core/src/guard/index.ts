/**
 * The command guard's public surface: analyse an action, evaluate layered
 * policies, decide allow / ask / deny. Named exports only (pinned by a test).
 */
export {
  GUARD_LANGUAGES,
  DECISIONS,
  RISKS,
  CATEGORIES,
  GUARD_MODES,
  type GuardLanguage,
  type Decision,
  type Risk,
  type Category,
  type GuardMode,
  type Span,
  type Invocation,
  type Call,
  type Import,
  type Redirect,
  type AnalysisProblem,
  type Normalisation,
  type Analysis,
  type GuardFinding,
  type GuardResult,
} from './types.js';
export { createGuard, type Guard, type GuardOptions, type CheckInput, type CheckOptions, type PolicyInput } from './guard.js';
export { loadPolicy, type LoadPolicyOptions, type PolicySource } from './policy/load.js';
export { isPolicy, type Policy } from './policy/policy.js';
export { evaluatePolicy, ANALYSIS_RULE_ID } from './policy/evaluate.js';
export type { PolicyAnalyzer } from './policy/examples.js';
export { PolicyDocument, policyJsonSchema } from './policy/schema.js';
export { DEFAULT_POLICY_YAML, loadDefaultPolicy } from './default-policy.js';
export { createAnalyzer, normalise, argvToShell, type Analyzer, type AnalyzerOptions } from './analysis/index.js';
