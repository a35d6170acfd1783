/** The approvals queue: pending actions, refreshed every second, oldest first; then recent decisions. */
import { useContext, type JSX } from 'react';
import { RefreshPendingContext } from '../app/pending.js';
import { useApi } from '../api/connection.js';
import { useNow } from '../hooks/useNow.js';
import { usePoll } from '../hooks/usePoll.js';
import { ApprovalCard } from '../components/approvals/ApprovalCard.js';
import { DecisionHistory } from '../components/approvals/DecisionHistory.js';
import { ErrorNotice } from '../ui/ErrorNotice.js';
import { Section } from '../ui/Section.js';

const HISTORY = 25;

export function ApprovalsPage(): JSX.Element {
  const api = useApi();
  const now = useNow(1000);
  const refreshPending = useContext(RefreshPendingContext);
  const all = usePoll(() => api.client.approvals.list(), 1000, [api]);
  const onDecided = (): void => {
    all.refresh();
    refreshPending();
  };
  const approvals = all.data ?? [];
  // The API lists newest first; the queue shows the oldest (closest to expiring) first.
  const pending = approvals.filter((a) => a.state === 'pending').reverse();
  const decided = approvals.filter((a) => a.state !== 'pending').slice(0, HISTORY);

  return (
    <>
      <div className="page-head">
        <h1>Approvals</h1>
        <span className="muted" role="status" aria-live="polite" data-testid="pending-summary">
          {all.data === undefined ? 'Loading…' : pending.length === 0 ? 'Nothing is waiting for you.' : `${pending.length} waiting for a decision`}
        </span>
      </div>
      <ErrorNotice error={all.error} context="Could not load approvals" />
      <div className="queue" data-testid="approval-queue">
        {pending.map((a) => (
          <ApprovalCard key={a.id} approval={a} now={now} onDecided={onDecided} />
        ))}
      </div>
      <Section title="Recent decisions">
        <DecisionHistory approvals={decided} now={now} />
      </Section>
    </>
  );
}
