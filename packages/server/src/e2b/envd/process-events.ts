/**
 * Warden command events as envd's ProcessEvent JSON. envd reports an exit the
 * way Go's os/exec does (`exit status 1`, `signal: killed`, exit code -1 after
 * a signal), and the SDK shows `error` as the message of CommandExitError.
 * Pure.
 */
import type { CommandEvent, ExecResult } from '@warden/protocol';
import { ConnectFailure } from '../errors.js';

export interface EndEventJson {
  readonly exitCode: number;
  readonly exited: boolean;
  readonly status: string;
  readonly error?: string;
}

/** Go's names for the signals a command is usually killed by (`signal: killed`). */
const GO_SIGNALS: Readonly<Record<string, string>> = {
  SIGKILL: 'killed',
  SIGTERM: 'terminated',
  SIGINT: 'interrupt',
  SIGHUP: 'hangup',
  SIGQUIT: 'quit',
  SIGABRT: 'aborted',
  SIGSEGV: 'segmentation fault',
  SIGPIPE: 'broken pipe',
  SIGBUS: 'bus error',
  SIGFPE: 'floating point exception',
  SIGILL: 'illegal instruction',
  SIGUSR1: 'user defined signal 1',
  SIGUSR2: 'user defined signal 2',
  SIGALRM: 'alarm clock',
  SIGXCPU: 'CPU time limit exceeded',
  SIGXFSZ: 'file size limit exceeded',
};

function killed(why: string): EndEventJson {
  return { exitCode: -1, exited: false, status: 'signal: killed', error: `signal: killed (${why})` };
}

/**
 * The end of a process, or the error its stream ends with instead: a process
 * killed at the caller's deadline ends its stream with deadline_exceeded (the
 * SDK's TimeoutError), one whose sandbox ended with unavailable.
 */
export function endOf(r: ExecResult, timeoutMs: number): EndEventJson | ConnectFailure {
  switch (r.reason) {
    case 'exited': {
      const code = r.exitCode ?? 0;
      return { exitCode: code, exited: true, status: `exit status ${code}`, ...(code === 0 ? {} : { error: `exit status ${code}` }) };
    }
    case 'signaled': {
      const name = r.signal ?? 'SIGKILL';
      const status = `signal: ${GO_SIGNALS[name] ?? name}`;
      return { exitCode: -1, exited: false, status, error: status };
    }
    case 'timeout':
      return new ConnectFailure('deadline_exceeded', `The process was killed at its deadline of ${timeoutMs} ms (the SDK's timeoutMs option; 0 for none).`);
    case 'sandbox-closed':
      return new ConnectFailure('unavailable', 'The sandbox ended while the process ran.');
    case 'oom':
      return killed('the sandbox ran out of memory');
    case 'output-limit':
      return killed("its output passed the sandbox's output cap (limits.maxOutputBytes)");
    case 'aborted':
      return killed('aborted');
  }
}

/** A process's output as envd's DataEvent: a terminal's output is `pty`, not stdout. */
export function dataOf(e: Extract<CommandEvent, { type: 'stdout' | 'stderr' }>, pty: boolean): { readonly data: Record<string, string> } {
  return { data: { [pty ? 'pty' : e.type]: e.data } };
}
