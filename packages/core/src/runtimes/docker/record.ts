/**
 * `<engine state dir>/docker/dockerd.json`: which Docker Engine an engine's
 * containers live in, written before the first one is made. Containers
 * outlive a crashed engine (dockerd owns them); crash recovery reads this to
 * remove them, by the engine-id label every one of them carries.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';

const RECORD_FILE = 'dockerd.json';

export interface DockerRecord {
  readonly socketPath: string;
}

export async function writeDockerRecord(dir: string, record: DockerRecord): Promise<void> {
  const draft = `${dir}/${RECORD_FILE}.tmp`;
  await writeFile(draft, `${JSON.stringify(record)}\n`, { mode: 0o600 });
  await rename(draft, `${dir}/${RECORD_FILE}`);
}

/** The record in `dir`, or undefined when there is none (the engine never started a docker sandbox) or it is not one. */
export async function readDockerRecord(dir: string): Promise<DockerRecord | undefined> {
  let v: unknown;
  try {
    v = JSON.parse(await readFile(`${dir}/${RECORD_FILE}`, 'utf8'));
  } catch {
    return undefined;
  }
  const socketPath = (v as { socketPath?: unknown } | null)?.socketPath;
  return typeof socketPath === 'string' && socketPath.startsWith('/') ? { socketPath } : undefined;
}
