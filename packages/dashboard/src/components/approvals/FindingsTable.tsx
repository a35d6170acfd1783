import type { JSX } from 'react';
import type { GuardFindingView } from '@warden/protocol';
import { Badge } from '../../ui/Badge.js';

/** The guard's findings: which rule, why, how risky, and what it decided. */
export function FindingsTable({ findings }: { readonly findings: readonly GuardFindingView[] }): JSX.Element {
  if (findings.length === 0) return <p className="muted">No findings.</p>;
  return (
    <table className="table compact">
      <thead>
        <tr>
          <th scope="col">Rule</th>
          <th scope="col">Risk</th>
          <th scope="col">Decision</th>
          <th scope="col" className="w-wide">
            Explanation
          </th>
          <th scope="col">Layer</th>
        </tr>
      </thead>
      <tbody>
        {findings.map((f, i) => (
          <tr key={`${f.ruleId}:${i}`}>
            <td className="mono" data-testid="rule-id">
              {f.ruleId}
            </td>
            <td>
              <Badge>{f.risk}</Badge>
            </td>
            <td>
              <Badge>{f.decision}</Badge>
            </td>
            <td className="wrap">
              {f.message} <span className="muted small">({f.category})</span>
            </td>
            <td>{f.layer}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
