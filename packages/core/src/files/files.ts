/**
 * `sandbox.files`: file operations inside a sandbox. Each one runs the agent
 * binary's `fs` helper in the sandbox as the sandbox's own user, so the kernel
 * enforces permissions and codebase levels, and every path — symlinks
 * included — resolves in the sandbox's mount namespace, never the host's.
 */
import { WardenError } from '@warden/protocol';
import { decodeEntry, decodeFlag } from './decode.js';
import { FsHelper, type FileChangeEvent, type FilesContext } from './helper.js';
import type { FileOp } from './errors.js';
import { helperProtocolError, JsonLines } from './lines.js';
import { checkBoolean, checkInt, checkSignal, opLimits, type OpLimits } from './options.js';
import { pathArg, sandboxPath } from './paths.js';
import { readStream } from './read.js';
import type { FileEntry, FileOpOptions, ListOptions, MoveOptions, WatchHandle, WatchOptions, WriteData } from './types.js';
import { watchPath } from './watch.js';
import { writeFile, writeSource } from './write.js';

const MAX_LIST_DEPTH = 4096;

export class SandboxFiles {
  readonly #ctx: FilesContext;

  constructor(ctx: FilesContext) {
    this.#ctx = ctx;
  }

  /**
   * Streams a regular file's bytes (symlinks to one are followed, inside the
   * sandbox). Nothing runs until you iterate; stopping early stops the read.
   * The host holds at most a few MiB of it at a time, however slowly you read.
   * `timeoutMs` bounds the whole read, your iterating included.
   * @example for await (const chunk of sbx.files.read('out.bin')) hash.update(chunk);
   */
  read(path: string, options?: FileOpOptions): AsyncIterable<Uint8Array> {
    const p = sandboxPath(path);
    const limits = this.#limits(options);
    const ctx = this.#ctx;
    return { [Symbol.asyncIterator]: () => readStream(ctx, p, limits) };
  }

  /** Reads a whole file into memory. @example const png = await sbx.files.readBytes('chart.png'); */
  async readBytes(path: string, options?: FileOpOptions): Promise<Buffer> {
    const chunks: Uint8Array[] = [];
    for await (const c of this.read(path, options)) chunks.push(c);
    return Buffer.concat(chunks);
  }

  /** Reads a whole file as UTF-8 text. @example const log = await sbx.files.readText('build.log'); */
  async readText(path: string, options?: FileOpOptions): Promise<string> {
    return (await this.readBytes(path, options)).toString('utf8');
  }

  /**
   * Writes a file atomically: the data goes to a temp file in the same
   * directory, which then replaces the path, so a reader never sees half a
   * file and a failed or aborted write leaves the old one. Missing parent
   * directories are created. A new file gets mode 0644, a replaced file
   * keeps its mode. A symlink at `path` is replaced, not written through.
   * Streams are sent with back-pressure (a few MiB in flight at most).
   * One exception: a file the sandbox may write in a directory it may not
   * change (a codebase directory that also holds read-only entries) is
   * rewritten in place, which is not atomic.
   * @example await sbx.files.write('data/in.csv', createReadStream('in.csv'));
   */
  async write(path: string, data: WriteData, options?: FileOpOptions): Promise<FileEntry> {
    const p = sandboxPath(path);
    const source = writeSource(data);
    return this.#change('file.write', p, options, writeFile(this.#ctx, p, source, this.#limits(options)), (e) => ({ size: e.size }));
  }

  /**
   * Lists a directory's entries (symlinks reported, not followed), sorted by
   * path. With `depth` > 1, entries of subdirectories too; unreadable
   * directories are listed but not entered.
   * @example const tree = await sbx.files.list('src', { depth: 3 });
   */
  async list(path: string, options: ListOptions = {}): Promise<FileEntry[]> {
    const p = sandboxPath(path);
    checkInt('depth', options.depth, 1, MAX_LIST_DEPTH);
    const entries = await this.#run('list', p, ['list', pathArg(p), String(options.depth ?? 1)], options, decodeEntry);
    return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /** The entry at `path` (a symlink is reported as itself). @example (await sbx.files.stat('a.txt')).size */
  async stat(path: string, options?: FileOpOptions): Promise<FileEntry> {
    const p = sandboxPath(path);
    return this.#one('stat', p, ['stat', pathArg(p)], options, decodeEntry);
  }

  /** Whether anything (a dangling symlink too) exists at `path`. @example if (await sbx.files.exists('out.json')) … */
  async exists(path: string, options?: FileOpOptions): Promise<boolean> {
    const p = sandboxPath(path);
    return this.#one('exists', p, ['exists', pathArg(p)], options, (v) => decodeFlag(v, 'exists'));
  }

  /** Creates a directory and its missing parents (0755); resolves to false if it already was one. @example await sbx.files.mkdir('out/img'); */
  async mkdir(path: string, options?: FileOpOptions): Promise<boolean> {
    const p = sandboxPath(path);
    return this.#change('file.mkdir', p, options, this.#one('mkdir', p, ['mkdir', pathArg(p)], options, (v) => decodeFlag(v, 'created')), (created) => ({ created }));
  }

  /**
   * Renames `src` to `dst` (which is the new path, not a directory to move
   * into). Refuses to replace an existing `dst` unless `overwrite` is set.
   * Works within one filesystem (`/workspace`, `/tmp`).
   * @example await sbx.files.move('draft.md', 'final.md', { overwrite: true });
   */
  async move(src: string, dst: string, options: MoveOptions = {}): Promise<FileEntry> {
    const from = sandboxPath(src, 'src');
    const to = sandboxPath(dst, 'dst');
    checkBoolean('overwrite', options.overwrite);
    const args = ['move', pathArg(from), pathArg(to), ...(options.overwrite === true ? ['overwrite'] : [])];
    return this.#change('file.move', `${from} -> ${to}`, options, this.#one('move', from, args, options, decodeEntry, to));
  }

  /**
   * Removes a file, a symlink (never what it points to) or a directory with
   * everything in it. Symlinks inside are removed, never followed.
   * @example await sbx.files.remove('build');
   */
  async remove(path: string, options?: FileOpOptions): Promise<void> {
    const p = sandboxPath(path);
    if (p === '/') throw new WardenError('E_INVALID_ARGUMENT', 'path must not be "/": remove what is inside it instead.');
    await this.#change('file.remove', p, options, this.#one('remove', p, ['remove', pathArg(p)], options, (v) => decodeFlag(v, 'removed')));
  }

  /**
   * Watches a file or directory for changes until closed. Resolves once the
   * watch is in place. Events: create, write, remove, rename, chmod (and
   * overflow when the kernel dropped some).
   * @example
   * await using w = await sbx.files.watch('src', { recursive: true, onEvent: (e) => console.log(e.type, e.path) });
   */
  async watch(path: string, options: WatchOptions & Pick<FileOpOptions, 'timeoutMs'>): Promise<WatchHandle> {
    const p = sandboxPath(path);
    if (typeof options !== 'object' || options === null || typeof options.onEvent !== 'function') {
      throw new WardenError('E_INVALID_ARGUMENT', 'watch needs options with an onEvent function, such as { onEvent: (e) => … }.');
    }
    if (options.onError !== undefined && typeof options.onError !== 'function') throw new WardenError('E_INVALID_ARGUMENT', 'onError must be a function.');
    checkBoolean('recursive', options.recursive);
    const limits = this.#limits(options);
    return watchPath(this.#ctx, p, {
      recursive: options.recursive === true,
      onEvent: options.onEvent,
      onError: options.onError,
      signal: checkSignal(options.signal),
      setupTimeoutMs: limits.timeoutMs ?? this.#ctx.defaultTimeoutMs,
    });
  }

  /** Awaits a change and puts it on record, whether it worked or not. */
  async #change<T>(action: FileChangeEvent['action'], path: string, options: FileOpOptions | undefined, op: Promise<T>, details?: (v: T) => Record<string, unknown>): Promise<T> {
    const t0 = performance.now();
    const record = (outcome: string, extra?: Record<string, unknown>): void =>
      this.#ctx.onChange?.({ action, ...(options?.actor ? { actor: options.actor } : {}), preview: path, outcome, durationMs: performance.now() - t0, ...(extra ? { details: extra } : {}) });
    try {
      const v = await op;
      record('ok', details?.(v));
      return v;
    } catch (err) {
      record(`error:${err instanceof WardenError ? err.code : 'unknown'}`);
      throw err;
    }
  }

  #limits(options: FileOpOptions | undefined): OpLimits {
    const limits = opLimits(options, this.#ctx.defaultTimeoutMs);
    this.#ctx.assertRunning();
    return limits;
  }

  /** Runs a helper whose answer is JSON lines, and decodes and collects them. */
  async #run<T>(op: FileOp, path: string, args: readonly string[], options: FileOpOptions | undefined, decode: (v: unknown) => T, dest?: string): Promise<T[]> {
    const values: T[] = [];
    const lines = new JsonLines((v) => values.push(decode(v)));
    const helper = new FsHelper(this.#ctx, {
      op,
      path,
      ...(dest === undefined ? {} : { dest }),
      args,
      stdin: false,
      ...this.#limits(options),
      onStdout: (d) => lines.push(d),
    });
    await helper.done;
    try {
      lines.end();
      if (op !== 'list' && values.length !== 1) throw helperProtocolError(`${values.length} answers to a ${op}`);
    } catch (err) {
      throw helper.fatal(err);
    }
    return values;
  }

  async #one<T>(op: FileOp, path: string, args: readonly string[], options: FileOpOptions | undefined, decode: (v: unknown) => T, dest?: string): Promise<T> {
    const [value] = await this.#run(op, path, args, options, decode, dest);
    return value as T;
  }
}
