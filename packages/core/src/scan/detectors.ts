/** The default detector set, cheap to expensive. */
import type { ArchiveOptions } from './archive.js';
import { entropyDetector, type EntropyOptions } from './entropy.js';
import { magicDetector } from './magic.js';
import type { PatternsOptions } from './patterns/index.js';
import { sizeDetector, type SizeOptions } from './size.js';
import type { Detector } from './types.js';

export interface DefaultDetectorOptions {
  readonly size?: SizeOptions;
  readonly entropy?: EntropyOptions;
  readonly patterns?: PatternsOptions;
  readonly archive?: ArchiveOptions;
}

/**
 * The detectors a scanner runs when none are given: size, magic, entropy,
 * patterns, secrets and archive. The last three are imported on first use (the
 * pattern engine loads a native YARA-X binding, the archive detector zlib).
 * A detector that cannot be built rejects here rather than leaving scans
 * silently weaker.
 *
 * @example
 * const scanner = createScanner({ detectors: [...(await defaultDetectors()), myDetector] });
 */
export async function defaultDetectors(options: DefaultDetectorOptions = {}): Promise<Detector[]> {
  const [{ patternsDetector }, { secretsDetector }, { archiveDetector }] = await Promise.all([import('./patterns/index.js'), import('./secrets.js'), import('./archive.js')]);
  return [sizeDetector(options.size), magicDetector(), entropyDetector(options.entropy), patternsDetector(options.patterns), secretsDetector(), archiveDetector(options.archive)];
}
