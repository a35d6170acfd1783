/** Permission policies: globs, presets, validation and compilation. Pure, no I/O. */
export { compilePolicy, policyId, type CompiledPolicy, type Decision } from './compile.js';
export { compileGlob, parseGlob, MAX_PATTERN_LENGTH, type Glob, type GlobProblem, type ParseResult } from './glob.js';
export { PRESET_NAMES, getPreset, type Preset, type PresetName } from './presets.js';
export {
  normalizePolicy,
  parseRule,
  MAX_RULES,
  DEFAULT_LEVEL,
  type PolicyInput,
  type RuleInput,
  type NormalizedPolicy,
  type NormalizedRule,
} from './schema.js';
