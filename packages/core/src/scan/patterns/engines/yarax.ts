/**
 * The YARA-X engine, through the native `@litko/yara-x` binding (a prebuilt
 * N-API module for linux-x64-gnu and macOS). Loaded lazily with require so a
 * machine without the binary still loads the detector and falls back to JS.
 */
import { createRequire } from 'node:module';
import { WardenError } from '@warden/protocol';
import type { CompiledRules } from '../compile.js';
import { MAX_MATCHES_PER_STRING, type PatternEngine, type RawMatch } from '../engine.js';
import { toYaraSource, yaraIdentifier } from '../yara.js';

/** The part of `@litko/yara-x` this engine uses (its own .d.ts names types it does not declare). */
interface YaraBinding {
  compile(source: string, options?: { errorOnSlowPattern?: boolean }): YaraRules;
  validate(source: string): { warnings: { code: string; message: string }[]; errors: { code: string; message: string }[] };
}
interface YaraRules {
  scan(data: Buffer): { ruleIdentifier: string; matches: { offset: number; length: number; identifier: string }[] }[];
  setMaxMatchesPerPattern(max: number): void;
  getWarnings(): { code: string; message: string }[];
}

/** The native binding, or the reason it could not be loaded. */
export function loadYaraX(): { binding: YaraBinding } | { error: string } {
  try {
    const binding = createRequire(import.meta.url)('@litko/yara-x') as YaraBinding;
    if (typeof binding.compile !== 'function') return { error: '@litko/yara-x loaded but has no compile()' };
    return { binding };
  } catch (err) {
    return { error: err instanceof Error ? err.message.split('\n')[0]! : String(err) };
  }
}

export function createYaraEngine(compiled: CompiledRules, binding: YaraBinding): PatternEngine {
  const source = toYaraSource(compiled, 'strings');
  let rules: YaraRules;
  try {
    rules = binding.compile(source, { errorOnSlowPattern: true });
  } catch (err) {
    throw new WardenError('E_INVALID_ARGUMENT', `YARA-X refused the pattern rules: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  rules.setMaxMatchesPerPattern(MAX_MATCHES_PER_STRING);
  const index = new Map<string, number>();
  compiled.strings.forEach((s, i) => index.set(`${yaraIdentifier(compiled.rules[s.rule]!.id)}$${s.name}`, i));

  function scan(window: Uint8Array): RawMatch[] {
    const data = Buffer.from(window.buffer, window.byteOffset, window.byteLength);
    const found: RawMatch[] = [];
    for (const rule of rules.scan(data)) {
      for (const m of rule.matches) {
        const string = index.get(`${rule.ruleIdentifier}${m.identifier}`);
        if (string !== undefined) found.push({ string, offset: m.offset, length: m.length });
      }
    }
    return found;
  }

  return { name: 'yara-x', scan };
}
