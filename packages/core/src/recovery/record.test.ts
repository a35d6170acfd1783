import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { currentProcess } from '../host/processes.js';
import { engineCgroupRoots, readEngineRecord, writeEngineRecord, type EngineRecord } from './record.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'warden-record-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ID = 'eng_abcdefghijkl';

it('plans one engine cgroup per hierarchy and knows which can freeze', () => {
  const v1 = { hierarchy: 'v1', mount: '/sys/fs/cgroup/' } as const;
  const layout = {
    memory: { ...v1, mount: '/cg/memory' },
    pids: { ...v1, mount: '/cg/pids' },
    cpu: { ...v1, mount: '/cg/cpu' },
    freezer: { ...v1, mount: '/cg/freezer' },
  };
  expect(engineCgroupRoots(layout, ID)).toEqual([
    { dir: `/cg/memory/warden/${ID}`, hierarchy: 'v1', freezer: false },
    { dir: `/cg/pids/warden/${ID}`, hierarchy: 'v1', freezer: false },
    { dir: `/cg/cpu/warden/${ID}`, hierarchy: 'v1', freezer: false },
    { dir: `/cg/freezer/warden/${ID}`, hierarchy: 'v1', freezer: true },
  ]);
  const v2 = { hierarchy: 'v2', mount: '/cg' } as const;
  expect(engineCgroupRoots({ memory: v2, pids: v2, cpu: v2, freezer: v2 }, ID)).toEqual([{ dir: `/cg/warden/${ID}`, hierarchy: 'v2', freezer: true }]);
});

it('reads back what it wrote, and nothing else', async () => {
  const record: EngineRecord = { version: 1, engineId: ID, owner: currentProcess(), createdAt: 'now', cgroups: [{ dir: `/cg/pids/warden/${ID}`, hierarchy: 'v1', freezer: false }], uidLockDir: '/run/warden/uids' };
  await writeEngineRecord(dir, record);
  expect(await readEngineRecord(dir, ID)).toEqual(record);
  expect(await readEngineRecord(dir, 'eng_otherotherot')).toBeUndefined(); // another engine's record
});

it.each([
  ['a cgroup outside the engine', { cgroups: [{ dir: '/sys/fs/cgroup/pids', hierarchy: 'v1', freezer: false }] }],
  ['a cgroup path climbing out', { cgroups: [{ dir: `/cg/../../warden/${ID}`, hierarchy: 'v1', freezer: false }] }],
  ['a relative lock dir', { uidLockDir: 'uids' }],
  ['no owner', { owner: undefined }],
  ['a future version', { version: 2 }],
])('rejects a record with %s', async (_name, change) => {
  const record = { version: 1, engineId: ID, owner: currentProcess(), createdAt: 'now', cgroups: [], uidLockDir: '/run/warden/uids', ...change };
  await writeFile(join(dir, 'engine.json'), JSON.stringify(record));
  expect(await readEngineRecord(dir, ID)).toBeUndefined();
});

it('rejects a record that is not JSON', async () => {
  await writeFile(join(dir, 'engine.json'), '{"version":1,');
  expect(await readEngineRecord(dir, ID)).toBeUndefined();
});
