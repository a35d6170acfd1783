/** Whether the audit log's hash chain and signed checkpoints verify (GET /v1/audit/verify, admin keys). */
import type { JSX } from 'react';
import { useApi } from '../../api/connection.js';
import { usePoll } from '../../hooks/usePoll.js';
import { formatDuration } from '../../lib/format.js';
import { Badge } from '../../ui/Badge.js';
import { ErrorNotice } from '../../ui/ErrorNotice.js';

export function ChainStatus(): JSX.Element {
  const api = useApi();
  const admin = api.can('admin');
  const verify = usePoll(async () => (admin ? api.client.audit.verify() : undefined), null, [api, admin]);
  if (!admin) return <p className="muted">Verifying the chain needs an admin key: the chain spans every tenant.</p>;
  const v = verify.data;
  return (
    <div className="chain" role="status" aria-live="polite" data-testid="chain-status" data-ok={v ? String(v.ok) : undefined}>
      <ErrorNotice error={verify.error} context="Verification failed to run" />
      {v === undefined ? (
        <p>Verifying…</p>
      ) : v.ok ? (
        <p>
          <Badge tone="good">verified</Badge> {v.events} events and {v.checkpoints} signed checkpoints recomputed in {formatDuration(v.durationMs)}; the last event is #{v.lastSeq}.
        </p>
      ) : (
        <p>
          <Badge tone="bad">broken</Badge> The chain does not verify at event #{v.firstBad?.seq ?? '?'} ({v.firstBad?.reason ?? 'unknown'}): {v.firstBad?.message ?? ''}
        </p>
      )}
      {v !== undefined ? (
        <p className="muted small wrap">
          Public key: <span className="mono">{v.publicKey.replace(/-----[A-Z ]+-----|\s/g, '')}</span>
        </p>
      ) : null}
      <button type="button" onClick={verify.refresh} disabled={verify.loading}>
        Verify again
      </button>
    </div>
  );
}
