/**
 * Cell output as the lines of the code interpreter's `/execute` stream, which
 * `@e2b/code-interpreter` parses one JSON object per line: stdout, stderr,
 * result, error, number_of_executions, end_of_execution. Pure.
 */
import type { CodeError, CodeResult } from '@warden/protocol';

export type ExecuteLine =
  | { readonly type: 'stdout' | 'stderr'; readonly text: string; readonly timestamp: string }
  | ({ readonly type: 'result'; readonly is_main_result: boolean } & Readonly<Record<string, unknown>>)
  | { readonly type: 'error'; readonly name: string; readonly value: string; readonly traceback: string }
  | { readonly type: 'number_of_executions'; readonly execution_count: number }
  | { readonly type: 'end_of_execution' };

export function outputLine(type: 'stdout' | 'stderr', text: string, at = new Date()): ExecuteLine {
  return { type, text, timestamp: at.toISOString() };
}

/**
 * A result with its representations as top-level keys, as E2B's server sends
 * them. Other MIME types (`extra`) become top-level keys too: the SDK collects
 * unknown keys into its own `extra` and ignores a key named `extra`. Like
 * E2B's server, the text of a string value loses its quotes (`'done'` → `done`).
 */
export function resultLine(r: CodeResult): ExecuteLine {
  const { isMainResult, extra, text, ...formats } = r;
  const reserved = new Set(['type', 'is_main_result', 'text', ...Object.keys(formats)]);
  const more = Object.fromEntries(Object.entries(extra ?? {}).filter(([k]) => !reserved.has(k)));
  const unquoted = text !== undefined && text.length >= 2 && text.startsWith("'") && text.endsWith("'") ? text.slice(1, -1) : text;
  return { type: 'result', is_main_result: isMainResult, ...more, ...formats, ...(unquoted !== undefined ? { text: unquoted } : {}) };
}

export function errorLine(e: CodeError): ExecuteLine {
  return { type: 'error', name: e.name, value: e.value, traceback: e.traceback };
}

/** E2B's languages, normalised as its server does (`js` is JavaScript); undefined for ones Warden has no interpreter for. */
export function normaliseLanguage(language: string | undefined): 'python' | 'javascript' | undefined {
  const l = (language ?? 'python').trim().toLowerCase();
  if (l === '' || l === 'python' || l === 'python3') return 'python';
  if (l === 'javascript' || l === 'js') return 'javascript';
  return undefined;
}
