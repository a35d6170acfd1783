/**
 * Pure: findings and detector reports → level, score, confidence, explanation.
 *
 * Score: noisy-OR over findings, `1 − Π(1 − pᵢ)` with `pᵢ = SEVERITY_WEIGHT[severity] × certainty`.
 * Unlike a weighted average, evidence only accumulates: one certain finding is
 * never diluted by detectors that found nothing. Findings of the same rule
 * (the same pattern in fifty members) are one piece of evidence, not fifty, so
 * each rule contributes its strongest finding once.
 *
 * Levels from the score: clean < 0.3 ≤ suspicious < 0.6 ≤ malicious < 0.95 ≤ critical.
 * So one certain medium finding (0.4) is suspicious, one certain high (0.75)
 * malicious, one certain critical (0.95) critical; two certain highs (0.94)
 * stay malicious, three (0.98) are critical. `low` findings alone need five
 * distinct certain rules to leave clean.
 *
 * Hard overrides (raise the score to the level's floor): a critical finding with
 * certainty ≥ 0.9 makes the verdict critical; a high one at least malicious.
 *
 * Fail closed (level only; the score stays the evidence): a detector that
 * failed, a finding marked `incomplete` (part of the file was not examined),
 * or no detector having run at all makes the verdict at least suspicious. The
 * scanner's own findings (limits, unreadable members) are all incomplete, and
 * are facts about the scan rather than evidence of harm, so they add nothing
 * to the score.
 */
import type { DetectorReport, Finding, Level, Severity } from './types.js';

/** How bad a finding is if real, as a probability that the file is dangerous. */
export const SEVERITY_WEIGHT: Readonly<Record<Severity, number>> = Object.freeze({ info: 0, low: 0.15, medium: 0.4, high: 0.75, critical: 0.95 });

/** Lowest score of each level. */
export const LEVEL_FLOOR: Readonly<Record<Level, number>> = Object.freeze({ clean: 0, suspicious: 0.3, malicious: 0.6, critical: 0.95 });

/** Certainty from which a single high or critical finding overrides the score. */
export const CERTAIN = 0.9;

/** The detector name the scanner uses for its own findings (limits, failures): facts about the scan, not evidence of harm. */
export const SCANNER_DETECTOR = 'scanner';

/** Levels from least to most dangerous. */
export const LEVELS: readonly Level[] = ['clean', 'suspicious', 'malicious', 'critical'];

/** `a` is at least as bad as `b`. */
export const atLeast = (a: Level, b: Level): boolean => LEVELS.indexOf(a) >= LEVELS.indexOf(b);

export interface Assessment {
  readonly level: Level;
  readonly score: number;
  readonly confidence: number;
  readonly explanation: string;
  /** The findings, strongest first (by probability, then severity, rule id, member, offset). */
  readonly findings: readonly Finding[];
}

/** Certainty as a number in [0, 1]; a NaN or missing certainty counts as certain (fail closed). */
function certaintyOf(f: Finding): number {
  const c = f.certainty;
  if (typeof c !== 'number' || Number.isNaN(c)) return 1;
  return Math.min(1, Math.max(0, c));
}

/** A severity the engine does not know counts as medium rather than nothing. */
function weightOf(f: Finding): number {
  return Object.hasOwn(SEVERITY_WEIGHT, f.severity) ? SEVERITY_WEIGHT[f.severity] : SEVERITY_WEIGHT.medium;
}

/** Probability that this finding alone makes the file dangerous. */
export function findingProbability(f: Finding): number {
  return weightOf(f) * certaintyOf(f);
}

export function levelOf(score: number): Level {
  for (let i = LEVELS.length - 1; i > 0; i--) if (score >= LEVEL_FLOOR[LEVELS[i]!]) return LEVELS[i]!;
  return 'clean';
}

/** Says part of the file was not examined. */
const isIncomplete = (f: Finding): boolean => f.incomplete === true || f.detector === SCANNER_DETECTOR;

const maxLevel = (a: Level, b: Level): Level => (atLeast(a, b) ? a : b);
const round = (x: number): number => Math.round(x * 10_000) / 10_000;

function compareFindings(a: Finding, b: Finding): number {
  return (
    findingProbability(b) - findingProbability(a) ||
    (SEVERITY_WEIGHT[b.severity] ?? 0) - (SEVERITY_WEIGHT[a.severity] ?? 0) ||
    cmp(a.ruleId, b.ruleId) ||
    cmp(a.member ?? '', b.member ?? '') ||
    (a.evidence[0]?.offset ?? -1) - (b.evidence[0]?.offset ?? -1) ||
    cmp(a.detector, b.detector) ||
    cmp(a.message, b.message)
  );
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Combines findings and detector reports into a verdict's level, score,
 * confidence and explanation.
 *
 * @example
 * assess({ findings: [{ detector: 'patterns', ruleId: 'patterns/eicar', severity: 'critical', certainty: 1, message: 'EICAR test file.', evidence: [{ offset: 0, length: 68 }] }], detectors: [{ name: 'patterns', ran: true, durationMs: 1 }] });
 * // → { level: 'critical', score: 0.95, confidence: 1, explanation: 'Critical (score 0.95): patterns/eicar at offset 0 …' }
 */
export function assess(input: { readonly findings: readonly Finding[]; readonly detectors: readonly DetectorReport[] }): Assessment {
  const findings = [...input.findings].sort(compareFindings);

  // Noisy-OR over rules, each rule once at its strongest. The scanner's own findings are not evidence.
  const perRule = new Map<string, number>();
  for (const f of findings) {
    if (f.detector === SCANNER_DETECTOR) continue;
    const key = `${f.detector}\0${f.ruleId}`;
    perRule.set(key, Math.max(perRule.get(key) ?? 0, findingProbability(f)));
  }
  let clear = 1;
  for (const p of perRule.values()) clear *= 1 - p;
  let score = 1 - clear;

  let level = levelOf(score);
  for (const f of findings) {
    if (f.detector === SCANNER_DETECTOR || certaintyOf(f) < CERTAIN) continue;
    if (f.severity === 'critical') level = 'critical';
    else if (f.severity === 'high') level = maxLevel(level, 'malicious');
  }
  score = Math.max(score, LEVEL_FLOOR[level]);

  const failed = input.detectors.filter((d) => d.error !== undefined);
  const ok = input.detectors.filter((d) => d.ran && d.error === undefined);
  if (failed.length > 0 || ok.length === 0 || findings.some(isIncomplete)) level = maxLevel(level, 'suspicious');

  const confidence = confidenceOf(findings, ok.length, failed.length, level, score);
  return {
    level,
    score: round(score),
    confidence: round(confidence),
    explanation: explain(level, score, findings, failed, ok.length),
    findings,
  };
}

/**
 * How much to trust the verdict, from 0 to 1.
 * - coverage: the share of detectors that tried and did not fail; an incomplete
 *   scan (any incomplete finding) takes another quarter off.
 * - clean: each detector that looked and found nothing adds independent
 *   assurance, 1 − 0.5ⁿ (one: 0.5, three: 0.88, five: 0.97), times 1 − score
 *   (weak evidence against a clean verdict makes it less sure).
 * - not clean: agreement, a noisy-OR of the strongest certainty of each distinct
 *   detector with evidence; two detectors at 0.6 give 0.84, one at 1 gives 1.
 *   When only the scanner's own findings (failures, limits) stand, 0.25.
 */
function confidenceOf(findings: readonly Finding[], okCount: number, failedCount: number, level: Level, score: number): number {
  const attempted = okCount + failedCount;
  let coverage = attempted === 0 ? 0 : okCount / attempted;
  if (findings.some(isIncomplete)) coverage *= 0.75;
  if (level === 'clean') return coverage * (1 - 0.5 ** okCount) * (1 - score);

  const strongest = new Map<string, number>();
  for (const f of findings) {
    if (f.detector === SCANNER_DETECTOR || findingProbability(f) === 0) continue;
    strongest.set(f.detector, Math.max(strongest.get(f.detector) ?? 0, certaintyOf(f)));
  }
  if (strongest.size === 0) return coverage * 0.25;
  let doubt = 1;
  for (const c of strongest.values()) doubt *= 1 - c;
  return coverage * (1 - doubt);
}

const titles: Readonly<Record<Level, string>> = { clean: 'Clean', suspicious: 'Suspicious', malicious: 'Malicious', critical: 'Critical' };

/** `rule at offset 120 in a.zip!x.sh`; a finding without evidence is about the name (or, for the scanner, the scan). */
function cite(f: Finding): string {
  const e = f.evidence[0];
  const at = e !== undefined ? ` at offset ${e.offset}` : f.member === undefined && f.detector !== SCANNER_DETECTOR ? ' in the file name' : '';
  return `${f.ruleId}${at}${f.member === undefined ? '' : ` in ${f.member}`}`;
}

function explain(level: Level, score: number, findings: readonly Finding[], failed: readonly DetectorReport[], okCount: number): string {
  const evidence = findings.filter((f) => f.detector !== SCANNER_DETECTOR && (findingProbability(f) > 0 || f.severity !== 'info'));
  let text: string;
  if (level === 'clean') {
    const ran = `${okCount} detector${okCount === 1 ? '' : 's'} ran`;
    if (evidence.length === 0) return `Clean: no detector found anything (${ran}).`;
    return `Clean: no detector found anything dangerous (${ran}); noted ${evidence
      .slice(0, 2)
      .map(cite)
      .join(' and ')}.`;
  }
  const head = `${titles[level]} (score ${score.toFixed(2)})`;
  const top = distinctRules(evidence, 2);
  if (top.length === 0) text = `${head}: no detector found evidence of harm.`;
  else {
    const [first, second] = top;
    text = `${head}: ${cite(first!)} (${first!.severity}): ${trimEnd(first!.message)}`;
    if (second !== undefined) text += `; also ${cite(second)} (${second.severity})`;
    const rest = new Set(evidence.map((f) => f.ruleId)).size - top.length;
    if (rest > 0) text += ` and ${rest} more rule${rest === 1 ? '' : 's'}`;
    text += '.';
  }

  // Second sentence: why the file cannot be called clean whatever the evidence says.
  const gaps: string[] = [];
  if (failed.length > 0) gaps.push(`detector${failed.length === 1 ? '' : 's'} ${failed.map((d) => d.name).join(', ')} failed`);
  // Top-level detector errors are already named above; members' errors and limits are not.
  const gapFindings = findings.filter((f) => isIncomplete(f) && !(f.ruleId === 'scan/detector-error' && f.member === undefined));
  for (const f of distinctRules(gapFindings, 2)) gaps.push(cite(f));
  if (okCount === 0) gaps.push('no detector could run');
  if (gaps.length > 0) text += ` Not everything could be checked (${gaps.join('; ')}), so the file cannot be called clean.`;
  return text;
}

/** The first finding of each rule, up to `n` rules. */
function distinctRules(findings: readonly Finding[], n: number): Finding[] {
  const out: Finding[] = [];
  for (const f of findings) {
    if (out.length === n) break;
    if (!out.some((t) => t.ruleId === f.ruleId)) out.push(f);
  }
  return out;
}

const trimEnd = (s: string): string => s.replace(/[.\s]+$/, '');
