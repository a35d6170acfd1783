import type { JSX } from 'react';
import type { ApprovalView } from '@warden/protocol';
import { hrefOf } from '../../lib/route.js';
import { Badge } from '../../ui/Badge.js';
import { Time } from '../../ui/Time.js';

/** Recently decided approvals: who decided what, when and why. */
export function DecisionHistory({ approvals, now }: { readonly approvals: readonly ApprovalView[]; readonly now: number }): JSX.Element {
  if (approvals.length === 0) return <p className="empty">Nothing decided yet.</p>;
  return (
    <table className="table" data-testid="decision-table">
      <thead>
        <tr>
          <th scope="col">State</th>
          <th scope="col" className="w-wide">
            Action
          </th>
          <th scope="col">Sandbox</th>
          <th scope="col">Rules</th>
          <th scope="col">Decided</th>
          <th scope="col" className="w-wide">
            Reason
          </th>
        </tr>
      </thead>
      <tbody>
        {approvals.map((a) => (
          <tr key={a.id} data-approval-id={a.id}>
            <td>
              <Badge>{a.state}</Badge>
              {a.scope === 'session' ? <span className="muted small"> session</span> : null}
            </td>
            <td className="mono clip" title={a.action}>
              {a.action}
            </td>
            <td>
              <a href={hrefOf({ page: 'sandbox', id: a.sandboxId })} className="mono">
                {a.sandboxId}
              </a>
            </td>
            <td>
              {a.findings.map((f, i) => (
                <span key={`${f.ruleId}:${i}`} className="tag mono">
                  {f.ruleId}
                </span>
              ))}
            </td>
            <td>
              {a.decidedAt !== null ? <Time iso={a.decidedAt} now={now} /> : '—'}
              {a.decidedBy !== null ? <span className="muted small"> by {a.decidedBy}</span> : null}
            </td>
            <td className="wrap">{a.reason ?? <span className="muted">—</span>}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
