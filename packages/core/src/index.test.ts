/** The public surface is curated: this pins it, so a change is deliberate. */
import { expect, it } from 'vitest';
import * as core from './index.js';
import * as protocol from '@warden/protocol';

it('@warden/core exports exactly its public API', () => {
  expect(Object.keys(core).sort()).toEqual(['Sandbox', 'SandboxProcess', 'createEngine', 'doctor']);
});

it('@warden/protocol exports exactly its public API', () => {
  expect(Object.keys(protocol).sort()).toEqual([
    'ERROR_CATALOGUE',
    'ERROR_CODES',
    'EnvMap',
    'ExecResult',
    'ExitReason',
    'Level',
    'Limits',
    'PolicyInput',
    'PolicyRule',
    'RuntimeName',
    'SandboxSpec',
    'WardenError',
    'hasCode',
    'isWardenError',
    'parseSandboxSpec',
    'parseWith',
  ]);
});
