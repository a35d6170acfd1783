/** A machine where the native YARA-X binary does not load. */
import { hasCode } from '@warden/protocol';
import { expect, it, vi } from 'vitest';
import { patternsDetector } from './detector.js';
import type * as yarax from './engines/yarax.js';

vi.mock('./engines/yarax.js', async (importOriginal) => ({
  ...(await importOriginal<typeof yarax>()),
  loadYaraX: () => ({ error: "Cannot find module '@litko/yara-x-linux-x64-gnu'" }),
}));

it('falls back to the JS engine when YARA-X is not there', () => {
  expect(patternsDetector({ env: {} }).engine).toBe('js');
});

it('refuses to start when YARA-X is asked for and is not there', () => {
  let caught: unknown;
  try {
    patternsDetector({ engine: 'yara-x' });
  } catch (err) {
    caught = err;
  }
  expect(hasCode(caught, 'E_RUNTIME_UNAVAILABLE')).toBe(true);
  expect((caught as Error).message).toContain("could not be loaded (Cannot find module '@litko/yara-x-linux-x64-gnu')");
  expect((caught as Error).message).toContain('WARDEN_SCAN_ENGINE=js');
});
