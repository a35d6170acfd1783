import type { JSX } from 'react';
import type { AuditEventView } from '@warden/protocol';
import { hrefOf } from '../../lib/route.js';
import { formatTime } from '../../lib/format.js';

/** Every field of one event, its details as JSON text, and its place in the hash chain. */
export function AuditDetail({ event: e, onClose }: { readonly event: AuditEventView; readonly onClose: () => void }): JSX.Element {
  const rows: Array<[string, string | JSX.Element]> = [
    ['Time', formatTime(e.ts)],
    ['Action', e.action],
    ['Actor', e.actor ?? '—'],
    ['Tenant', e.tenant ?? '—'],
    ['Sandbox', e.sandboxId !== null ? <a href={hrefOf({ page: 'sandbox', id: e.sandboxId })}>{e.sandboxId}</a> : '—'],
    ['Decision', e.decision ?? '—'],
    ['Rule ids', e.ruleIds.join(', ') || '—'],
    ['Risk', e.risk ?? '—'],
    ['Outcome', e.outcome ?? '—'],
    ['Duration', e.durationMs !== null ? `${e.durationMs} ms` : '—'],
    ['Input digest', e.inputDigest ?? '—'],
    ['Previous hash', e.prevHash],
    ['Hash', e.hash],
  ];
  return (
    <div className="detail" data-testid="audit-detail">
      <div className="preview-head">
        <h3>Event {e.seq}</h3>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
      <dl className="kv">
        {rows.map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd className="mono wrap">{v}</dd>
          </div>
        ))}
      </dl>
      {e.preview !== null ? (
        <>
          <h4>Preview</h4>
          <pre className="action" tabIndex={0}>
            {e.preview}
          </pre>
        </>
      ) : null}
      <h4>Details</h4>
      <pre className="action" tabIndex={0}>
        {JSON.stringify(e.details, null, 2)}
      </pre>
    </div>
  );
}
