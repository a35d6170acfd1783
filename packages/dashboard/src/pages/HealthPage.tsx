/** Server liveness and version, the key's identity, and the warm pools (admin). */
import type { JSX } from 'react';
import type { PoolView } from '@warden/protocol';
import { useApi } from '../api/connection.js';
import { usePoll } from '../hooks/usePoll.js';
import { formatDuration, formatTime } from '../lib/format.js';
import { Badge } from '../ui/Badge.js';
import { ErrorNotice } from '../ui/ErrorNotice.js';
import { Section } from '../ui/Section.js';

const percent = (r: number | null): string => (r === null ? '—' : `${Math.round(r * 100)}%`);

function PoolRow({ pool: p }: { readonly pool: PoolView }): JSX.Element {
  return (
    <tr>
      <td>{p.profile.runtime}</td>
      <td className="mono">{p.profile.hostname}</td>
      <td>
        {p.profile.limits.memoryMb} MiB · {p.profile.limits.cpus} CPU · {p.profile.limits.pids} pids
      </td>
      <td>{p.size}</td>
      <td>{p.idle}</td>
      <td>{p.starting}</td>
      <td>
        {p.hits} / {p.misses} ({percent(p.hitRate)})
      </td>
      <td>
        {p.discarded} / {p.evicted} / {p.failures}
      </td>
      <td className="wrap">{p.lastError ? `${p.lastError.code} at ${formatTime(p.lastError.at)}: ${p.lastError.message}` : <Badge tone="good">ok</Badge>}</td>
    </tr>
  );
}

export function HealthPage(): JSX.Element {
  const api = useApi();
  const admin = api.can('admin');
  const health = usePoll(async () => {
    const t0 = performance.now();
    const h = await api.client.health();
    return { ...h, latencyMs: performance.now() - t0 };
  }, 5000, [api]);
  const pools = usePoll(async () => (admin ? api.client.pools() : undefined), admin ? 3000 : null, [api, admin]);

  return (
    <>
      <div className="page-head">
        <h1>Pools &amp; health</h1>
      </div>
      <Section title="Server">
        <ErrorNotice error={health.error} context="The server did not answer /health" />
        {health.data ? (
          <dl className="facts" data-testid="health">
            <div>
              <dt>Status</dt>
              <dd>
                <Badge tone={health.data.ok ? 'good' : 'bad'}>{health.data.ok ? 'ok' : 'unhealthy'}</Badge>
              </dd>
            </div>
            <div>
              <dt>Version</dt>
              <dd>{health.data.version}</dd>
            </div>
            <div>
              <dt>Round trip</dt>
              <dd>{formatDuration(health.data.latencyMs)}</dd>
            </div>
            <div>
              <dt>Signed in as</dt>
              <dd>
                {api.who.keyId} (tenant {api.who.tenant})
              </dd>
            </div>
            <div className="span-all">
              <dt>Scopes</dt>
              <dd>{api.who.scopes.join(', ')}</dd>
            </div>
          </dl>
        ) : null}
        <p className="muted small">
          Runtime checks (bwrap, gVisor, Docker, cgroups) run on the host with <code>warden doctor</code>; the API does not expose them.
        </p>
      </Section>
      <Section title="Warm pools">
        {!admin ? (
          <p className="muted">Pool statistics need an admin key: the pools are shared by every tenant.</p>
        ) : (
          <>
            <ErrorNotice error={pools.error} context="Could not read the pools" />
            {pools.data ? (
              <>
                <p data-testid="pool-summary">
                  Hit rate {percent(pools.data.hitRate)} ({pools.data.hits} hits, {pools.data.misses} misses); {pools.data.unpooled} creates no pool serves (codebase sandboxes or other profiles).
                </p>
                {pools.data.pools.length === 0 ? (
                  <p className="empty">The server keeps no warm pool (started with --pool 0).</p>
                ) : (
                  <table className="table" data-testid="pool-table">
                    <thead>
                      <tr>
                        <th scope="col">Runtime</th>
                        <th scope="col">Hostname</th>
                        <th scope="col">Limits</th>
                        <th scope="col">Size</th>
                        <th scope="col">Idle</th>
                        <th scope="col">Starting</th>
                        <th scope="col">Hits / misses</th>
                        <th scope="col">Discarded / evicted / failed</th>
                        <th scope="col" className="w-wide">
                          Last error
                        </th>
                      </tr>
                    </thead>
                    <tbody>
                      {pools.data.pools.map((p, i) => (
                        <PoolRow key={i} pool={p} />
                      ))}
                    </tbody>
                  </table>
                )}
              </>
            ) : null}
          </>
        )}
      </Section>
    </>
  );
}
