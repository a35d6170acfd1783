/** Type a command line, press Enter, watch its output stream in. */
import { useId, useState, type FormEvent, type JSX } from 'react';
import type { Sandbox } from '@warden/sdk';
import { useCommandRun, type RunStatus } from '../../hooks/useCommandRun.js';
import { formatDuration, outcomeOf, succeeded } from '../../lib/format.js';
import { hrefOf } from '../../lib/route.js';
import { Badge } from '../../ui/Badge.js';
import { ErrorNotice, errorText } from '../../ui/ErrorNotice.js';
import { OutputView } from './OutputView.js';

function StatusLine({ status }: { readonly status: RunStatus }): JSX.Element | null {
  switch (status.kind) {
    case 'idle':
      return null;
    case 'running':
      return <span>Running…</span>;
    case 'waiting':
      return (
        <span>
          Held by the guard: waiting for a person to decide <a href={hrefOf({ page: 'approvals' })}>approval {status.approvalId}</a>…
        </span>
      );
    case 'done':
      return (
        <span>
          <Badge tone={succeeded(status.result) ? 'good' : 'bad'}>{outcomeOf(status.result)}</Badge> after {formatDuration(status.result.durationMs)}
        </span>
      );
    case 'refused':
      return (
        <span>
          <Badge tone="bad">refused</Badge> {errorText(status.error)}
        </span>
      );
    case 'stopped':
      return <span>Stopped (the command was ended).</span>;
    case 'failed':
      return <ErrorNotice error={status.error} context="The command could not run" />;
  }
}

export function CommandRunner({ sandbox }: { readonly sandbox: Sandbox | undefined }): JSX.Element {
  const [cmd, setCmd] = useState('');
  const { status, output, run, stop } = useCommandRun(sandbox);
  const inputId = useId();
  const busy = status.kind === 'running' || status.kind === 'waiting';

  const submit = (e: FormEvent): void => {
    e.preventDefault();
    if (cmd.trim() !== '' && !busy) run(cmd);
  };

  return (
    <div className="runner">
      <form className="run-form" onSubmit={submit}>
        <label htmlFor={inputId}>Command</label>
        <div className="run-row">
          <input id={inputId} className="mono grow" value={cmd} onChange={(e) => setCmd(e.target.value)} placeholder="ls -la /workspace" spellCheck={false} autoComplete="off" disabled={!sandbox} />
          {busy ? (
            <button type="button" className="danger" onClick={stop}>
              Stop
            </button>
          ) : (
            <button type="submit" className="primary" disabled={!sandbox || cmd.trim() === ''}>
              Run
            </button>
          )}
        </div>
        <p className="muted small">Runs with bash -c in /workspace, guarded like any API call. Enter runs it; Stop ends it.</p>
      </form>
      <div className="run-status" role="status" aria-live="polite" data-testid="run-status" data-state={status.kind}>
        <StatusLine status={status} />
      </div>
      {status.kind !== 'idle' ? <OutputView output={output} label="Command output" /> : null}
    </div>
  );
}
