/** One sandbox: its record, kill, and (while it runs) a terminal, its files and its changes. */
import { useEffect, useState, type JSX } from 'react';
import { Sandbox } from '@warden/sdk';
import { useApi } from '../api/connection.js';
import { usePoll } from '../hooks/usePoll.js';
import { hrefOf } from '../lib/route.js';
import { ChangesView } from '../components/sandbox/ChangesView.js';
import { CommandList } from '../components/sandbox/CommandList.js';
import { CommandRunner } from '../components/sandbox/CommandRunner.js';
import { FileBrowser } from '../components/sandbox/FileBrowser.js';
import { KillButton } from '../components/sandbox/KillButton.js';
import { SandboxSummary } from '../components/sandbox/SandboxSummary.js';
import { ErrorNotice } from '../ui/ErrorNotice.js';
import { Section } from '../ui/Section.js';
import { Tabs } from '../ui/Tabs.js';

type TabKey = 'terminal' | 'files' | 'changes';

export function SandboxPage({ id }: { readonly id: string }): JSX.Element {
  const api = useApi();
  const info = usePoll(() => Sandbox.info(id, api.conn), 3000, [api, id]);
  const running = info.data?.state === 'running';
  const [handle, setHandle] = useState<{ sandbox?: Sandbox; error?: unknown }>({});
  const [tab, setTab] = useState<TabKey>('terminal');

  useEffect(() => {
    if (!running) return setHandle({});
    let alive = true;
    Sandbox.connect(id, api.conn).then(
      (sandbox) => alive && setHandle({ sandbox }),
      (error: unknown) => alive && setHandle({ error }),
    );
    return () => {
      alive = false;
    };
  }, [api, id, running]);

  const sandbox = handle.sandbox;
  const tabs = [
    { key: 'terminal' as const, label: 'Terminal' },
    { key: 'files' as const, label: 'Files' },
    ...(info.data?.codebase ? [{ key: 'changes' as const, label: 'Changes' }] : []),
  ];

  return (
    <>
      <div className="page-head">
        <h1>
          Sandbox <span className="mono">{id}</span>
        </h1>
        <a href={hrefOf({ page: 'audit', sandboxId: id })}>Audit events</a>
        {running && api.can('sandboxes:write') ? (
          <KillButton
            onKill={async () => {
              await (sandbox ?? (await Sandbox.connect(id, api.conn))).kill();
              info.refresh();
            }}
          />
        ) : null}
      </div>
      <ErrorNotice error={info.error} context="Could not load the sandbox" />
      {info.data ? (
        <Section title="Overview">
          <SandboxSummary sandbox={info.data} />
        </Section>
      ) : info.loading ? (
        <p role="status">Loading…</p>
      ) : null}
      <ErrorNotice error={handle.error} context="Could not attach to the sandbox" />
      {info.data && !running ? <p className="notice notice-info">This sandbox has ended: its processes and files are gone. Its events remain in the audit log.</p> : null}
      {sandbox && running ? (
        <Section title="Work">
          <Tabs tabs={tabs} selected={tab} onSelect={setTab} label="Sandbox views">
            {tab === 'terminal' ? (
              <div className="terminal-grid">
                <div>
                  <h3>Run a command</h3>
                  <CommandRunner sandbox={sandbox} />
                </div>
                <div>
                  <h3>Commands</h3>
                  <CommandList sandbox={sandbox} />
                </div>
              </div>
            ) : null}
            {tab === 'files' ? <FileBrowser sandbox={sandbox} /> : null}
            {tab === 'changes' ? <ChangesView sandbox={sandbox} /> : null}
          </Tabs>
        </Section>
      ) : null}
    </>
  );
}
