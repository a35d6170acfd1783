/**
 * The size detector: empty files, huge files, and files whose declared size
 * (from stat, or an archive's own header) is not what was delivered.
 * Padding an executable past a scanner's size cap is a known evasion
 * (MITRE ATT&CK T1027.001), so a huge executable weighs more than a huge video.
 */
import { WardenError } from '@warden/protocol';
import { kindOf } from './sniff.js';
import type { Detector, Finding } from './types.js';

const NAME = 'size';

export interface SizeOptions {
  /** Files above this many bytes are reported as huge. Default 512 MiB. */
  readonly hugeBytes?: number;
}

const DEFAULT_HUGE_BYTES = 512 * 1024 * 1024;

const mib = (n: number): string => `${(n / 1048576).toFixed(n < 10 * 1048576 ? 1 : 0)} MiB`;

/**
 * @example
 * const scanner = createScanner({ detectors: [sizeDetector({ hugeBytes: 100 * 1024 * 1024 })] });
 */
export function sizeDetector(options: SizeOptions = {}): Detector {
  const hugeBytes = options.hugeBytes ?? DEFAULT_HUGE_BYTES;
  if (!Number.isSafeInteger(hugeBytes) || hugeBytes < 1) {
    throw new WardenError('E_INVALID_ARGUMENT', `size hugeBytes must be a positive integer number of bytes, got ${JSON.stringify(hugeBytes) ?? typeof hugeBytes}.`);
  }
  return {
    name: NAME,
    start(ctx) {
      return {
        update() {},
        finish({ contentType, bytes, truncated }) {
          const findings: Finding[] = [];
          const declared = ctx.size;
          if (bytes === 0 && truncated !== true) {
            findings.push({ detector: NAME, ruleId: 'size/empty', severity: 'info', certainty: 1, message: 'The file is empty.', evidence: [] });
          }
          const size = Math.max(bytes, declared ?? 0);
          if (size > hugeBytes) {
            const exe = kindOf(contentType) === 'executable';
            findings.push({
              detector: NAME,
              ruleId: 'size/huge',
              severity: exe ? 'medium' : 'low',
              certainty: exe ? 0.6 : 0.3,
              message: exe
                ? `Executable of ${mib(size)} (over ${mib(hugeBytes)}): padding is a known way to slip past scanners with size caps.`
                : `File of ${mib(size)} is over the ${mib(hugeBytes)} size threshold.`,
              evidence: [],
            });
          }
          if (declared !== undefined && truncated !== true && declared !== bytes) {
            findings.push({
              detector: NAME,
              ruleId: 'size/declared-mismatch',
              severity: 'low',
              certainty: 0.7,
              message: `Declared size ${declared} bytes but ${bytes} were delivered: the file changed while it was read, or an archive header misstates it.`,
              evidence: [{ offset: Math.min(bytes, declared), length: Math.abs(declared - bytes) }],
            });
          }
          return { ran: true, findings };
        },
      };
    },
  };
}
