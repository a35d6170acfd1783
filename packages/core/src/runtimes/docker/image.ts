/**
 * Warden's base image: an empty skeleton of a root (mount points, the merged-
 * /usr symlinks as on the host, Warden's /etc files) onto which the driver
 * binds the host's /usr read-only, so a docker sandbox offers the same tools
 * as a bwrap one. Built locally on first use, never pulled.
 *
 * It is handed to the engine as a `docker save` archive (`POST /images/load`)
 * rather than a bare layer (`docker import`): import stamps the image config
 * with the current time, so two engines importing at once would make two
 * images and leave one dangling. Here the config is ours and fixed, the image
 * id is the sha256 of it, and any number of concurrent loads converge on the
 * one image: idempotent and race-free without a lock.
 */
import { createHash } from 'node:crypto';
import { SANDBOX_WORKSPACE } from '../driver.js';
import type { HostRootEntry } from '../bwrap/argv.js';
import { etcFiles } from '../bwrap/argv.js';
import { WardenError } from '@warden/protocol';
import type { DockerClient } from './client.js';

export const BASE_REPO = 'warden/base';

export type SkeletonEntry =
  | { readonly type: 'dir'; readonly path: string; readonly mode: number }
  | { readonly type: 'file'; readonly path: string; readonly mode: number; readonly content: string | Buffer }
  | { readonly type: 'symlink'; readonly path: string; readonly target: string };

/** What the base image holds: nothing but mount points, symlinks and Warden's /etc files. */
export function skeleton(hostRoot: readonly HostRootEntry[]): SkeletonEntry[] {
  const dirs: Array<[string, number]> = [
    ['usr', 0o755],
    ['etc', 0o755],
    ['tmp', 0o1777],
    [SANDBOX_WORKSPACE.slice(1), 0o755],
    ['.warden', 0o755],
    ['proc', 0o555],
    ['sys', 0o555],
    ['dev', 0o755],
  ];
  const out: SkeletonEntry[] = dirs.map(([path, mode]) => ({ type: 'dir', path, mode }));
  for (const e of hostRoot) out.push(e.symlinkTo === undefined ? { type: 'dir', path: e.name, mode: 0o755 } : { type: 'symlink', path: e.name, target: e.symlinkTo });
  const etc = etcFiles();
  for (const name of ['passwd', 'group', 'hosts'] as const) out.push({ type: 'file', path: `etc/${name}`, mode: 0o644, content: etc[name] });
  // Mount points of files Docker or the driver bind over.
  for (const name of ['resolv.conf', 'hostname']) out.push({ type: 'file', path: `etc/${name}`, mode: 0o644, content: '' });
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

const BLOCK = 512;

function octal(buf: Buffer, offset: number, width: number, value: number): void {
  // width-1 octal digits and a NUL, as ustar wants.
  buf.write(value.toString(8).padStart(width - 1, '0') + '\0', offset, width, 'ascii');
}

function header(name: string, mode: number, size: number, typeflag: '0' | '2' | '5', linkname = ''): Buffer {
  if (Buffer.byteLength(name) > 100 || Buffer.byteLength(linkname) > 100) throw new RangeError(`tar name too long: ${name}`);
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'utf8');
  octal(h, 100, 8, mode);
  octal(h, 108, 8, 0); // uid: root
  octal(h, 116, 8, 0); // gid: root
  octal(h, 124, 12, size);
  octal(h, 136, 12, 0); // mtime: fixed, so the content (and its hash) depends on nothing else
  h.write('        ', 148, 8, 'ascii'); // checksum is computed with its own field as spaces
  h.write(typeflag, 156, 1, 'ascii');
  h.write(linkname, 157, 100, 'utf8');
  h.write('ustar\0', 257, 6, 'ascii');
  h.write('00', 263, 2, 'ascii');
  h.write('root', 265, 32, 'ascii');
  h.write('root', 297, 32, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return h;
}

/** A deterministic ustar archive of the entries (same entries, same bytes). */
export function tarOf(entries: readonly SkeletonEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    switch (e.type) {
      case 'dir':
        parts.push(header(`${e.path}/`, e.mode, 0, '5'));
        break;
      case 'symlink':
        parts.push(header(e.path, 0o777, 0, '2', e.target));
        break;
      case 'file': {
        const data = typeof e.content === 'string' ? Buffer.from(e.content, 'utf8') : e.content;
        parts.push(header(e.path, e.mode, data.length, '0'), data, Buffer.alloc((BLOCK - (data.length % BLOCK)) % BLOCK));
        break;
      }
    }
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}

const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

export interface BaseImage {
  /** `sha256:<hex>`: what containers are made from (a tag could be moved by anyone with the socket). */
  readonly id: string;
  /** `warden/base:<first 16 hex digits of the id>`, for people reading `docker images`. */
  readonly ref: string;
  /** The `docker save` archive to load. */
  readonly archive: Buffer;
}

/** The base image for this host's layout, as a `docker load` archive with a fixed config (pure). */
export function baseImage(hostRoot: readonly HostRootEntry[]): BaseImage {
  const layer = tarOf(skeleton(hostRoot));
  const diffId = `sha256:${sha256(layer)}`;
  const epoch = '1970-01-01T00:00:00Z';
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      created: epoch,
      config: { WorkingDir: SANDBOX_WORKSPACE, Labels: { 'org.opencontainers.image.title': 'Warden base: mount points for the host /usr' } },
      rootfs: { type: 'layers', diff_ids: [diffId] },
      history: [{ created: epoch, created_by: 'warden', comment: 'skeleton root; /usr is bound from the host' }],
    }),
  );
  const hex = sha256(config);
  const ref = `${BASE_REPO}:${hex.slice(0, 16)}`;
  const manifest = JSON.stringify([{ Config: `${hex}.json`, RepoTags: [ref], Layers: [`${hex}/layer.tar`] }]);
  const archive = tarOf([
    { type: 'file', path: `${hex}.json`, mode: 0o644, content: config },
    { type: 'dir', path: hex, mode: 0o755 },
    { type: 'file', path: `${hex}/layer.tar`, mode: 0o644, content: layer },
    { type: 'file', path: 'manifest.json', mode: 0o644, content: manifest },
  ]);
  return { id: `sha256:${hex}`, ref, archive };
}

/**
 * Makes sure the base image for this host's layout is in the engine and
 * returns its id. Idempotent (an image already there is used as it is) and
 * safe to run from several processes at once (see the module comment).
 */
export async function ensureBaseImage(client: DockerClient, hostRoot: readonly HostRootEntry[]): Promise<string> {
  const img = baseImage(hostRoot);
  if ((await client.imageId(img.id)) === img.id) return img.id;
  await client.loadImage(img.archive);
  const got = await client.imageId(img.id);
  if (got !== img.id) throw new WardenError('E_SANDBOX_START_FAILED', `The Docker Engine loaded Warden's base image but does not show ${img.id} (${img.ref}). Check dockerd's log.`);
  return img.id;
}
