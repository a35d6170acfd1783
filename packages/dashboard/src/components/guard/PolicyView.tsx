/** The tenant's guard policy layer (YAML, as text). The server's own layer is configured on the host and always applies first. */
import type { JSX } from 'react';
import { useApi } from '../../api/connection.js';
import { usePoll } from '../../hooks/usePoll.js';
import { formatTime } from '../../lib/format.js';
import { ErrorNotice } from '../../ui/ErrorNotice.js';

export function PolicyView(): JSX.Element {
  const api = useApi();
  const policy = usePoll(() => api.client.guard.policy(), null, [api]);
  const p = policy.data;
  return (
    <div data-testid="policy-view">
      <ErrorNotice error={policy.error} context="Could not load the guard policy" />
      <p className="muted">
        Layers apply in order: the server&apos;s policy (set by the operator with <code>--guard-policy</code>; the shipped default unless changed), then your tenant&apos;s layer,
        then a sandbox&apos;s own <code>guardPolicy</code>. Each later layer can only add restrictions. Precedence within them: deny, then ask, then allow.
      </p>
      {p === undefined ? null : p.policy === null ? (
        <p>
          Tenant <strong>{p.tenant}</strong> has no policy layer of its own: the server&apos;s policy applies alone.
        </p>
      ) : (
        <>
          <p>
            Tenant <strong>{p.tenant}</strong>&apos;s layer{p.updatedAt !== null ? `, updated ${formatTime(p.updatedAt)}` : ''}:
          </p>
          <pre className="action yaml" tabIndex={0} aria-label="Tenant guard policy (YAML)">
            {p.policy}
          </pre>
        </>
      )}
    </div>
  );
}
