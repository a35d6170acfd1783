import type { PatternRule } from '../rule.js';
import { CREDENTIAL_RULES } from './credentials.js';
import { ENCODED_EXEC_RULES } from './encoded-exec.js';
import { MINER_RULES } from './miners.js';
import { PROMPT_INJECTION_RULES } from './prompt-injection.js';
import { REVERSE_SHELL_RULES } from './reverse-shells.js';
import { TEST_SIGNATURE_RULES } from './test-signatures.js';
import { WEBSHELL_RULES } from './webshells.js';

/** Warden's curated pattern rules, used by patternsDetector() unless `rules` is given. */
export const DEFAULT_PATTERN_RULES: readonly PatternRule[] = Object.freeze([
  ...REVERSE_SHELL_RULES,
  ...MINER_RULES,
  ...WEBSHELL_RULES,
  ...ENCODED_EXEC_RULES,
  ...CREDENTIAL_RULES,
  ...PROMPT_INJECTION_RULES,
  ...TEST_SIGNATURE_RULES,
]);
