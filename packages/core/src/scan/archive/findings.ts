/**
 * The archive detector's rules, and a collector that folds many occurrences
 * of one rule (a thousand `../` names) into one finding with a few examples,
 * so the result stays small whatever the archive holds.
 */
import type { Evidence, Finding, Severity } from '../types.js';

export interface ArchiveRule {
  readonly id: string;
  readonly severity: Severity;
  /** How bad it is, appended to the examples in the message. */
  readonly why: string;
  /** The finding says part of the archive was not examined (`Finding.incomplete`). */
  readonly incomplete: boolean;
}

const rule = (id: string, severity: Severity, why: string, incomplete = false): ArchiveRule => ({ id: `archive/${id}`, severity, why, incomplete });

export const RULES = {
  zipBomb: rule('zip-bomb', 'high', 'unpacking it exhausts disk or memory'),
  overlapping: rule('overlapping-entries', 'high', 'members share compressed data, the trick behind non-recursive zip bombs'),
  recursive: rule('recursive', 'high', 'the archive contains itself (a quine), so unpacking recursively never ends'),
  declaredSize: rule('declared-size', 'medium', 'tools that trust the declared size pre-allocate or refuse it'),
  tooDeep: rule('too-deep', 'medium', 'archives nested this deep are a decompression-bomb pattern; the inner ones were not opened', true),
  tooManyMembers: rule('too-many-members', 'medium', 'the rest were not inspected', true),
  partlyInspected: rule('partly-inspected', 'info', 'the rest was not inspected', true),
  traversal: rule('path-traversal', 'high', 'unpacking writes outside the target directory'),
  absolutePath: rule('absolute-path', 'medium', 'unpackers that keep absolute paths write anywhere on the system'),
  symlinkEscape: rule('symlink-escape', 'high', 'a link out of the target directory lets later members or programs write through it'),
  deviceMember: rule('device-member', 'medium', 'unpacked as root it creates a device node giving raw access to hardware or memory'),
  encrypted: rule('encrypted-member', 'info', 'its content could not be inspected', true),
  unsupported: rule('unsupported-method', 'info', 'its content could not be inspected', true),
  duplicateName: rule('duplicate-name', 'low', 'different unpackers keep different copies, which hides content from scanners'),
  nameMismatch: rule('name-mismatch', 'medium', 'different unpackers use different names, which hides content from scanners'),
  corrupt: rule('corrupt', 'low', 'parts of it could not be read', true),
} as const;

const MAX_EXAMPLES = 3;
const MAX_EVIDENCE = 10;

interface Group {
  readonly rule: ArchiveRule;
  incomplete: boolean;
  count: number;
  certainty: number;
  severity: Severity;
  readonly examples: string[];
  readonly evidence: Evidence[];
}

const RANK: Record<Severity, number> = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };

/** Occurrences of archive rules, folded per rule. */
export class ArchiveFindings {
  readonly #groups = new Map<string, Group>();

  /**
   * Records one occurrence. `example` is a short description for the message
   * (a member name, a ratio); `evidence` points into the archive. `incomplete`
   * overrides the rule's (a bomb whose expansion was stopped).
   */
  add(rule: ArchiveRule, example: string, evidence: Evidence, certainty: number, o: { severity?: Severity; incomplete?: boolean } = {}): void {
    const severity = o.severity ?? rule.severity;
    let g = this.#groups.get(rule.id);
    if (g === undefined) this.#groups.set(rule.id, (g = { rule, incomplete: false, count: 0, certainty: 0, severity, examples: [], evidence: [] }));
    g.incomplete ||= o.incomplete ?? rule.incomplete;
    g.count++;
    g.certainty = Math.max(g.certainty, certainty);
    if (RANK[severity] > RANK[g.severity]) g.severity = severity;
    if (g.examples.length < MAX_EXAMPLES) g.examples.push(example);
    if (g.evidence.length < MAX_EVIDENCE) g.evidence.push(evidence);
  }

  has(rule: ArchiveRule): boolean {
    return this.#groups.has(rule.id);
  }

  toFindings(): Finding[] {
    return [...this.#groups.values()].map((g) => {
      const more = g.count - g.examples.length;
      return {
        detector: 'archive',
        ruleId: g.rule.id,
        severity: g.severity,
        certainty: g.certainty,
        message: `${g.examples.join('; ')}${more > 0 ? `; and ${more} more` : ''}: ${g.rule.why}.`,
        evidence: g.evidence,
        ...(g.incomplete ? { incomplete: true } : {}),
      };
    });
  }
}

/** A member name for messages: printable, quoted, at most ~60 characters. */
export function quoteName(name: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = name.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return JSON.stringify(clean.length > 60 ? `${clean.slice(0, 28)}…${clean.slice(-28)}` : clean);
}
