/**
 * Request messages of envd's Connect services (spec/envd/process/process.proto
 * and spec/envd/filesystem/filesystem.proto) in their JSON encoding. Proto3
 * leaves out fields at their default value (an empty path, depth 0, false),
 * so every scalar is optional here; unknown fields are ignored, as protobuf
 * readers do.
 */
import { Type } from '@sinclair/typebox';

const Uint32 = Type.Integer({ minimum: 0, maximum: 4_294_967_295 });
/** Proto `bytes`: base64, standard or URL-safe alphabet. */
const Bytes = Type.String({ pattern: '^[A-Za-z0-9+/_-]*={0,2}$', maxLength: 16 * 1024 * 1024, expects: 'base64 bytes' });
const Path = Type.Optional(Type.String({ maxLength: 4096 }));

export const ProcessSelector = Type.Object({ pid: Type.Optional(Uint32), tag: Type.Optional(Type.String({ maxLength: 1024 })) }, { expects: 'a process selector { pid } or { tag }' });

const PtySize = Type.Object({ cols: Type.Optional(Uint32), rows: Type.Optional(Uint32) });
const Pty = Type.Object({ size: Type.Optional(PtySize) });

export const StartRequest = Type.Object({
  process: Type.Object({
    cmd: Type.String({ minLength: 1, maxLength: 4096 }),
    args: Type.Optional(Type.Array(Type.String({ maxLength: 1_048_576 }), { maxItems: 65_536 })),
    envs: Type.Optional(Type.Record(Type.String(), Type.String())),
    cwd: Path,
  }),
  pty: Type.Optional(Pty),
  tag: Type.Optional(Type.String({ maxLength: 1024 })),
  stdin: Type.Optional(Type.Boolean()),
});

export const ConnectRequest = Type.Object({ process: ProcessSelector, replay: Type.Optional(Type.Boolean()) });
export const ListRequest = Type.Object({});
export const SendInputRequest = Type.Object({ process: ProcessSelector, input: Type.Object({ stdin: Type.Optional(Bytes), pty: Type.Optional(Bytes) }) });
export const SendSignalRequest = Type.Object({ process: ProcessSelector, signal: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Uint32])) });
export const CloseStdinRequest = Type.Object({ process: ProcessSelector });
export const UpdateRequest = Type.Object({ process: ProcessSelector, pty: Type.Optional(Pty) });

export const PathRequest = Type.Object({ path: Path });
export const MoveRequest = Type.Object({ source: Path, destination: Path });
export const ListDirRequest = Type.Object({ path: Path, depth: Type.Optional(Uint32) });
/** WatchDir and CreateWatcher; both JSON names of each field are read. */
export const WatchRequest = Type.Object({
  path: Path,
  recursive: Type.Optional(Type.Boolean()),
  includeEntry: Type.Optional(Type.Boolean()),
  include_entry: Type.Optional(Type.Boolean()),
  allowNetworkMounts: Type.Optional(Type.Boolean()),
  allow_network_mounts: Type.Optional(Type.Boolean()),
});
export const WatcherRequest = Type.Object({ watcherId: Type.Optional(Type.String({ maxLength: 64 })), watcher_id: Type.Optional(Type.String({ maxLength: 64 })) });
