/**
 * What an engine writes into its state dir so that, if its process dies
 * without closing it (kill -9, OOM, power loss), another process can tell the
 * engine is dead and undo what it made: `engine.json` (owner, cgroups, uid
 * lock dir) and one `lent/<sandboxId>.json` per host directory lent to a
 * sandbox (so its owner can be given back).
 *
 * Files are written aside and renamed into place: a reader sees the whole
 * record or none. No fsync: a power loss also takes the processes, cgroups
 * and /run lock files with it, and a state dir without a record is handled
 * by age (see recover.ts).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { placesOf, type CgroupLayout } from '../limits/layout.js';
import { isProcessIdentity, type ProcessIdentity } from '../host/processes.js';

const RECORD_FILE = 'engine.json';
export const LENT_DIR = 'lent';
/** Engine ids as `newId('eng')` makes them; nothing else in <dataDir>/run is an engine. */
export const ENGINE_ID = /^eng_[a-z2-7]{12}$/;

export interface CgroupRoot {
  /** `<mount>/warden/<engineId>`. */
  readonly dir: string;
  readonly hierarchy: 'v1' | 'v2';
  /** This hierarchy can freeze the engine's processes (v1 freezer or any v2). */
  readonly freezer: boolean;
}

export interface EngineRecord {
  readonly version: 1;
  readonly engineId: string;
  readonly owner: ProcessIdentity;
  readonly createdAt: string;
  readonly cgroups: readonly CgroupRoot[];
  readonly uidLockDir: string;
}

export interface LentRecord {
  readonly sandboxId: string;
  readonly hostPath: string;
  /** The sandbox uid the directory was chowned to. */
  readonly uid: number;
  /** Who owned the directory before it was lent. */
  readonly owner: { readonly uid: number; readonly gid: number };
}

/** The engine-level cgroup dirs of `engineId`, one per hierarchy, as EngineCgroups makes them. */
export function engineCgroupRoots(layout: CgroupLayout, engineId: string): CgroupRoot[] {
  const byMount = new Map<string, CgroupRoot>();
  for (const [controller, p] of placesOf(layout)) {
    const prev = byMount.get(p.mount);
    const freezer = (prev?.freezer ?? false) || p.hierarchy === 'v2' || controller === 'freezer';
    byMount.set(p.mount, { dir: `${p.mount}/warden/${engineId}`, hierarchy: p.hierarchy, freezer });
  }
  return [...byMount.values()];
}

async function writeAtomically(path: string, value: unknown, mode: number): Promise<void> {
  const draft = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(draft, `${JSON.stringify(value, null, 2)}\n`, { mode });
  try {
    await rename(draft, path);
  } catch (err) {
    await rm(draft, { force: true });
    throw err;
  }
}

export function writeEngineRecord(stateDir: string, record: EngineRecord): Promise<void> {
  return writeAtomically(`${stateDir}/${RECORD_FILE}`, record, 0o600);
}

function isCgroupRoot(v: unknown, engineId: string): v is CgroupRoot {
  const o = v as Partial<Record<keyof CgroupRoot, unknown>> | null;
  return (
    typeof o === 'object' &&
    o !== null &&
    typeof o.dir === 'string' &&
    // Only ever an engine cgroup: a damaged record must not point recovery at anything else.
    o.dir.startsWith('/') &&
    o.dir.endsWith(`/warden/${engineId}`) &&
    !o.dir.split('/').includes('..') &&
    (o.hierarchy === 'v1' || o.hierarchy === 'v2') &&
    typeof o.freezer === 'boolean'
  );
}

/** The engine's record, or undefined when it is missing or not a valid record of `engineId`. */
export async function readEngineRecord(stateDir: string, engineId: string): Promise<EngineRecord | undefined> {
  let v: Partial<Record<keyof EngineRecord, unknown>>;
  try {
    v = JSON.parse(await readFile(`${stateDir}/${RECORD_FILE}`, 'utf8')) as typeof v;
  } catch {
    return undefined;
  }
  if (
    v.version !== 1 ||
    v.engineId !== engineId ||
    !isProcessIdentity(v.owner) ||
    typeof v.createdAt !== 'string' ||
    !Array.isArray(v.cgroups) ||
    !v.cgroups.every((c) => isCgroupRoot(c, engineId)) ||
    typeof v.uidLockDir !== 'string' ||
    !v.uidLockDir.startsWith('/')
  ) {
    return undefined;
  }
  return v as EngineRecord;
}

/** Records a lent directory before it is chowned, so a crash in between still gives it back. */
export async function writeLentRecord(stateDir: string, record: LentRecord): Promise<void> {
  await mkdir(`${stateDir}/${LENT_DIR}`, { recursive: true, mode: 0o700 });
  await writeAtomically(`${stateDir}/${LENT_DIR}/${record.sandboxId}.json`, record, 0o600);
}

export async function removeLentRecord(stateDir: string, sandboxId: string): Promise<void> {
  await rm(`${stateDir}/${LENT_DIR}/${sandboxId}.json`, { force: true });
}

export function parseLentRecord(text: string): LentRecord | undefined {
  try {
    const v = JSON.parse(text) as Partial<LentRecord> | null;
    const int = (n: unknown): boolean => Number.isSafeInteger(n) && (n as number) >= 0;
    if (
      typeof v?.sandboxId === 'string' &&
      typeof v.hostPath === 'string' &&
      v.hostPath.startsWith('/') &&
      int(v.uid) &&
      int(v.owner?.uid) &&
      int(v.owner?.gid)
    ) {
      return v as LentRecord;
    }
  } catch {
    // not JSON
  }
  return undefined;
}
