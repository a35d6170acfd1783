/**
 * One policy against one analysis: the findings of every rule that matches,
 * plus a `guard.analysis-problem` finding when the analysis could not
 * understand everything. Never throws: a rule that fails to evaluate is an
 * analysis problem, which is never `allow`.
 */
import type { Analysis, AnalysisProblem, Decision, GuardFinding, Span } from '../types.js';
import { strictestDecision } from './decisions.js';
import { createFacts } from './match/facts.js';
import type { Policy } from './policy.js';

export const ANALYSIS_RULE_ID = 'guard.analysis-problem';
/** Evidence spans kept per finding. */
const MAX_EVIDENCE = 16;

export function evaluatePolicy(policy: Policy, analysis: Analysis): GuardFinding[] {
  const facts = createFacts(analysis, policy.aliases);
  const findings: GuardFinding[] = [];
  const failures: AnalysisProblem[] = [];
  for (const rule of policy.rules) {
    let evidence: Span[] | null;
    try {
      evidence = rule.when(facts, rule.languages);
    } catch (err) {
      failures.push({ kind: 'analyzer-error', message: `rule ${rule.id} could not be evaluated: ${err instanceof Error ? err.message : String(err)}` });
      continue;
    }
    if (evidence === null) continue;
    const { id: ruleId, category, risk, decision, message } = rule;
    findings.push({ ruleId, category, risk, decision, message, evidence: tidy(evidence), layer: policy.layer });
  }
  const problems = [...analysis.problems, ...failures];
  if (problems.length > 0) findings.push(problemFinding(policy, problems));
  return findings;
}

/**
 * The layer's decision: the strictest matched rule, or the default when no
 * rule matched, made at least as strict as `on_error` when analysis failed.
 */
export function decideLayer(policy: Policy, findings: readonly GuardFinding[]): Decision {
  const matched = findings.filter((f) => f.ruleId !== ANALYSIS_RULE_ID);
  let decision = matched.length > 0 ? matched.map((f) => f.decision).reduce(strictestDecision) : policy.default;
  if (findings.length > matched.length) decision = strictestDecision(decision, policy.onError);
  return decision;
}

function problemFinding(policy: Policy, problems: readonly AnalysisProblem[]): GuardFinding {
  const kinds = [...new Set(problems.map((p) => p.kind))].join(', ');
  const first = problems[0]!.message;
  return {
    ruleId: ANALYSIS_RULE_ID,
    category: 'analysis',
    risk: policy.onError === 'deny' ? 'high' : 'medium',
    decision: policy.onError,
    message: `The guard could not fully analyse this (${kinds}: ${first}); what it cannot read is never allowed without a person.`,
    evidence: tidy(problems.flatMap((p) => (p.span ? [p.span] : []))),
    layer: policy.layer,
  };
}

function tidy(spans: readonly Span[]): Span[] {
  const seen = new Set<string>();
  const out: Span[] = [];
  for (const s of [...spans].sort((a, b) => a.start - b.start || a.end - b.end)) {
    const key = `${s.start}:${s.end}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ start: s.start, end: s.end });
    if (out.length === MAX_EVIDENCE) break;
  }
  return out;
}
