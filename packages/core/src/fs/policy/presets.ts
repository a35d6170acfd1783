/**
 * Named policies. A preset's rules come before the user's, so a user rule
 * that is as specific as a preset rule wins (it is later).
 */
import type { Level } from '../types.js';

export interface Preset {
  readonly description: string;
  readonly default: Level;
  readonly rules: readonly { readonly pattern: string; readonly level: Level }[];
}

const rule = (pattern: string, level: Level): { readonly pattern: string; readonly level: Level } => Object.freeze({ pattern, level });

const PRESETS = {
  /**
   * Read everything, write only the agent's own `/output/` and `/tmp/`, and
   * hide credentials. Name patterns match at every depth (`secrets/` hides
   * `secrets/` and `x/secrets/`); `.git/config` is hidden in nested
   * repositories too, because vendored checkouts carry remotes with tokens.
   */
  'agent-safe': {
    description: 'read everything, write /output/ and /tmp/, hide .env*, keys, certificates, .ssh/, secrets/ and .git/config',
    default: 'read',
    rules: [
      rule('/output/', 'write'),
      rule('/tmp/', 'write'),
      rule('.env*', 'none'),
      rule('*.key', 'none'),
      rule('*.pem', 'none'),
      rule('id_*', 'none'),
      rule('**/.git/config', 'none'),
      rule('secrets/', 'none'),
      rule('.ssh/', 'none'),
    ],
  },
  'read-only': { description: 'read everything, change nothing', default: 'read', rules: [] },
  'full-write': { description: 'read and change everything', default: 'write', rules: [] },
} as const satisfies Record<string, Preset>;

for (const preset of Object.values(PRESETS)) Object.freeze(Object.freeze(preset).rules);
Object.freeze(PRESETS);

export type PresetName = keyof typeof PRESETS;

/** Known preset names, in documentation order. */
export const PRESET_NAMES: readonly PresetName[] = Object.freeze(Object.keys(PRESETS) as PresetName[]);

/** The preset called `name`, or undefined. */
export function getPreset(name: string): Preset | undefined {
  return Object.hasOwn(PRESETS, name) ? PRESETS[name as PresetName] : undefined;
}
