/** The audit explorer: filter events, open one, and see whether the chain verifies. */
import { useState, type JSX } from 'react';
import { useApi } from '../api/connection.js';
import { usePoll } from '../hooks/usePoll.js';
import { AuditDetail } from '../components/audit/AuditDetail.js';
import { AuditFilters, auditQueryOf, EMPTY_AUDIT_FILTER, type AuditFilterForm } from '../components/audit/AuditFilters.js';
import { AuditTable } from '../components/audit/AuditTable.js';
import { ChainStatus } from '../components/audit/ChainStatus.js';
import { ErrorNotice } from '../ui/ErrorNotice.js';
import { Section } from '../ui/Section.js';

const PAGE = 100;

export function AuditPage({ sandboxId }: { readonly sandboxId?: string }): JSX.Element {
  const api = useApi();
  const [filter, setFilter] = useState<AuditFilterForm>({ ...EMPTY_AUDIT_FILTER, sandboxId: sandboxId ?? '' });
  const [limit, setLimit] = useState(PAGE);
  const [follow, setFollow] = useState(true);
  const [selected, setSelected] = useState<number | undefined>(undefined);
  const events = usePoll(() => api.client.audit.query(auditQueryOf(filter, limit)), follow ? 3000 : null, [api, filter, limit]);
  const rows = events.data ?? [];
  const open = rows.find((e) => e.seq === selected);

  return (
    <>
      <div className="page-head">
        <h1>Audit log</h1>
      </div>
      <Section title="Chain verification">
        <ChainStatus />
      </Section>
      <Section title="Filters">
        <AuditFilters
          value={filter}
          onChange={(f) => {
            setFilter(f);
            setLimit(PAGE);
            setSelected(undefined);
          }}
        />
      </Section>
      <Section
        title={`${rows.length} event${rows.length === 1 ? '' : 's'}`}
        id="audit-events"
        actions={
          <>
            <label className="check">
              <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> Live
            </label>
            <button type="button" onClick={events.refresh}>
              Refresh
            </button>
          </>
        }
      >
        <ErrorNotice error={events.error} context="Could not query the audit log" />
        <div className={open ? 'split' : undefined}>
          <div className="split-main">
            <AuditTable events={rows} selected={selected} onSelect={setSelected} />
            {rows.length >= limit ? (
              <button type="button" onClick={() => setLimit((l) => Math.min(1000, l + PAGE))} disabled={limit >= 1000}>
                Show more
              </button>
            ) : null}
          </div>
          {open ? <AuditDetail event={open} onClose={() => setSelected(undefined)} /> : null}
        </div>
      </Section>
    </>
  );
}
