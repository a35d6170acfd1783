/**
 * Codebases and policy. The API has no route that lists the codebase store
 * (operators manage it on the host with `warden codebase`), so this page
 * shows the codebases your sandboxes use, from their records; and the guard
 * policy that applies to your tenant, with a checker.
 */
import type { JSX } from 'react';
import { Sandbox } from '@warden/sdk';
import type { SandboxView } from '@warden/protocol';
import { useApi } from '../api/connection.js';
import { usePoll } from '../hooks/usePoll.js';
import { hrefOf } from '../lib/route.js';
import { GuardCheck } from '../components/guard/GuardCheck.js';
import { PolicyView } from '../components/guard/PolicyView.js';
import { ErrorNotice } from '../ui/ErrorNotice.js';
import { Section } from '../ui/Section.js';

/** Pages of sandbox records read to find codebases (100 each). */
const MAX_PAGES = 10;

interface CodebaseUse {
  readonly name: string;
  readonly version: number;
  readonly running: SandboxView[];
  readonly total: number;
}

function byCodebase(sandboxes: readonly SandboxView[]): CodebaseUse[] {
  const map = new Map<string, { name: string; version: number; running: SandboxView[]; total: number }>();
  for (const s of sandboxes) {
    if (!s.codebase) continue;
    const k = `${s.codebase.name}@${s.codebase.version}`;
    const u = map.get(k) ?? { name: s.codebase.name, version: s.codebase.version, running: [], total: 0 };
    u.total++;
    if (s.state === 'running') u.running.push(s);
    map.set(k, u);
  }
  return [...map.values()].sort((a, b) => a.name.localeCompare(b.name) || b.version - a.version);
}

export function CodebasesPage(): JSX.Element {
  const api = useApi();
  const uses = usePoll(
    async () => {
      const all: SandboxView[] = [];
      let cursor: string | undefined;
      for (let i = 0; i < MAX_PAGES; i++) {
        const page = await Sandbox.list({ ...api.conn, state: 'all', limit: 100, ...(cursor !== undefined ? { cursor } : {}) });
        all.push(...page.sandboxes);
        if (page.nextCursor === null) break;
        cursor = page.nextCursor;
      }
      return byCodebase(all);
    },
    10_000,
    [api],
  );

  return (
    <>
      <div className="page-head">
        <h1>Codebases &amp; policy</h1>
      </div>
      <Section title="Codebases in use">
        <p className="muted">
          Codebase versions your sandboxes were started from. The store itself is managed on the server host (<code>warden codebase add|ls|show|rm</code>); start a sandbox on one with{' '}
          <code>{"Sandbox.create({ codebase: { name } })"}</code>. A running sandbox&apos;s changes are on its Changes tab.
        </p>
        <ErrorNotice error={uses.error} context="Could not list sandboxes" />
        {uses.data !== undefined && uses.data.length === 0 ? <p className="empty">None of your sandboxes uses a codebase.</p> : null}
        {uses.data !== undefined && uses.data.length > 0 ? (
          <table className="table" data-testid="codebase-table">
            <thead>
              <tr>
                <th scope="col">Codebase</th>
                <th scope="col">Version</th>
                <th scope="col">Sandboxes</th>
                <th scope="col" className="w-wide">
                  Running now
                </th>
              </tr>
            </thead>
            <tbody>
              {uses.data.map((u) => (
                <tr key={`${u.name}@${u.version}`}>
                  <td className="mono">{u.name}</td>
                  <td>{u.version}</td>
                  <td>{u.total}</td>
                  <td className="wrap">
                    {u.running.length === 0
                      ? '—'
                      : u.running.map((s) => (
                          <a key={s.id} href={hrefOf({ page: 'sandbox', id: s.id })} className="mono tag">
                            {s.id}
                          </a>
                        ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </Section>
      <Section title="Guard policy">
        <PolicyView />
      </Section>
      <Section title="Check code against the guard">
        <GuardCheck />
      </Section>
    </>
  );
}
