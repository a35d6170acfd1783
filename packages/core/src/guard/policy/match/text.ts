/** `regex:` over the normalised text and `query:` over the parse trees. */
import type { GuardLanguage } from '../../types.js';
import type { SafeRegex } from '../regex-safety.js';
import { inLanguages, type Condition } from './context.js';

export function compileRegex(re: SafeRegex): Condition {
  const atoms = re.atoms;
  return (facts, languages) => {
    if (!inLanguages(languages, facts.analysis.language)) return null;
    // Every match contains one of the atoms: no atom, no search.
    if (atoms) {
      const lower = facts.lowerText();
      if (!atoms.some((a) => lower.includes(a))) return null;
    }
    const spans = re.search(facts.analysis.text);
    return spans.length > 0 ? spans : null;
  };
}

export function compileQuery(queries: ReadonlyMap<GuardLanguage, string>): Condition {
  return (facts, languages) => {
    const spans = [];
    for (const [language, source] of queries) {
      if (inLanguages(languages, language)) spans.push(...facts.analysis.query(language, source));
    }
    return spans.length > 0 ? spans : null;
  };
}
