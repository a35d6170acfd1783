/** What a codebase sandbox changed relative to its codebase version: added, modified and deleted paths. */
import { useState, type JSX } from 'react';
import type { Sandbox } from '@warden/sdk';
import type { DiffView } from '@warden/protocol';
import { usePoll } from '../../hooks/usePoll.js';
import { formatBytes } from '../../lib/format.js';
import { ErrorNotice } from '../../ui/ErrorNotice.js';
import { Badge } from '../../ui/Badge.js';
import { FilePreview } from './FilePreview.js';

type Row = { path: string; type: string; kind: 'added' | 'modified' | 'deleted'; size: string };

function rowsOf(d: DiffView): Row[] {
  return [
    ...d.added.map((c): Row => ({ path: c.path, type: c.type, kind: 'added', size: formatBytes(c.size) })),
    ...d.modified.map((c): Row => ({ path: c.path, type: c.type, kind: 'modified', size: `${formatBytes(c.oldSize)} → ${formatBytes(c.size)}` })),
    ...d.deleted.map((c): Row => ({ path: c.path, type: c.type, kind: 'deleted', size: formatBytes(c.size) })),
  ].sort((a, b) => a.path.localeCompare(b.path));
}

const TONE = { added: 'good', modified: 'warn', deleted: 'bad' } as const;

export function ChangesView({ sandbox }: { readonly sandbox: Sandbox }): JSX.Element {
  const diff = usePoll(() => sandbox.diff(), 5000, [sandbox]);
  const [open, setOpen] = useState<string | undefined>(undefined);
  const rows = diff.data ? rowsOf(diff.data) : [];
  return (
    <div>
      <ErrorNotice error={diff.error} context="Could not compute the changes" />
      {diff.data ? (
        <p className="muted" data-testid="diff-summary">
          {diff.data.added.length} added · {diff.data.modified.length} modified · {diff.data.deleted.length} deleted (paths relative to /workspace)
        </p>
      ) : null}
      {diff.data && rows.length === 0 ? <p className="empty">No changes yet.</p> : null}
      {rows.length > 0 ? (
        <table className="table" data-testid="diff-table">
          <thead>
            <tr>
              <th scope="col">Change</th>
              <th scope="col" className="w-wide">
                Path
              </th>
              <th scope="col">Type</th>
              <th scope="col">Size</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={`${r.kind}:${r.path}`}>
                <td>
                  <Badge tone={TONE[r.kind]}>{r.kind}</Badge>
                </td>
                <td className="clip">
                  {r.kind !== 'deleted' && r.type === 'file' ? (
                    <button type="button" className="link mono" onClick={() => setOpen(r.path)} title={r.path}>
                      {r.path}
                    </button>
                  ) : (
                    <span className="mono" title={r.path}>
                      {r.path}
                    </span>
                  )}
                </td>
                <td>{r.type}</td>
                <td>{r.size}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {open !== undefined ? <FilePreview sandbox={sandbox} path={`/workspace/${open}`} size={undefined} onClose={() => setOpen(undefined)} /> : null}
    </div>
  );
}
