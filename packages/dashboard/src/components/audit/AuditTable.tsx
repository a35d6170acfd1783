import type { JSX } from 'react';
import type { AuditEventView } from '@warden/protocol';
import { formatTime } from '../../lib/format.js';
import { Badge } from '../../ui/Badge.js';

/** Audit events, one row each; a row's button opens the event's detail. */
export function AuditTable({ events, selected, onSelect }: { readonly events: readonly AuditEventView[]; readonly selected: number | undefined; readonly onSelect: (seq: number) => void }): JSX.Element {
  if (events.length === 0) return <p className="empty">No events match.</p>;
  return (
    <table className="table" data-testid="audit-table">
      <thead>
        <tr>
          <th scope="col">#</th>
          <th scope="col">Time</th>
          <th scope="col">Action</th>
          <th scope="col">Decision</th>
          <th scope="col">Risk</th>
          <th scope="col">Outcome</th>
          <th scope="col" className="w-wide">
            Preview
          </th>
        </tr>
      </thead>
      <tbody>
        {events.map((e) => (
          <tr key={e.seq} aria-selected={selected === e.seq} data-action={e.action}>
            <td>
              <button type="button" className="link mono" onClick={() => onSelect(e.seq)} aria-label={`Event ${e.seq}: ${e.action}`}>
                {e.seq}
              </button>
            </td>
            <td className="nowrap">{formatTime(e.ts)}</td>
            <td className="mono">{e.action}</td>
            <td>{e.decision !== null ? <Badge>{e.decision}</Badge> : null}</td>
            <td>{e.risk !== null ? <Badge>{e.risk}</Badge> : null}</td>
            <td className="clip" title={e.outcome ?? ''}>
              {e.outcome ?? ''}
            </td>
            <td className="mono clip" title={e.preview ?? ''}>
              {e.preview ?? ''}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
