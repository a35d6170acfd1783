/** The public surface is curated: this pins it, so a change is deliberate. */
import { expect, it } from 'vitest';
import * as core from './index.js';
import * as protocol from '@warden/protocol';

it('@warden/core exports exactly its public API', () => {
  expect(Object.keys(core).sort()).toEqual(['Sandbox', 'SandboxProcess', 'createEngine', 'doctor', 'newId', 'recoverDataDir']);
});

it('@warden/protocol exports exactly its public API', () => {
  expect(Object.keys(protocol).sort()).toEqual([
    'CommandEvent',
    'CommandParams',
    'CommandView',
    'CreateKeyBody',
    'CreateSandboxBody',
    'CreateSessionBody',
    'CreatedKey',
    'DiffView',
    'ERROR_CATALOGUE',
    'ERROR_CODES',
    'EnvMap',
    'ErrorBody',
    'EventsQuery',
    'ExecResult',
    'ExistsView',
    'ExitReason',
    'ExtendTimeoutBody',
    'FileEntry',
    'FileList',
    'KeyParams',
    'KeyView',
    'Level',
    'Limits',
    'ListQuery',
    'ListSandboxesQuery',
    'MkdirBody',
    'MoveBody',
    'PathQuery',
    'PolicyInput',
    'PolicyRule',
    'ResizeBody',
    'RunCommandBody',
    'RuntimeName',
    'SCOPES',
    'SandboxIdParams',
    'SandboxPage',
    'SandboxSpec',
    'SandboxView',
    'Scope',
    'SessionExitReason',
    'SessionParams',
    'SessionResult',
    'SessionRunBody',
    'SessionView',
    'SignalBody',
    'StdinBody',
    'WardenError',
    'WatchEvent',
    'WatchQuery',
    'WhoAmI',
    'hasCode',
    'isWardenError',
    'parseSandboxSpec',
    'parseWith',
  ]);
});
