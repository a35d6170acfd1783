/** Orders on decisions, risks and modes: the one place "stricter" is defined. */
import { DECISIONS, GUARD_MODES, RISKS, type Decision, type GuardMode, type Risk } from '../types.js';

/** deny > ask > allow. */
export function strictestDecision(a: Decision, b: Decision): Decision {
  return DECISIONS.indexOf(a) >= DECISIONS.indexOf(b) ? a : b;
}

export function highestRisk(a: Risk, b: Risk): Risk {
  return RISKS.indexOf(a) >= RISKS.indexOf(b) ? a : b;
}

/** enforce > audit-only > off. */
export function strictestMode(a: GuardMode, b: GuardMode): GuardMode {
  return GUARD_MODES.indexOf(a) >= GUARD_MODES.indexOf(b) ? a : b;
}
