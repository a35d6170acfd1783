import type { PatternRule } from '../rule.js';

// Written escaped here so this source file is not itself the 68-byte EICAR string.
const EICAR = String.raw`X5O!P%@AP\[4\\PZX54\(P\^\)7CC\)7\}\$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!\$H\+H\*`;
/** The entry code of clam.exe, the harmless test program that ClamAV's own test files (the clamav-testfiles package) carry. */
const CLAM_EXE_ENTRY = String.raw`\xbb\x71\x10\x40\x00\x33\xc0\x50\x50\x8b\xf3\x53\x53\x50\xb0\x29\x40\x30\x04\x66\xac\x79\xf9\xba\x31\x00\x78\x0d\xad\x50\xff\x66`;

/** The EICAR string, assembled at run time so no source or build file contains it whole. */
export const EICAR_TEST_STRING = ['X5O!P%@AP[4\\PZX54(P^)7CC)7}$', 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'].join('');

export const TEST_SIGNATURE_RULES: readonly PatternRule[] = [
  {
    id: 'patterns/eicar',
    severity: 'critical',
    certainty: 1,
    message: 'The EICAR anti-virus test string: harmless, but every scanner must flag it, so it proves detection works end to end.',
    strings: { eicar: EICAR },
    examples: {
      match: [EICAR_TEST_STRING, `${EICAR_TEST_STRING}\r\n`, `prefix ${EICAR_TEST_STRING} suffix`],
      notMatch: [EICAR_TEST_STRING.toLowerCase(), EICAR_TEST_STRING.slice(0, 60)],
    },
  },
  {
    id: 'patterns/clamav-test-file',
    severity: 'critical',
    certainty: 1,
    message: "ClamAV's test program (clam.exe from clamav-testfiles): harmless, but scanners flag it to prove detection works.",
    strings: { clam_exe: CLAM_EXE_ENTRY },
    examples: {
      match: ['MZ\x00\x00\xbb\x71\x10\x40\x00\x33\xc0\x50\x50\x8b\xf3\x53\x53\x50\xb0\x29\x40\x30\x04\x66\xac\x79\xf9\xba\x31\x00\x78\x0d\xad\x50\xff\x66\x70'],
      notMatch: ['\xbb\x71\x10\x40\x00\x33\xc0\x50\x50\x8b\xf3\x53\x53\x50'],
    },
  },
];
