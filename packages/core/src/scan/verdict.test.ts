import { describe, expect, it } from 'vitest';
import { randomBytes } from './samples.js';
import type { DetectorReport, Finding, Level, Severity } from './types.js';
import { assess, findingProbability, LEVEL_FLOOR, levelOf, SCANNER_DETECTOR } from './verdict.js';

let n = 0;
function f(severity: Severity, certainty: number, over: Partial<Finding> = {}): Finding {
  n++;
  return { detector: 'patterns', ruleId: `patterns/rule-${n}`, severity, certainty, message: `Finding ${n}.`, evidence: [{ offset: n * 10, length: 4 }], ...over };
}
const ok = (name: string): DetectorReport => ({ name, ran: true, durationMs: 1 });
const failed = (name: string): DetectorReport => ({ name, ran: false, durationMs: 1, error: 'finish failed: boom' });
const three = [ok('size'), ok('magic'), ok('patterns')];
const RANK: Record<Level, number> = { clean: 0, suspicious: 1, malicious: 2, critical: 3 };

describe('levels from scores', () => {
  it.each([
    [0, 'clean'],
    [0.2999, 'clean'],
    [0.3, 'suspicious'],
    [0.5999, 'suspicious'],
    [0.6, 'malicious'],
    [0.9499, 'malicious'],
    [0.95, 'critical'],
    [1, 'critical'],
  ] as const)('%d → %s', (score, level) => {
    expect(levelOf(score)).toBe(level);
    expect(LEVEL_FLOOR[level]).toBeLessThanOrEqual(score);
  });
});

describe('assess', () => {
  it.each<[string, Finding[], Level, number]>([
    ['nothing found', [], 'clean', 0],
    ['only info findings', [f('info', 1), f('info', 1)], 'clean', 0],
    ['one certain low', [f('low', 1)], 'clean', 0.15],
    ['one certain medium', [f('medium', 1)], 'suspicious', 0.4],
    ['one certain high', [f('high', 1)], 'malicious', 0.75],
    ['one high at certainty 0.9 (override)', [f('high', 0.9)], 'malicious', 0.675],
    ['one unsure high (no override)', [f('high', 0.5)], 'suspicious', 0.375],
    ['one certain critical', [f('critical', 1)], 'critical', 0.95],
    ['a critical at certainty 0.9: override lifts the score', [f('critical', 0.9)], 'critical', 0.95],
    ['an unsure critical', [f('critical', 0.5)], 'suspicious', 0.475],
    ['two certain highs', [f('high', 1), f('high', 1)], 'malicious', 0.9375],
    ['three certain highs', [f('high', 1), f('high', 1), f('high', 1)], 'critical', 0.9844],
    ['two certain mediums', [f('medium', 1), f('medium', 1)], 'malicious', 0.64],
    ['medium + low', [f('medium', 1), f('low', 1)], 'suspicious', 0.49],
    ['four distinct certain lows', [f('low', 1), f('low', 1), f('low', 1), f('low', 1)], 'suspicious', 0.478],
    ['fifty hits of one rule count once', Array.from({ length: 50 }, (_, i) => f('medium', 1, { ruleId: 'patterns/same', evidence: [{ offset: i, length: 1 }] })), 'suspicious', 0.4],
    ['one rule counts at its strongest hit', [f('high', 0.2, { ruleId: 'patterns/same' }), f('high', 1, { ruleId: 'patterns/same' })], 'malicious', 0.75],
    ['unknown severity counts as medium', [f('bogus' as Severity, 1)], 'suspicious', 0.4],
    ['NaN certainty counts as certain', [f('medium', Number.NaN)], 'suspicious', 0.4],
    ['certainty above 1 is clamped', [f('medium', 7)], 'suspicious', 0.4],
    ['negative certainty is clamped to 0', [f('critical', -1)], 'clean', 0],
  ])('%s', (_label, findings, level, score) => {
    const a = assess({ findings, detectors: three });
    expect(a.level).toBe(level);
    expect(a.score).toBeCloseTo(score, 4);
  });

  it('does not let clean detectors dilute one certain finding', () => {
    const many = Array.from({ length: 20 }, (_, i) => ok(`d${i}`));
    const a = assess({ findings: [f('high', 1)], detectors: many });
    expect(a).toMatchObject({ level: 'malicious', score: 0.75 });
  });

  it('fails closed: a failed detector makes a clean file suspicious, with low confidence and the reason', () => {
    const a = assess({ findings: [], detectors: [ok('size'), ok('magic'), failed('patterns')] });
    expect(a.level).toBe('suspicious');
    expect(a.score).toBe(0);
    expect(a.confidence).toBeLessThan(0.3);
    expect(a.explanation).toBe('Suspicious (score 0.00): no detector found evidence of harm. Not everything could be checked (detector patterns failed), so the file cannot be called clean.');
  });

  it('fails closed: no detector at all is not clean', () => {
    expect(assess({ findings: [], detectors: [] })).toMatchObject({ level: 'suspicious', confidence: 0 });
    expect(assess({ findings: [], detectors: [{ name: 'entropy', ran: false, durationMs: 0 }] }).level).toBe('suspicious');
  });

  it('treats the scanner’s own findings as a floor, not as evidence', () => {
    const limit = f('medium', 1, { detector: SCANNER_DETECTOR, ruleId: 'scan/limit-time', evidence: [] });
    const alone = assess({ findings: [limit], detectors: three });
    expect(alone).toMatchObject({ level: 'suspicious', score: 0 });
    expect(alone.explanation).toBe('Suspicious (score 0.00): no detector found evidence of harm. Not everything could be checked (scan/limit-time), so the file cannot be called clean.');
    const withEvidence = assess({ findings: [limit, f('medium', 0.9, { ruleId: 'magic/extension-mismatch' })], detectors: three });
    expect(withEvidence).toMatchObject({ level: 'suspicious', score: 0.36 });
    const member = assess({ findings: [f('medium', 1, { detector: SCANNER_DETECTOR, ruleId: 'archive/limit-depth', evidence: [], member: 'a.zip!b.zip' })], detectors: three });
    expect(member.explanation).toMatch(/\(archive\/limit-depth in a\.zip!b\.zip\)/);
  });

  it('fails closed on a detector finding marked incomplete, whatever its severity', () => {
    const encrypted = f('info', 1, { detector: 'archive', ruleId: 'archive/encrypted-member', member: 'secret.zip', incomplete: true });
    const a = assess({ findings: [encrypted], detectors: three });
    expect(a).toMatchObject({ level: 'suspicious', score: 0 });
    expect(a.explanation).toMatch(/Not everything could be checked \(archive\/encrypted-member at offset \d+ in secret\.zip\)/);
    expect(assess({ findings: [{ ...encrypted, incomplete: false }], detectors: three }).level).toBe('clean');
  });

  it('keeps a higher level when a detector also failed', () => {
    expect(assess({ findings: [f('critical', 1)], detectors: [failed('x'), ok('y')] }).level).toBe('critical');
  });

  describe('confidence', () => {
    it('grows with clean detectors on a clean file', () => {
      const c = (k: number): number => assess({ findings: [], detectors: Array.from({ length: k }, (_, i) => ok(`d${i}`)) }).confidence;
      expect(c(1)).toBe(0.5);
      expect(c(3)).toBe(0.875);
      expect(c(5)).toBeGreaterThan(c(3));
    });

    it('grows when independent detectors agree', () => {
      const one = assess({ findings: [f('medium', 0.8, { detector: 'patterns' })], detectors: three }).confidence;
      const two = assess({ findings: [f('medium', 0.8, { detector: 'patterns' }), f('medium', 0.8, { detector: 'magic' })], detectors: three }).confidence;
      const sameDetector = assess({ findings: [f('medium', 0.8, { detector: 'patterns' }), f('medium', 0.8, { detector: 'patterns' })], detectors: three }).confidence;
      expect(one).toBeCloseTo(0.8, 4);
      expect(two).toBeCloseTo(0.96, 4);
      expect(sameDetector).toBeCloseTo(0.8, 4);
    });

    it('is lower for a clean verdict with weak evidence against it', () => {
      const quiet = assess({ findings: [], detectors: three });
      const weak = assess({ findings: [f('medium', 0.5)], detectors: three });
      expect(weak.level).toBe('clean');
      expect(weak.confidence).toBeCloseTo(quiet.confidence * 0.8, 4);
    });

    it('drops with failed detectors and with incomplete scans', () => {
      const base = assess({ findings: [f('high', 1)], detectors: three }).confidence;
      const withError = assess({ findings: [f('high', 1)], detectors: [...three, failed('secrets')] }).confidence;
      const limited = assess({ findings: [f('high', 1), f('medium', 1, { detector: SCANNER_DETECTOR, ruleId: 'scan/limit-time' })], detectors: three }).confidence;
      expect(base).toBe(1);
      expect(withError).toBe(0.75);
      expect(limited).toBe(0.75);
    });

    it('is low when only the scanner itself has something to say', () => {
      const a = assess({ findings: [f('medium', 1, { detector: SCANNER_DETECTOR, ruleId: 'archive/limit-depth' })], detectors: three });
      expect(a.level).toBe('suspicious');
      expect(a.confidence).toBeLessThanOrEqual(0.25);
    });
  });

  describe('explanation', () => {
    it('says no detector found anything when clean', () => {
      expect(assess({ findings: [], detectors: three }).explanation).toBe('Clean: no detector found anything (3 detectors ran).');
      expect(assess({ findings: [f('low', 1, { ruleId: 'magic/elf-executable', evidence: [{ offset: 0, length: 4 }] })], detectors: three }).explanation).toBe(
        'Clean: no detector found anything dangerous (3 detectors ran); noted magic/elf-executable at offset 0.',
      );
    });

    it('names the top two rules with offsets and members, strongest first, and counts the rest', () => {
      const a = assess({
        findings: [
          f('low', 1, { ruleId: 'magic/elf-executable', evidence: [{ offset: 0, length: 4 }] }),
          f('high', 1, { ruleId: 'patterns/reverse-shell-bash', evidence: [{ offset: 120, length: 30 }], member: 'a.zip!x.sh', message: 'Bash reverse shell.' }),
          f('medium', 1, { ruleId: 'magic/extension-mismatch', evidence: [{ offset: 0, length: 4 }] }),
        ],
        detectors: three,
      });
      expect(a.explanation).toBe(
        'Malicious (score 0.87): patterns/reverse-shell-bash at offset 120 in a.zip!x.sh (high): Bash reverse shell; also magic/extension-mismatch at offset 0 (medium) and 1 more rule.',
      );
      expect(a.findings.map((x) => x.ruleId)).toEqual(['patterns/reverse-shell-bash', 'magic/extension-mismatch', 'magic/elf-executable']);
    });

    it('says where a finding without evidence was found', () => {
      expect(assess({ findings: [f('high', 1, { ruleId: 'magic/bidi-name', evidence: [] })], detectors: three }).explanation).toMatch(/^Malicious \(score 0\.75\): magic\/bidi-name in the file name \(high\)/);
    });
  });

  describe('properties', () => {
    const severities: Severity[] = ['info', 'low', 'medium', 'high', 'critical'];
    function randomCase(seed: number): { findings: Finding[]; detectors: DetectorReport[] } {
      const r = randomBytes(64, seed);
      const findings = Array.from({ length: r[0]! % 6 }, (_, i) =>
        f(severities[r[i + 1]! % 5]!, (r[i + 10]! % 11) / 10, { detector: ['patterns', 'magic', 'entropy'][r[i + 20]! % 3]!, ruleId: `r/${r[i + 30]! % 4}` }),
      );
      const detectors = Array.from({ length: 1 + (r[40]! % 4) }, (_, i) => (r[41 + i]! % 5 === 0 ? failed(`d${i}`) : ok(`d${i}`)));
      return { findings, detectors };
    }

    it('adding a clean detector never lowers the score or the level', () => {
      for (let seed = 1; seed <= 3000; seed++) {
        const c = randomCase(seed);
        const before = assess(c);
        const after = assess({ findings: c.findings, detectors: [...c.detectors, ok('extra')] });
        expect(after.score).toBeGreaterThanOrEqual(before.score);
        expect(RANK[after.level]).toBeGreaterThanOrEqual(RANK[before.level]);
      }
    });

    it('adding a finding never lowers the score or the level', () => {
      for (let seed = 1; seed <= 3000; seed++) {
        const c = randomCase(seed);
        const extra = randomCase(seed + 100_000).findings[0] ?? f('low', 0.5);
        const before = assess(c);
        const after = assess({ findings: [...c.findings, extra], detectors: c.detectors });
        expect(after.score).toBeGreaterThanOrEqual(before.score);
        expect(RANK[after.level]).toBeGreaterThanOrEqual(RANK[before.level]);
      }
    });

    it('keeps score and confidence in [0, 1], the level at or above the score’s, and ignores finding order', () => {
      for (let seed = 1; seed <= 2000; seed++) {
        const c = randomCase(seed);
        const a = assess(c);
        expect(a.score).toBeGreaterThanOrEqual(0);
        expect(a.score).toBeLessThanOrEqual(1);
        expect(a.confidence).toBeGreaterThanOrEqual(0);
        expect(a.confidence).toBeLessThanOrEqual(1);
        expect(RANK[a.level]).toBeGreaterThanOrEqual(RANK[levelOf(a.score)]);
        expect(assess({ findings: [...c.findings].reverse(), detectors: c.detectors })).toEqual(a);
        for (let i = 1; i < a.findings.length; i++) expect(findingProbability(a.findings[i - 1]!)).toBeGreaterThanOrEqual(findingProbability(a.findings[i]!));
      }
    });
  });
});
