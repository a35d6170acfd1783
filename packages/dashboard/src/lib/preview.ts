/** What the file viewer shows for a file's bytes: text, or a note that it is binary. */

export type Preview = { readonly kind: 'text'; readonly text: string; readonly truncated: boolean } | { readonly kind: 'binary'; readonly size: number };

/** Files larger than this are not fetched for a preview. */
export const MAX_PREVIEW_BYTES = 1_048_576;

/** Text when the bytes have no NUL in the first 8 KiB (as git decides), decoded as UTF-8 with replacement characters. */
export function previewOf(bytes: Uint8Array, maxBytes = MAX_PREVIEW_BYTES): Preview {
  if (bytes.subarray(0, 8192).includes(0)) return { kind: 'binary', size: bytes.length };
  const truncated = bytes.length > maxBytes;
  return { kind: 'text', text: new TextDecoder('utf-8', { fatal: false }).decode(truncated ? bytes.subarray(0, maxBytes) : bytes), truncated };
}

/** The parent of an absolute sandbox path (`/` stays `/`). */
export function parentOf(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  const i = trimmed.lastIndexOf('/');
  return i <= 0 ? '/' : trimmed.slice(0, i);
}

/** A path typed into the path field: absolute and without trailing slashes; relative paths start at /workspace. */
export function normalizePath(input: string): string {
  const p = input.trim();
  if (p === '') return '/workspace';
  const abs = p.startsWith('/') ? p : `/workspace/${p}`;
  return abs.length > 1 ? abs.replace(/\/+$/, '') || '/' : abs;
}
