/**
 * Policy layers, top first (server → tenant → sandbox). The overall decision
 * is the strictest layer's, so a lower layer can add restrictions but never
 * relax a higher one; the mode is the strictest any layer sets (enforce when
 * none sets one).
 */
import type { Analysis, Decision, GuardFinding, GuardMode, Risk } from '../types.js';
import { highestRisk, strictestDecision, strictestMode } from './decisions.js';
import { ANALYSIS_RULE_ID, decideLayer, evaluatePolicy } from './evaluate.js';
import { makePolicy, type Policy } from './policy.js';

/** With no layers at all nothing is denied, but what cannot be analysed still asks (fail closed). */
const NO_POLICY = makePolicy({ layer: 'guard', mode: undefined, default: 'allow', onError: 'ask', rules: [], aliases: {}, description: 'no policy layers' });

export interface LayeredOutcome {
  readonly decision: Decision;
  readonly risk: Risk;
  readonly findings: readonly GuardFinding[];
}

export function effectiveMode(policies: readonly Policy[]): GuardMode {
  const set = policies.flatMap((p) => (p.mode ? [p.mode] : []));
  return set.length === 0 ? 'enforce' : set.reduce(strictestMode);
}

export function evaluateLayers(policies: readonly Policy[], analysis: Analysis): LayeredOutcome {
  let decision: Decision = 'allow';
  const findings: GuardFinding[] = [];
  for (const policy of policies.length > 0 ? policies : [NO_POLICY]) {
    const own = evaluatePolicy(policy, analysis);
    decision = strictestDecision(decision, decideLayer(policy, own));
    findings.push(...own);
  }
  const merged = mergeProblemFindings(findings);
  const risk = merged.reduce<Risk>((r, f) => highestRisk(r, f.risk), 'none');
  return { decision, risk, findings: merged };
}

/** Every layer reports the same analysis problem; keep the strictest one, first among equals. */
function mergeProblemFindings(findings: readonly GuardFinding[]): GuardFinding[] {
  const problems = findings.filter((f) => f.ruleId === ANALYSIS_RULE_ID);
  if (problems.length <= 1) return [...findings];
  const keep = problems.reduce((a, b) => (strictestDecision(a.decision, b.decision) === a.decision ? a : b));
  return findings.filter((f) => f.ruleId !== ANALYSIS_RULE_ID || f === keep);
}
