/** Pattern rules for the threat scanner: YARA-X with a pure-JS fallback, one curated rule set. */
export { patternsDetector, type PatternsOptions, type PatternsDetector } from './detector.js';
export type { PatternRule } from './rule.js';
export type { EngineName } from './engine.js';
export { DEFAULT_PATTERN_RULES } from './rules/index.js';
export { MAX_MATCH_BYTES } from './compile.js';
export { OVERLAP_BYTES } from './run.js';
export { patternRulesToYara } from './yara-export.js';
