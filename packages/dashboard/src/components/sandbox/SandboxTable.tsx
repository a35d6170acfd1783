import type { JSX } from 'react';
import type { SandboxView } from '@warden/protocol';
import { useNow } from '../../hooks/useNow.js';
import { hrefOf } from '../../lib/route.js';
import { Badge } from '../../ui/Badge.js';
import { Time } from '../../ui/Time.js';

export function SandboxTable({ sandboxes }: { readonly sandboxes: readonly SandboxView[] }): JSX.Element {
  const now = useNow(5000);
  if (sandboxes.length === 0) return <p className="empty">No sandboxes match.</p>;
  return (
    <table className="table" data-testid="sandbox-table">
      <thead>
        <tr>
          <th scope="col" className="w-id">
            Sandbox
          </th>
          <th scope="col">State</th>
          <th scope="col">Runtime</th>
          <th scope="col">Codebase</th>
          <th scope="col">Created</th>
          <th scope="col">Expires / ended</th>
          <th scope="col" className="w-wide">
            Metadata
          </th>
        </tr>
      </thead>
      <tbody>
        {sandboxes.map((s) => (
          <tr key={s.id}>
            <td>
              <a href={hrefOf({ page: 'sandbox', id: s.id })} className="mono">
                {s.id}
              </a>
            </td>
            <td>
              <Badge>{s.state}</Badge>
              {s.closedReason !== null ? <span className="muted small"> {s.closedReason}</span> : null}
            </td>
            <td>{s.runtime}</td>
            <td>{s.codebase ? `${s.codebase.name}@${s.codebase.version}` : <span className="muted">—</span>}</td>
            <td>
              <Time iso={s.createdAt} now={now} />
            </td>
            <td>{s.endedAt !== null ? <Time iso={s.endedAt} now={now} /> : <Time iso={s.expiresAt} now={now} />}</td>
            <td className="wrap">
              {Object.entries(s.metadata).length === 0 ? (
                <span className="muted">—</span>
              ) : (
                Object.entries(s.metadata).map(([k, v]) => (
                  <span key={k} className="tag">
                    {k}={v}
                  </span>
                ))
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
