/** The sandbox's running and recently finished commands (from any client), refreshed live; pick one to see its output. */
import { useState, type JSX } from 'react';
import type { Sandbox } from '@warden/sdk';
import { usePoll } from '../../hooks/usePoll.js';
import { useNow } from '../../hooks/useNow.js';
import { commandText, outcomeOf, succeeded } from '../../lib/format.js';
import { Badge } from '../../ui/Badge.js';
import { ErrorNotice } from '../../ui/ErrorNotice.js';
import { Time } from '../../ui/Time.js';
import { CommandFollower } from './CommandFollower.js';

export function CommandList({ sandbox }: { readonly sandbox: Sandbox }): JSX.Element {
  const now = useNow(5000);
  const [selected, setSelected] = useState<string | undefined>(undefined);
  const list = usePoll(async () => (await sandbox.commands.list()).slice().sort((a, b) => b.startedAt.localeCompare(a.startedAt)), 1500, [sandbox]);
  const commands = list.data ?? [];
  return (
    <div>
      <ErrorNotice error={list.error} context="Could not list commands" />
      {commands.length === 0 ? (
        <p className="empty">No commands yet.</p>
      ) : (
        <table className="table" data-testid="command-table">
          <thead>
            <tr>
              <th scope="col" className="w-wide">
                Command
              </th>
              <th scope="col">Started</th>
              <th scope="col">Outcome</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {commands.map((c) => (
              <tr key={c.id} aria-selected={selected === c.id} data-command-id={c.id}>
                <td className="mono clip" title={commandText(c.argv)}>
                  {commandText(c.argv)}
                </td>
                <td>
                  <Time iso={c.startedAt} now={now} />
                </td>
                <td>{c.result ? <Badge tone={succeeded(c.result) ? 'good' : 'bad'}>{outcomeOf(c.result)}</Badge> : <Badge tone="info">running</Badge>}</td>
                <td>
                  <button type="button" onClick={() => setSelected(selected === c.id ? undefined : c.id)} aria-expanded={selected === c.id}>
                    {selected === c.id ? 'Hide output' : 'Output'}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {selected !== undefined ? <CommandFollower key={selected} sandbox={sandbox} commandId={selected} /> : null}
    </div>
  );
}
