export { WardenError, isWardenError, hasCode, type ErrorDetails } from './errors.js';
export { ERROR_CATALOGUE, ERROR_CODES, type ErrorCode, type CatalogueEntry } from './catalogue.js';
export {
  SandboxSpec,
  Limits,
  RuntimeName,
  ExitReason,
  ExecResult,
  EnvMap,
  Level,
  PolicyRule,
  PolicyInput,
  type SandboxSpecInput,
} from './spec.js';
export { parseSandboxSpec, parseWith } from './validate.js';
