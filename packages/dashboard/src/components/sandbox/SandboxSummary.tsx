import type { JSX } from 'react';
import type { SandboxView } from '@warden/protocol';
import { useNow } from '../../hooks/useNow.js';
import { formatBytes, formatDuration } from '../../lib/format.js';
import { Badge } from '../../ui/Badge.js';
import { Time } from '../../ui/Time.js';

/** A sandbox's record: state, runtime, lifetime, limits, codebase and metadata. */
export function SandboxSummary({ sandbox: s }: { readonly sandbox: SandboxView }): JSX.Element {
  const now = useNow(1000);
  const l = s.limits;
  return (
    <dl className="facts" data-testid="sandbox-summary">
      <div>
        <dt>State</dt>
        <dd>
          <Badge label="State">{s.state}</Badge>
          {s.closedReason !== null ? <span className="muted"> ({s.closedReason})</span> : null}
        </dd>
      </div>
      <div>
        <dt>Runtime</dt>
        <dd>{s.runtime}</dd>
      </div>
      <div>
        <dt>Created</dt>
        <dd>
          <Time iso={s.createdAt} />
        </dd>
      </div>
      <div>
        <dt>{s.endedAt !== null ? 'Ended' : 'Expires'}</dt>
        <dd>{s.endedAt !== null ? <Time iso={s.endedAt} /> : <Time iso={s.expiresAt} now={now} />}</dd>
      </div>
      <div>
        <dt>Codebase</dt>
        <dd>{s.codebase ? `${s.codebase.name} version ${s.codebase.version}` : 'none'}</dd>
      </div>
      <div>
        <dt>Limits</dt>
        <dd>
          {formatBytes(l.memoryMb * 1_048_576)} memory · {l.cpus} CPU · {l.pids} processes · {formatDuration(l.timeoutMs)} per command
        </dd>
      </div>
      <div className="span-all">
        <dt>Metadata</dt>
        <dd className="wrap">
          {Object.entries(s.metadata).length === 0
            ? 'none'
            : Object.entries(s.metadata).map(([k, v]) => (
                <span key={k} className="tag">
                  {k}={v}
                </span>
              ))}
        </dd>
      </div>
    </dl>
  );
}
