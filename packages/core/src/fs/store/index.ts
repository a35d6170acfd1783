/** The codebase store: named, versioned, content-addressed codebases. */
export {
  openCodebaseStore,
  CodebaseStore,
  type CodebaseStoreOptions,
  type CodebaseSource,
  type AddOptions,
  type AddResult,
  type CodebaseSummary,
  type DeleteOptions,
  type GcResult,
} from './store.js';
export type { SkippedEntry, SkippedKind } from './walk.js';
export { CODEBASE_NAME_PATTERN } from './names.js';
export { comparePaths, MODE_MASK } from './entries.js';
