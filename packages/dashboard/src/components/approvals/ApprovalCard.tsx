/**
 * One pending approval: the exact action (as text), its risk, the rules that
 * fired and why, and the three decisions. The buttons are the only way to
 * decide: Enter in the reason field does nothing, so a stray key never approves.
 */
import { useId, useState, type JSX } from 'react';
import type { ApprovalView } from '@warden/protocol';
import { useApi } from '../../api/connection.js';
import { hrefOf } from '../../lib/route.js';
import { Badge } from '../../ui/Badge.js';
import { ErrorNotice } from '../../ui/ErrorNotice.js';
import { Time } from '../../ui/Time.js';
import { FindingsTable } from './FindingsTable.js';

export type Decision = { readonly approve: true; readonly scope: 'once' | 'session'; readonly reason: string } | { readonly approve: false; readonly reason: string };

export function ApprovalCard({ approval: a, now, onDecided }: { readonly approval: ApprovalView; readonly now: number; readonly onDecided: () => void }): JSX.Element {
  const api = useApi();
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const reasonId = useId();
  const headingId = useId();
  const canDecide = api.can('approvals:decide');

  const decide = (d: Decision): void => {
    setBusy(true);
    setError(undefined);
    const r = d.reason.trim();
    const call = d.approve ? api.client.approvals.approve(a.id, { scope: d.scope, ...(r !== '' ? { reason: r } : {}) }) : api.client.approvals.deny(a.id, r !== '' ? { reason: r } : {});
    call.then(
      () => onDecided(),
      (err: unknown) => {
        setError(err);
        setBusy(false);
      },
    );
  };

  return (
    <article className="approval" aria-labelledby={headingId} data-approval-id={a.id}>
      <header className="approval-head">
        <h2 id={headingId}>
          <Badge label="Risk">{a.risk}</Badge> {a.kind === 'code' ? `${a.language} code` : a.kind === 'session' ? 'session command' : 'command'} in{' '}
          <a href={hrefOf({ page: 'sandbox', id: a.sandboxId })} className="mono">
            {a.sandboxId}
          </a>
        </h2>
        <span className="muted small">
          {a.id} · asked by {a.requestedBy} <Time iso={a.createdAt} now={now} /> · expires <Time iso={a.expiresAt} now={now} />
        </span>
      </header>
      <pre className="action" tabIndex={0} aria-label="The exact action" data-testid="approval-action">
        {a.action}
      </pre>
      <p className="muted small">
        Rules: <span className="mono">{a.findings.map((f) => f.ruleId).join(', ') || 'none'}</span> · digest <span className="mono">{a.digest.slice(0, 16)}…</span>
      </p>
      <FindingsTable findings={a.findings} />
      {canDecide ? (
        <div className="decide">
          <div className="field grow">
            <label htmlFor={reasonId}>Reason (recorded in the audit log)</label>
            <input id={reasonId} value={reason} onChange={(e) => setReason(e.target.value)} maxLength={1000} disabled={busy} />
          </div>
          <div className="decide-buttons">
            <button type="button" className="primary" disabled={busy} onClick={() => decide({ approve: true, scope: 'once', reason })}>
              Approve once
            </button>
            <button type="button" disabled={busy} onClick={() => decide({ approve: true, scope: 'session', reason })} title="The same action in this sandbox is allowed from now on">
              Approve for session
            </button>
            <button type="button" className="danger" disabled={busy} onClick={() => decide({ approve: false, reason })}>
              Deny
            </button>
          </div>
        </div>
      ) : (
        <p className="notice notice-info">Deciding needs a key with the approvals:decide scope (and not the key that asked).</p>
      )}
      <ErrorNotice error={error} context="The decision was not recorded" />
    </article>
  );
}
