/** The audit query: every field maps to a GET /v1/audit filter. Enter applies. */
import { useId, useState, type FormEvent, type JSX } from 'react';
import type { AuditQuery } from '@warden/protocol';
import { localInputToIso } from '../../lib/format.js';

export interface AuditFilterForm {
  readonly action: string;
  readonly sandboxId: string;
  readonly actor: string;
  readonly decision: '' | 'allow' | 'ask' | 'deny';
  readonly since: string;
  readonly until: string;
  readonly order: 'asc' | 'desc';
}

export const EMPTY_AUDIT_FILTER: AuditFilterForm = { action: '', sandboxId: '', actor: '', decision: '', since: '', until: '', order: 'desc' };

/** The API query for a filter form (empty fields are no filter). */
export function auditQueryOf(f: AuditFilterForm, limit: number): AuditQuery {
  const since = localInputToIso(f.since);
  const until = localInputToIso(f.until);
  return {
    ...(f.action.trim() !== '' ? { action: f.action.trim() } : {}),
    ...(f.sandboxId.trim() !== '' ? { sandboxId: f.sandboxId.trim() } : {}),
    ...(f.actor.trim() !== '' ? { actor: f.actor.trim() } : {}),
    ...(f.decision !== '' ? { decision: f.decision } : {}),
    ...(since !== undefined ? { since } : {}),
    ...(until !== undefined ? { until } : {}),
    order: f.order,
    limit,
  };
}

export function AuditFilters({ value, onChange }: { readonly value: AuditFilterForm; readonly onChange: (f: AuditFilterForm) => void }): JSX.Element {
  const [f, setF] = useState(value);
  const id = useId();
  const set = <K extends keyof AuditFilterForm>(k: K, v: AuditFilterForm[K]): void => setF((old) => ({ ...old, [k]: v }));
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    onChange(f);
  };
  return (
    <form className="filters" onSubmit={submit} aria-label="Filter audit events">
      <div className="field">
        <label htmlFor={`${id}-action`}>Action</label>
        <input id={`${id}-action`} value={f.action} onChange={(e) => set('action', e.target.value)} placeholder="command.* or approval.decide" />
      </div>
      <div className="field">
        <label htmlFor={`${id}-sandbox`}>Sandbox</label>
        <input id={`${id}-sandbox`} className="mono" value={f.sandboxId} onChange={(e) => set('sandboxId', e.target.value)} placeholder="sbx_…" />
      </div>
      <div className="field">
        <label htmlFor={`${id}-actor`}>Actor</label>
        <input id={`${id}-actor`} value={f.actor} onChange={(e) => set('actor', e.target.value)} placeholder="key:…" />
      </div>
      <div className="field">
        <label htmlFor={`${id}-decision`}>Decision</label>
        <select id={`${id}-decision`} value={f.decision} onChange={(e) => set('decision', e.target.value as AuditFilterForm['decision'])}>
          <option value="">Any</option>
          <option value="allow">allow</option>
          <option value="ask">ask</option>
          <option value="deny">deny</option>
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${id}-since`}>Since</label>
        <input id={`${id}-since`} type="datetime-local" step={1} value={f.since} onChange={(e) => set('since', e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-until`}>Until</label>
        <input id={`${id}-until`} type="datetime-local" step={1} value={f.until} onChange={(e) => set('until', e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-order`}>Order</label>
        <select id={`${id}-order`} value={f.order} onChange={(e) => set('order', e.target.value as AuditFilterForm['order'])}>
          <option value="desc">Newest first</option>
          <option value="asc">Oldest first</option>
        </select>
      </div>
      <button type="submit">Apply</button>
    </form>
  );
}
