/**
 * Runs a command line in a sandbox and streams its output into state. When
 * the guard holds it for a person, it keeps waiting on that approval (the
 * key that asked can never approve its own request: someone else decides on
 * the Approvals page), then streams the output once approved.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { hasCode, isWardenError, type CommandResult, type Sandbox } from '@warden/sdk';
import { appendOutput, EMPTY_OUTPUT, type Output } from '../lib/output.js';

export type RunStatus =
  | { readonly kind: 'idle' }
  | { readonly kind: 'running' }
  | { readonly kind: 'waiting'; readonly approvalId: string; readonly expiresAt: string | undefined }
  | { readonly kind: 'done'; readonly result: CommandResult }
  | { readonly kind: 'refused'; readonly error: unknown }
  | { readonly kind: 'stopped' }
  | { readonly kind: 'failed'; readonly error: unknown };

/** Longest wait on one approval per request; the server allows an hour. */
const MAX_WAIT_MS = 30 * 60_000;

function pendingApproval(err: unknown): { approvalId: string; expiresAt: string | undefined } | undefined {
  if (!hasCode(err, 'E_APPROVAL_PENDING') || !isWardenError(err)) return undefined;
  const { approvalId, expiresAt } = err.details;
  return typeof approvalId === 'string' ? { approvalId, expiresAt: typeof expiresAt === 'string' ? expiresAt : undefined } : undefined;
}

export function useCommandRun(sandbox: Sandbox | undefined): {
  readonly status: RunStatus;
  readonly output: Output;
  readonly run: (cmd: string) => void;
  readonly stop: () => void;
} {
  const [status, setStatus] = useState<RunStatus>({ kind: 'idle' });
  const [output, setOutput] = useState<Output>(EMPTY_OUTPUT);
  const ctl = useRef<AbortController | null>(null);
  useEffect(() => () => ctl.current?.abort(), []); // leaving the page hangs up, which ends a foreground command

  const run = useCallback(
    (cmd: string) => {
      if (!sandbox) return;
      ctl.current?.abort();
      const c = (ctl.current = new AbortController());
      setOutput(EMPTY_OUTPUT);
      const attempt = async (approval?: { approvalId: string; expiresAt: string | undefined }): Promise<void> => {
        setStatus(approval ? { kind: 'waiting', ...approval } : { kind: 'running' });
        const waitMs = approval?.expiresAt !== undefined ? Math.min(MAX_WAIT_MS, Math.max(1000, new Date(approval.expiresAt).getTime() - Date.now() + 1000)) : MAX_WAIT_MS;
        try {
          const result = await sandbox.commands.run(cmd, {
            signal: c.signal,
            onStdout: (s) => {
              setStatus((st) => (st.kind === 'waiting' ? { kind: 'running' } : st));
              setOutput((o) => appendOutput(o, 'stdout', s));
            },
            onStderr: (s) => {
              setStatus((st) => (st.kind === 'waiting' ? { kind: 'running' } : st));
              setOutput((o) => appendOutput(o, 'stderr', s));
            },
            ...(approval ? { approvalId: approval.approvalId, approvalWaitMs: waitMs } : {}),
          });
          if (!c.signal.aborted) setStatus({ kind: 'done', result });
        } catch (err) {
          if (c.signal.aborted) return setStatus({ kind: 'stopped' });
          const pending = pendingApproval(err);
          // Held for a person: wait on that approval (again, if a wait ran out before its expiry).
          if (pending && (!approval || (pending.expiresAt !== undefined && new Date(pending.expiresAt).getTime() > Date.now()))) return attempt(pending);
          setStatus(hasCode(err, 'E_GUARD_DENIED') || pending ? { kind: 'refused', error: err } : { kind: 'failed', error: err });
        }
      };
      void attempt();
    },
    [sandbox],
  );

  const stop = useCallback(() => ctl.current?.abort(), []);
  return { status, output, run, stop };
}
