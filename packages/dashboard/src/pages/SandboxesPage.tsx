/** Your sandboxes: filtered, refreshed every few seconds, a page at a time; and a button to start a default one. */
import { useState, type JSX } from 'react';
import { Sandbox } from '@warden/sdk';
import type { SandboxView } from '@warden/protocol';
import { useApi } from '../api/connection.js';
import { usePoll } from '../hooks/usePoll.js';
import { hrefOf } from '../lib/route.js';
import { DEFAULT_FILTER, SandboxFilters, type SandboxFilter } from '../components/sandbox/SandboxFilters.js';
import { SandboxTable } from '../components/sandbox/SandboxTable.js';
import { ErrorNotice } from '../ui/ErrorNotice.js';
import { Section } from '../ui/Section.js';

const PAGE = 50;

function matches(s: SandboxView, text: string): boolean {
  if (text === '') return true;
  const t = text.toLowerCase();
  return [s.id, s.runtime, s.codebase?.name ?? ''].some((f) => f.toLowerCase().includes(t));
}

export function SandboxesPage(): JSX.Element {
  const api = useApi();
  const [filter, setFilter] = useState<SandboxFilter>(DEFAULT_FILTER);
  const [pages, setPages] = useState(1);
  const [creating, setCreating] = useState<{ busy: boolean; error?: unknown }>({ busy: false });

  // Reload every page shown so far, so states and new sandboxes appear without a click.
  const list = usePoll(
    async () => {
      const rows: SandboxView[] = [];
      let cursor: string | undefined;
      let more = false;
      for (let i = 0; i < pages; i++) {
        const page = await Sandbox.list({ ...api.conn, state: filter.state, ...(Object.keys(filter.metadata).length > 0 ? { metadata: filter.metadata } : {}), limit: PAGE, ...(cursor !== undefined ? { cursor } : {}) });
        rows.push(...page.sandboxes);
        cursor = page.nextCursor ?? undefined;
        more = page.nextCursor !== null;
        if (!more) break;
      }
      return { rows, more };
    },
    4000,
    [api, filter, pages],
  );

  const create = (): void => {
    setCreating({ busy: true });
    Sandbox.create({ ...api.conn, metadata: { createdBy: 'dashboard' } }).then(
      (s) => {
        setCreating({ busy: false });
        window.location.hash = hrefOf({ page: 'sandbox', id: s.id });
      },
      (error: unknown) => setCreating({ busy: false, error }),
    );
  };

  const rows = (list.data?.rows ?? []).filter((s) => matches(s, filter.text));
  return (
    <>
      <div className="page-head">
        <h1>Sandboxes</h1>
        {api.can('sandboxes:write') ? (
          <button type="button" className="primary" onClick={create} disabled={creating.busy}>
            {creating.busy ? 'Starting…' : 'New sandbox'}
          </button>
        ) : null}
      </div>
      <ErrorNotice error={creating.error} context="Could not start a sandbox" />
      <Section title="Filters">
        <SandboxFilters
          value={filter}
          onChange={(f) => {
            setFilter(f);
            setPages(1);
          }}
        />
      </Section>
      <Section title={`${rows.length} sandbox${rows.length === 1 ? '' : 'es'}`} id="sandbox-list" actions={<button type="button" onClick={list.refresh}>Refresh</button>}>
        <ErrorNotice error={list.error} context="Could not list sandboxes" />
        {list.data === undefined && list.loading ? <p role="status">Loading…</p> : <SandboxTable sandboxes={rows} />}
        {list.data?.more ? (
          <button type="button" onClick={() => setPages((p) => p + 1)}>
            Load more
          </button>
        ) : null}
      </Section>
    </>
  );
}
