/**
 * The dashboard's built files (packages/dashboard/dist), read once at start-up
 * into memory: a few hundred KiB, and a request can then only ever name a file
 * that is in the map (no path from a URL ever reaches the filesystem).
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Asset {
  readonly body: Buffer;
  readonly contentType: string;
  /** A strong validator: the sha256 of the body. */
  readonly etag: string;
  /** Vite names files under assets/ by their content hash, so they never change: cache them for a year. */
  readonly immutable: boolean;
}

export type DashboardAssets =
  | { readonly state: 'ready'; readonly dir: string; readonly files: ReadonlyMap<string, Asset> }
  | { readonly state: 'missing'; readonly dir: string; readonly reason: string };

/** Where `npm run build` puts the dashboard, relative to this module in src/ or dist/. */
export function defaultDashboardDir(): string {
  return fileURLToPath(new URL('../../../dashboard/dist/', import.meta.url));
}

const TYPES: Readonly<Record<string, string>> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  mjs: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  json: 'application/json; charset=utf-8',
  map: 'application/json; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  ico: 'image/x-icon',
  woff2: 'font/woff2',
  txt: 'text/plain; charset=utf-8',
};

/** The Content-Type for a file name; unknown kinds are opaque bytes (and nosniff keeps them so). */
export function contentTypeOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return (dot >= 0 ? TYPES[name.slice(dot + 1).toLowerCase()] : undefined) ?? 'application/octet-stream';
}

/** Reads every file under `dir`, keyed by its path relative to it with `/` separators (`index.html`, `assets/index-abc.js`). */
export async function loadDashboard(dir: string): Promise<DashboardAssets> {
  let names: string[];
  try {
    names = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((d) => d.isFile()).map((d) => relative(dir, join(d.parentPath, d.name)));
  } catch (err) {
    return { state: 'missing', dir, reason: (err as NodeJS.ErrnoException).code ?? (err as Error).message };
  }
  if (!names.includes('index.html')) return { state: 'missing', dir, reason: 'no index.html' };
  const files = new Map<string, Asset>();
  for (const name of names) {
    const body = await readFile(join(dir, name));
    const key = name.split(sep).join('/');
    files.set(key, { body, contentType: contentTypeOf(key), etag: `"${createHash('sha256').update(body).digest('base64url')}"`, immutable: key.startsWith('assets/') });
  }
  return { state: 'ready', dir, files };
}
