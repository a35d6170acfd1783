/** Error helpers shared by the store's modules. */
import { WardenError } from '@warden/protocol';

const WHY: Readonly<Record<string, string>> = {
  ENOENT: 'it disappeared while the codebase was being read',
  ELOOP: 'it was replaced by a symlink while the codebase was being read',
  ENOTDIR: 'a directory above it was replaced while the codebase was being read',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENAMETOOLONG: 'its path is too long',
};

/** A failure reading the source: the caller's to fix (E_CODEBASE_INVALID). `label` names it in codebase terms. */
export function sourceError(label: string, err: unknown): WardenError {
  const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
  return new WardenError('E_CODEBASE_INVALID', `Could not read ${label}: ${WHY[code] ?? code}. Make sure the source is readable and not changing, then add it again.`, {
    details: { problems: [`${label}: ${code}`] },
    cause: err,
  });
}

/** A failure writing the store itself: ours (E_INTERNAL, not exposed). */
export function storeError(what: string, err: unknown): WardenError {
  const code = (err as NodeJS.ErrnoException).code ?? String(err);
  return new WardenError('E_INTERNAL', `Could not ${what}: ${code}. Check free space and permissions of the codebase store.`, { cause: err });
}

export function errnoOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}
