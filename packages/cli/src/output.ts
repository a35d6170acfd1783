/** How the CLI reports: human text on a terminal, one JSON document with --json. */
import { isWardenError } from '@warden/protocol';

/**
 * Text someone else wrote (an agent's command, a reason), safe to print on a
 * terminal: control characters other than newline and tab are shown escaped
 * (`\x1b`, `\r`), so escape sequences cannot redraw what an approver sees.
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => {
    const named: Record<string, string> = { '\r': '\\r', '\b': '\\b', '\f': '\\f', '\v': '\\v' };
    return named[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Prints an error (typed errors with their code) and returns the exit code to use. */
export function reportError(err: unknown, json: boolean): number {
  if (isWardenError(err)) {
    if (json) printJson({ error: { code: err.code, message: err.message, details: err.details } });
    else process.stderr.write(`warden: ${err.message} [${err.code}]\n`);
    if (err.code === 'E_EXEC_FAILED') return 127;
    return err.code === 'E_INVALID_SPEC' || err.code === 'E_INVALID_ARGUMENT' ? 2 : 1;
  }
  const message = err instanceof Error ? err.message : String(err);
  if (json) printJson({ error: { code: 'E_INTERNAL', message } });
  else process.stderr.write(`warden: ${message}\n`);
  return 1;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}
