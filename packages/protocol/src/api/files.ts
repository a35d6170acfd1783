/** Files over HTTP. Paths are inside the sandbox; relative ones start at /workspace. */
import { Type, type Static } from '@sinclair/typebox';

const Path = Type.String({ minLength: 1, maxLength: 4096, pattern: '^[^\\u0000]+$', expects: 'a path inside the sandbox without NUL bytes' });

export const PathQuery = Type.Object({ path: Path }, { additionalProperties: false });
export const ListQuery = Type.Object(
  { path: Path, depth: Type.Optional(Type.Integer({ minimum: 1, maximum: 64, default: 1 })) },
  { additionalProperties: false },
);
export const WatchQuery = Type.Object({ path: Path, recursive: Type.Optional(Type.Boolean({ default: false })) }, { additionalProperties: false });
export const MkdirBody = Type.Object({ path: Path }, { additionalProperties: false });
export const MoveBody = Type.Object({ from: Path, to: Path }, { additionalProperties: false });

export const FileEntry = Type.Object({
  name: Type.String(),
  path: Type.String(),
  type: Type.Union([Type.Literal('file'), Type.Literal('dir'), Type.Literal('symlink'), Type.Literal('other')]),
  size: Type.Integer(),
  mode: Type.Integer(),
  mtime: Type.String(),
  target: Type.Optional(Type.String()),
});
export type FileEntry = Static<typeof FileEntry>;
export const FileList = Type.Object({ entries: Type.Array(FileEntry) });
export const ExistsView = Type.Object({ exists: Type.Boolean() });
export const WatchEvent = Type.Object({
  type: Type.Union([Type.Literal('create'), Type.Literal('write'), Type.Literal('remove'), Type.Literal('rename'), Type.Literal('chmod'), Type.Literal('overflow')], { description: 'overflow: events were lost (the kernel queue overflowed, or the client read too slowly); rescan if you need an exact picture.' }),
  path: Type.String(),
});
export type WatchEvent = Static<typeof WatchEvent>;
