/** Reattaches to a command (replayed from its start, then live) until it ends or the view closes. */
import { useEffect, useState, type JSX } from 'react';
import type { CommandResult, Sandbox } from '@warden/sdk';
import { appendOutput, EMPTY_OUTPUT, type Output } from '../../lib/output.js';
import { formatDuration, outcomeOf, succeeded } from '../../lib/format.js';
import { Badge } from '../../ui/Badge.js';
import { ErrorNotice } from '../../ui/ErrorNotice.js';
import { OutputView } from './OutputView.js';

export function CommandFollower({ sandbox, commandId }: { readonly sandbox: Sandbox; readonly commandId: string }): JSX.Element {
  const [output, setOutput] = useState<Output>(EMPTY_OUTPUT);
  const [result, setResult] = useState<CommandResult | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);

  useEffect(() => {
    const ctl = new AbortController();
    setOutput(EMPTY_OUTPUT);
    setResult(undefined);
    setError(undefined);
    const follow = async (): Promise<void> => {
      const handle = await sandbox.commands.connect(commandId, {
        signal: ctl.signal,
        onStdout: (s) => setOutput((o) => appendOutput(o, 'stdout', s)),
        onStderr: (s) => setOutput((o) => appendOutput(o, 'stderr', s)),
      });
      const r = await handle.wait();
      if (!ctl.signal.aborted) setResult(r);
    };
    follow().catch((err: unknown) => {
      if (!ctl.signal.aborted) setError(err);
    });
    return () => ctl.abort(); // stop following; the command itself keeps running
  }, [sandbox, commandId]);

  return (
    <div className="follower">
      <div className="run-status" role="status" aria-live="polite" data-testid="follow-status">
        {result ? (
          <span>
            <Badge tone={succeeded(result) ? 'good' : 'bad'}>{outcomeOf(result)}</Badge> after {formatDuration(result.durationMs)}
          </span>
        ) : error === undefined ? (
          <span>Following {commandId}…</span>
        ) : null}
      </div>
      <ErrorNotice error={error} context="Could not follow the command" />
      <OutputView output={output} label={`Output of ${commandId}`} />
    </div>
  );
}
