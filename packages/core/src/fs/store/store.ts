/**
 * The codebase store: named codebases with immutable numbered versions,
 * their file contents kept once each as content-addressed blobs.
 *
 *   <root>/blobs/<aa>/<sha256>                 content, mode 0444
 *   <root>/codebases/<name>/versions/<n>.json  a Manifest, never rewritten
 *   <root>/codebases/<name>/meta.json          { name, createdAt }
 *   <root>/tmp/op-<pid>-<random>/              one per running operation
 *
 * A version exists once its manifest is linked into place: link(2) fails if
 * the number is taken, so two writers can never publish the same version,
 * and a failed add leaves nothing but blobs (which gc removes). Within one
 * process an RwLock keeps gc and delete from running alongside adds; the
 * store is meant to have a single owning process.
 */
import { execFile } from 'node:child_process';
import { copyFile, link, lstat, mkdir, mkdtemp, open, readdir, readFile, realpath, rename, rm, stat, chmod } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { WardenError } from '@warden/protocol';
import type { FileEntry, Manifest, ManifestEntry } from '../types.js';
import { BlobStore, type IngestOptions } from './blobs.js';
import { forEachLimit, RwLock, TimeSlicer } from './concurrency.js';
import { isFile, normaliseEntries, totals } from './entries.js';
import { errnoOf, sourceError, storeError } from './errors.js';
import { pidLiveness } from '../../host/processes.js';
import { assertCodebaseName, assertVersion } from './names.js';
import { checkMembers, extractTarball, listTarball } from './tarball.js';
import { walkTree, type SkippedEntry } from './walk.js';

export interface CodebaseStoreOptions {
  /** Files hashed and copied at once. Default: 16. */
  readonly concurrency?: number;
  /**
   * Flush new blobs to disk before a version that uses them is published
   * (fsync each when there are few, one syncfs of the store's filesystem when
   * there are many) and fsync every manifest, so a power loss cannot leave a
   * version pointing at lost content. Tests may turn it off. Default: true.
   */
  readonly durable?: boolean;
  /** Clock for `createdAt`. Default: `() => new Date()`. */
  readonly now?: () => Date;
}

/** Where a new version's files come from: a host directory, or a tar archive (compression detected by tar). */
export type CodebaseSource = { readonly dir: string } | { readonly tarball: string };

export interface AddOptions {
  /** Codebase name: `^[a-z0-9][a-z0-9._-]{0,63}$`. A new name gets version 1, an existing one its next version. */
  readonly name: string;
  /** Aborting stops reading and writing; no version is created. */
  readonly signal?: AbortSignal;
}

/** The new version's manifest, plus what a directory held that a codebase cannot. */
export interface AddResult extends Manifest {
  /** Sockets, fifos and devices found in a source directory and left out, sorted by path. Always empty for tarballs (they are refused instead). */
  readonly skipped: readonly SkippedEntry[];
}

export interface CodebaseSummary {
  readonly name: string;
  /** How many versions exist. */
  readonly versions: number;
  readonly latest: number;
  /** When version 1 was created (ISO 8601). */
  readonly createdAt: string;
  /** When the latest version was created (ISO 8601). */
  readonly updatedAt: string;
  /** Number of files in the latest version. */
  readonly files: number;
  /** Total size of the latest version's files, in bytes (before dedup). */
  readonly bytes: number;
}

export interface GcResult {
  readonly removedBlobs: number;
  /** Size of the removed blobs. Disk space returns only once no view tree hard-links them either. */
  readonly removedBytes: number;
  readonly keptBlobs: number;
}

export interface DeleteOptions {
  /**
   * How many sandboxes use the codebase: a count, or true/false. Anything but
   * 0/false refuses the delete with E_CODEBASE_IN_USE. Default: not in use.
   */
  readonly inUse?: (name: string) => boolean | number;
}

const VERSION_FILE = /^([1-9]\d{0,14})\.json$/;
const OP_DIR = /^op-(\d+)-/;
const DEFAULT_CONCURRENCY = 16;
/** Up to this many new blobs are fsynced one by one; more cost one syncfs. */
const FSYNC_EACH_MAX = 64;
const execFileAsync = promisify(execFile);

async function mkdirPrivate(path: string): Promise<void> {
  await mkdir(path, { mode: 0o700 }).catch((err: unknown) => {
    if (errnoOf(err) !== 'EEXIST') throw err;
  });
}

async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** syncfs(2) of the filesystem holding `path`, through coreutils (Node has no binding). */
async function syncFilesystem(path: string): Promise<void> {
  await execFileAsync('sync', ['-f', path], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
}

function listNames(names: readonly string[]): string {
  if (names.length === 0) return 'There are no codebases yet; add one first.';
  const shown = names.slice(0, 20).join(', ');
  return `Existing codebases: ${shown}${names.length > 20 ? ` and ${names.length - 20} more` : ''}.`;
}

function describeVersions(versions: readonly number[]): string {
  const first = versions[0]!;
  const last = versions.at(-1)!;
  return versions.length === last - first + 1 ? (first === last ? `only version ${first}` : `versions ${first} to ${last}`) : `versions ${versions.join(', ')}`;
}

export class CodebaseStore {
  /** Absolute path of the store's root directory. */
  readonly rootDir: string;
  readonly #blobs: BlobStore;
  readonly #codebases: string;
  readonly #tmp: string;
  readonly #lock = new RwLock();
  readonly #concurrency: number;
  readonly #durable: boolean;
  readonly #now: () => Date;
  /** Totals of manifests already read, by "name/version" (manifests are immutable; cleared on delete). */
  readonly #summaries = new Map<string, { files: number; bytes: number; createdAt: string }>();

  /** Use {@link openCodebaseStore}. */
  constructor(rootDir: string, options: CodebaseStoreOptions) {
    this.rootDir = rootDir;
    this.#blobs = new BlobStore(join(rootDir, 'blobs'));
    this.#codebases = join(rootDir, 'codebases');
    this.#tmp = join(rootDir, 'tmp');
    this.#concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
    this.#durable = options.durable ?? true;
    this.#now = options.now ?? (() => new Date());
  }

  /**
   * Adds a directory or tarball as version 1 of a new codebase or the next
   * version of an existing one.
   *
   * A directory is walked without following symlinks (a symlink is stored as
   * an entry with its target; the root itself may be a symlink). Sockets,
   * fifos and devices are left out and listed in `skipped`. Permission bits
   * are kept (setuid, setgid, sticky and owners are not). A tarball is
   * refused with E_CODEBASE_INVALID if any member is unsafe (absolute, `..`,
   * beneath a symlink member) or a device/fifo.
   *
   * @example
   * const v = await store.add({ dir: './my-app' }, { name: 'my-app' });
   * console.log(v.version, v.entries.length);
   */
  async add(source: CodebaseSource, options: AddOptions): Promise<AddResult> {
    assertCodebaseName(options?.name, 'options.name');
    const kind = checkSource(source);
    const signal = options.signal;
    return this.#lock.shared(() =>
      this.#withOpDir(async (op) => {
        let root: string;
        let label: (path: string) => string;
        if (kind === 'dir') {
          const dir = (source as { dir: string }).dir;
          root = await resolveSourceDir(dir);
          if (`${this.rootDir}/`.startsWith(`${root}/`) || root === '/') {
            // It would read its own temp files, and publish every other codebase's blobs in this one.
            throw new WardenError('E_CODEBASE_INVALID', `Source directory ${dir} contains the codebase store itself. Pass the project directory, not a parent of the data directory.`, {
              details: { problems: [`${dir}: contains the codebase store`] },
            });
          }
          label = (p) => (p === '.' ? `directory ${dir}` : `${JSON.stringify(p)} in directory ${dir}`);
        } else {
          const file = (source as { tarball: string }).tarball;
          root = await this.#extract(file, op, signal);
          label = (p) => (p === '.' ? `tarball ${file}` : `${JSON.stringify(p)} in tarball ${file}`);
        }
        const walked = await walkTree(root, { blobs: this.#blobs, tmpDir: op, concurrency: this.#concurrency, label, consume: kind === 'tarball', signal });
        signal?.throwIfAborted();
        const manifest = await this.#publish(options.name, walked.entries, op, walked.written);
        return { ...manifest, skipped: walked.skipped };
      }),
    );
  }

  /**
   * Creates the next version of `name` (version 1 if it does not exist) from
   * a full entry list, e.g. a sandbox's workspace after its changes. Entries
   * are validated and sorted; every entry's parent must be a dir entry. Each
   * file's content must be in the store already or in `blobsFrom` (sha256 →
   * host file), which is read with O_NOFOLLOW and must hash to the entry's
   * sha256 and size. Throws E_CODEBASE_INVALID otherwise; no version is made.
   */
  async addVersion(name: string, entries: readonly ManifestEntry[], blobsFrom: ReadonlyMap<string, string>, options: { readonly signal?: AbortSignal } = {}): Promise<Manifest> {
    assertCodebaseName(name);
    const canonical = normaliseEntries(entries);
    if (typeof (blobsFrom as Partial<ReadonlyMap<string, string>> | undefined)?.get !== 'function') {
      throw new WardenError('E_INVALID_ARGUMENT', 'blobsFrom must be a Map from sha256 to a host file path.', { details: { argument: 'blobsFrom' } });
    }
    const bySha = new Map<string, FileEntry>();
    for (const e of canonical) if (isFile(e) && !bySha.has(e.sha256)) bySha.set(e.sha256, e);
    return this.#lock.shared(() =>
      this.#withOpDir(async (op) => {
        const needed: FileEntry[] = [];
        const missing: string[] = [];
        const slicer = new TimeSlicer();
        for (const e of bySha.values()) {
          if (slicer.due()) await slicer.yield(options.signal);
          if (this.#blobs.has(e.sha256, e.size)) continue;
          if (blobsFrom.has(e.sha256)) needed.push(e);
          else missing.push(`${JSON.stringify(e.path)} (sha256 ${e.sha256}, ${e.size} bytes)`);
        }
        if (missing.length > 0) {
          throw new WardenError(
            'E_CODEBASE_INVALID',
            `The content of ${missing.length} file(s) is neither in the store nor in blobsFrom: ${missing.slice(0, 5).join('; ')}${missing.length > 5 ? '; …' : ''}. Pass a host file for each in blobsFrom.`,
            { details: { problems: missing.slice(0, 1000) } },
          );
        }
        const written: string[] = [];
        const large: FileEntry[] = [];
        const opts = (e: FileEntry): IngestOptions => ({ tmpDir: op, label: `the content of ${JSON.stringify(e.path)}`, expect: e });
        for (const e of needed) {
          if (slicer.due()) await slicer.yield(options.signal);
          const got = this.#blobs.ingestSmallSync(blobsFrom.get(e.sha256)!, opts(e));
          if (got === undefined) large.push(e);
          else if (got.written) written.push(got.sha256);
        }
        await forEachLimit(
          large,
          this.#concurrency,
          async (e) => {
            if ((await this.#blobs.ingest(blobsFrom.get(e.sha256)!, opts(e))).written) written.push(e.sha256);
          },
          options.signal,
        );
        options.signal?.throwIfAborted();
        return this.#publish(name, canonical, op, written);
      }),
    );
  }

  /** Every codebase with at least one version, sorted by name, with its latest version's totals. */
  async list(): Promise<CodebaseSummary[]> {
    return this.#lock.shared(async () => {
      const out: CodebaseSummary[] = [];
      for (const name of await this.#names()) {
        const versions = await this.#versions(name);
        if (versions.length === 0) continue;
        const latest = versions.at(-1)!;
        const last = await this.#summary(name, latest);
        const createdAt = (await this.#createdAt(name)) ?? (await this.#summary(name, versions[0]!)).createdAt;
        out.push({ name, versions: versions.length, latest, createdAt, updatedAt: last.createdAt, files: last.files, bytes: last.bytes });
      }
      return out;
    });
  }

  /** The version's manifest (the latest when `version` is omitted). E_CODEBASE_NOT_FOUND names what exists. */
  async show(name: string, version?: number): Promise<Manifest> {
    assertCodebaseName(name);
    if (version !== undefined) assertVersion(version);
    return this.#lock.shared(async () => {
      const v = await this.#resolveVersion(name, version);
      return this.#read(name, v);
    });
  }

  /** Version numbers of a codebase, ascending. E_CODEBASE_NOT_FOUND if it has none. */
  async versions(name: string): Promise<number[]> {
    assertCodebaseName(name);
    return this.#lock.shared(async () => {
      const versions = await this.#versions(name);
      if (versions.length === 0) throw await this.#notFound(name);
      return versions;
    });
  }

  /**
   * Deletes a codebase with all its versions, then garbage-collects blobs no
   * other manifest references (view trees that hard-link them keep working).
   * Refused with E_CODEBASE_IN_USE while `inUse` reports users.
   */
  async delete(name: string, options: DeleteOptions = {}): Promise<void> {
    assertCodebaseName(name);
    return this.#lock.exclusive(async () => {
      const versions = await this.#versions(name);
      if (versions.length === 0) throw await this.#notFound(name);
      const users = options.inUse?.(name) ?? false;
      if (users !== false && users !== 0) {
        const who = typeof users === 'number' ? `${users} sandbox${users === 1 ? '' : 'es'}` : 'running sandboxes';
        throw new WardenError('E_CODEBASE_IN_USE', `Codebase ${name} is used by ${who}; kill them first, then delete it again.`, {
          details: { codebase: name, ...(typeof users === 'number' ? { sandboxes: users } : {}) },
        });
      }
      await this.#withOpDir(async (op) => {
        // One rename takes the whole codebase away atomically; the op dir's cleanup deletes it.
        await rename(join(this.#codebases, name), join(op, 'deleted')).catch((err: unknown) => Promise.reject(storeError(`delete codebase ${name}`, err)));
      });
      for (const key of [...this.#summaries.keys()]) if (key.startsWith(`${name}/`)) this.#summaries.delete(key);
      await this.#gc();
    });
  }

  /** Removes blobs that no manifest references, and leftovers of crashed operations. */
  async gc(): Promise<GcResult> {
    return this.#lock.exclusive(() => this.#gc());
  }

  /**
   * Host path of a blob, for hard-linking into view trees (same filesystem as
   * `rootDir`). The file is read-only (0444) and must never be modified.
   */
  blobPath(sha256: string): string {
    return this.#blobs.path(sha256);
  }

  async #gc(): Promise<GcResult> {
    const keep = new Set<string>();
    const slicer = new TimeSlicer();
    for (const name of await this.#names()) {
      for (const v of await this.#versions(name)) {
        for (const e of (await this.#read(name, v)).entries) if (e.type === 'file') keep.add(e.sha256);
        if (slicer.due()) await slicer.yield();
      }
    }
    await sweepTmp(this.#tmp);
    return this.#blobs.collect(keep, slicer);
  }

  async #extract(file: string, op: string, signal: AbortSignal | undefined): Promise<string> {
    // Work on a private copy: the archive checked is the archive extracted, even if the original changes meanwhile.
    const copy = join(op, 'source.tar');
    try {
      const st = await stat(file);
      if (!st.isFile()) {
        throw new WardenError('E_CODEBASE_INVALID', `Tarball ${file} is not a regular file. Pass the path of a tar archive, or { dir } for a directory.`, {
          details: { problems: [`${file}: not a regular file`] },
        });
      }
      await copyFile(file, copy);
    } catch (err) {
      if (err instanceof WardenError) throw err;
      if (errnoOf(err) === 'ENOENT') {
        throw new WardenError('E_CODEBASE_INVALID', `Tarball ${file} does not exist. Check the path.`, { details: { problems: [`${file}: ENOENT`] }, cause: err });
      }
      throw sourceError(`tarball ${file}`, err);
    }
    const label = `tarball ${file}`;
    const members = await listTarball(copy, { label, signal });
    const problems = checkMembers(members);
    if (problems.length > 0) {
      throw new WardenError(
        'E_CODEBASE_INVALID',
        `Refusing ${label}: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}. Create the archive from inside the project (tar -cf app.tar -C app .) without device files.`,
        { details: { problems: problems.slice(0, 1000) } },
      );
    }
    const tree = join(op, 'tree');
    await mkdir(tree, { mode: 0o700 });
    await extractTarball(copy, tree, { label, signal });
    return tree;
  }

  async #publish(name: string, entries: readonly ManifestEntry[], op: string, written: readonly string[]): Promise<Manifest> {
    const dir = join(this.#codebases, name);
    const vdir = join(dir, 'versions');
    try {
      await mkdir(vdir, { recursive: true, mode: 0o700 });
      if (this.#durable) await this.#flushBlobs(written);
    } catch (err) {
      throw storeError(`prepare version of codebase ${name}`, err);
    }
    for (;;) {
      const version = ((await this.#versions(name)).at(-1) ?? 0) + 1;
      const manifest: Manifest = { codebase: name, version, createdAt: this.#now().toISOString(), entries };
      const tmp = join(op, `manifest-${version}.json`);
      try {
        const fh = await open(tmp, 'wx', 0o600);
        try {
          await fh.writeFile(JSON.stringify(manifest));
          await fh.chmod(0o444);
          if (this.#durable) await fh.datasync();
        } finally {
          await fh.close();
        }
        await link(tmp, join(vdir, `${version}.json`));
      } catch (err) {
        if (errnoOf(err) === 'EEXIST') continue; // another writer took this number
        throw storeError(`write version ${version} of codebase ${name}`, err);
      } finally {
        await rm(tmp, { force: true });
      }
      if (this.#durable) await fsyncPath(vdir).catch((err: unknown) => Promise.reject(storeError(`sync codebase ${name}`, err)));
      if (version === 1) {
        const meta = JSON.stringify({ name, createdAt: manifest.createdAt });
        await open(join(dir, 'meta.json'), 'wx', 0o600)
          .then(async (fh) => {
            try {
              await fh.writeFile(meta);
            } finally {
              await fh.close();
            }
          })
          .catch(() => undefined); // optional: list() falls back to version 1's manifest
      }
      this.#summaries.set(`${name}/${version}`, { ...totals(entries), createdAt: manifest.createdAt });
      return manifest;
    }
  }

  /**
   * Makes new blobs durable before a manifest can point at them: a few are
   * fsynced one by one (with their directories); many at once cost one
   * syncfs of the store's filesystem instead of thousands of fsyncs.
   */
  async #flushBlobs(written: readonly string[]): Promise<void> {
    if (written.length === 0) return;
    if (written.length > FSYNC_EACH_MAX) return syncFilesystem(this.rootDir);
    const paths = written.map((sha) => this.#blobs.path(sha));
    for (const p of paths) await fsyncPath(p);
    for (const d of new Set(paths.map((p) => dirname(p)))) await fsyncPath(d);
  }

  async #read(name: string, version: number): Promise<Manifest> {
    let text: string;
    try {
      text = await readFile(join(this.#codebases, name, 'versions', `${version}.json`), 'utf8');
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') throw await this.#notFound(name, version);
      throw storeError(`read version ${version} of codebase ${name}`, err);
    }
    const m = JSON.parse(text) as Manifest;
    if (m.codebase !== name || m.version !== version || !Array.isArray(m.entries)) {
      throw new WardenError('E_INTERNAL', `The manifest of ${name} version ${version} in the codebase store is corrupt. Restore it from a backup or delete the codebase.`);
    }
    if (!this.#summaries.has(`${name}/${version}`)) this.#summaries.set(`${name}/${version}`, { ...totals(m.entries), createdAt: m.createdAt });
    return m;
  }

  async #summary(name: string, version: number): Promise<{ files: number; bytes: number; createdAt: string }> {
    const cached = this.#summaries.get(`${name}/${version}`);
    if (cached !== undefined) return cached;
    await this.#read(name, version);
    return this.#summaries.get(`${name}/${version}`)!;
  }

  async #createdAt(name: string): Promise<string | undefined> {
    try {
      const meta = JSON.parse(await readFile(join(this.#codebases, name, 'meta.json'), 'utf8')) as { createdAt?: unknown };
      return typeof meta.createdAt === 'string' ? meta.createdAt : undefined;
    } catch {
      return undefined;
    }
  }

  async #resolveVersion(name: string, version: number | undefined): Promise<number> {
    const versions = await this.#versions(name);
    if (versions.length === 0) throw await this.#notFound(name);
    if (version === undefined) return versions.at(-1)!;
    if (!versions.includes(version)) throw await this.#notFound(name, version, versions);
    return version;
  }

  async #notFound(name: string, version?: number, known?: readonly number[]): Promise<WardenError> {
    const versions = known ?? (await this.#versions(name));
    if (version !== undefined && versions.length > 0) {
      return new WardenError('E_CODEBASE_NOT_FOUND', `Codebase ${name} has no version ${version}; it has ${describeVersions(versions)}. Omit the version for the latest (${versions.at(-1)}).`, {
        details: { codebase: name, version, versions: versions.slice(-1000) },
      });
    }
    const existing: string[] = [];
    for (const n of await this.#names()) if ((await this.#versions(n)).length > 0) existing.push(n);
    return new WardenError('E_CODEBASE_NOT_FOUND', `No codebase named ${name}. ${listNames(existing)}`, { details: { codebase: name, existing: existing.slice(0, 1000) } });
  }

  async #names(): Promise<string[]> {
    const names = await readdir(this.#codebases).catch((err: unknown) => Promise.reject(storeError('list codebases', err)));
    return names.filter((n) => /^[a-z0-9][a-z0-9._-]{0,63}$/.test(n)).sort();
  }

  async #versions(name: string): Promise<number[]> {
    let files: string[];
    try {
      files = await readdir(join(this.#codebases, name, 'versions'));
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return [];
      throw storeError(`list versions of codebase ${name}`, err);
    }
    const out: number[] = [];
    for (const f of files) {
      const m = VERSION_FILE.exec(f);
      if (m) out.push(Number(m[1]));
    }
    return out.sort((a, b) => a - b);
  }

  async #withOpDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
    const dir = await mkdtemp(join(this.#tmp, `op-${process.pid}-`)).catch((err: unknown) => Promise.reject(storeError('create a temp directory', err)));
    try {
      return await fn(dir);
    } finally {
      await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    }
  }
}

function checkSource(source: unknown): 'dir' | 'tarball' {
  const s = (typeof source === 'object' && source !== null ? source : {}) as Record<string, unknown>;
  const keys = Object.keys(s);
  if (keys.length === 1 && (keys[0] === 'dir' || keys[0] === 'tarball') && typeof s[keys[0]] === 'string' && s[keys[0]] !== '') return keys[0];
  throw new WardenError('E_INVALID_ARGUMENT', `source must be { dir: "<path>" } or { tarball: "<path>" }, got ${source === null ? 'null' : typeof source === 'object' ? `an object with keys [${keys.join(', ')}]` : typeof source}.`, {
    details: { argument: 'source' },
  });
}

async function resolveSourceDir(dir: string): Promise<string> {
  let real: string;
  try {
    real = await realpath(resolve(dir));
  } catch (err) {
    if (errnoOf(err) === 'ENOENT' || errnoOf(err) === 'ENOTDIR') {
      throw new WardenError('E_CODEBASE_INVALID', `Source directory ${dir} does not exist. Check the path (relative paths are resolved from ${process.cwd()}).`, {
        details: { problems: [`${dir}: ENOENT`] },
        cause: err,
      });
    }
    throw sourceError(`directory ${dir}`, err);
  }
  const st = await stat(real);
  if (!st.isDirectory()) {
    throw new WardenError('E_CODEBASE_INVALID', `Source ${dir} is not a directory. Pass { tarball: "${dir}" } for an archive, or the directory that holds the files.`, {
      details: { problems: [`${dir}: not a directory`] },
    });
  }
  return real;
}

/** Removes op dirs left by processes that no longer exist (crashes, kills). */
async function sweepTmp(tmp: string): Promise<void> {
  for (const name of await readdir(tmp)) {
    const pid = Number(OP_DIR.exec(name)?.[1] ?? NaN);
    if (!Number.isSafeInteger(pid) || pid === process.pid || pidLiveness(pid) === 'alive') continue;
    await rm(join(tmp, name), { recursive: true, force: true });
  }
}

/**
 * Opens (creating if needed) the codebase store at `rootDir`, e.g.
 * `<dataDir>/codebases`. The root is made mode 0700; an existing one must be
 * a real directory owned by the current user. Removes leftovers of crashed
 * operations.
 *
 * @example
 * const store = await openCodebaseStore('/var/lib/warden/codebases');
 * await store.add({ tarball: 'app.tar.gz' }, { name: 'app' });
 */
export async function openCodebaseStore(rootDir: string, options: CodebaseStoreOptions = {}): Promise<CodebaseStore> {
  const c = options.concurrency;
  if (c !== undefined && (!Number.isInteger(c) || c < 1 || c > 256)) {
    throw new WardenError('E_INVALID_ARGUMENT', `options.concurrency must be an integer from 1 to 256, got ${String(c)}.`, { details: { argument: 'concurrency' } });
  }
  const root = resolve(rootDir);
  try {
    await mkdir(dirname(root), { recursive: true });
    await mkdirPrivate(root);
  } catch (err) {
    throw storeError(`create the codebase store at ${root}`, err);
  }
  const st = await lstat(root);
  if (!st.isDirectory()) {
    throw new WardenError('E_INVALID_SPEC', `The codebase store ${root} is not a directory (a symlink or file is in the way). Remove it or choose another data directory.`);
  }
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) {
    throw new WardenError('E_INVALID_SPEC', `The codebase store ${root} is owned by uid ${st.uid}, not by this process (uid ${uid}). Fix its owner (chown -R ${uid} ${root}) or choose another data directory.`);
  }
  // Blobs are world-readable by design (views hard-link them); the root's 0700 is what keeps the store private.
  if ((st.mode & 0o077) !== 0) await chmod(root, 0o700);
  for (const sub of ['blobs', 'codebases', 'tmp']) await mkdirPrivate(join(root, sub));
  await sweepTmp(join(root, 'tmp'));
  return new CodebaseStore(root, options);
}

