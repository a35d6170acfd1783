/**
 * Tarballs as codebase sources. GNU tar lists the archive first and the
 * store checks every member itself (absolute paths, `..`, paths through a
 * symlink member, hard links leaving the tree, device nodes and fifos); only
 * an archive that passes is extracted, as root but with --no-same-owner, into
 * a private directory. GNU tar's own refusals (it strips leading "/", skips
 * ".." members and defers dangerous symlinks) stay on as a second line.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { WardenError } from '@warden/protocol';
import { pathProblem } from './entries.js';

/** One member as `tar -tv` lists it, names decoded but not yet checked. */
export interface TarMember {
  /** GNU tar's type letter: '-' file, 'd' dir, 'l' symlink, 'h' hard link, 'c'/'b' devices, 'p' fifo, … */
  readonly type: string;
  readonly name: string;
  /** Symlink or hard-link target. */
  readonly link?: string;
}

const ESCAPES: Readonly<Record<string, number>> = { '\\': 0x5c, '"': 0x22, "'": 0x27, '?': 0x3f, a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11 };
const utf8 = new TextDecoder('utf-8', { fatal: true });

class ListingError extends Error {}

/**
 * Reads a string in GNU tar's `--quoting-style=c` form starting at the
 * opening quote `line[start]`: C escapes, non-ASCII bytes as octal. Returns
 * the decoded UTF-8 text and the index just after the closing quote.
 */
export function unquoteC(line: string, start: number): { text: string; end: number } {
  if (line[start] !== '"') throw new ListingError(`expected a quote at column ${start}`);
  const bytes: number[] = [];
  for (let i = start + 1; i < line.length; ) {
    const c = line[i]!;
    if (c === '"') {
      let text: string;
      try {
        text = utf8.decode(Uint8Array.from(bytes));
      } catch {
        throw new ListingError('a name is not valid UTF-8');
      }
      return { text, end: i + 1 };
    }
    if (c !== '\\') {
      for (const b of Buffer.from(c)) bytes.push(b);
      i++;
      continue;
    }
    const e = line[i + 1] ?? '';
    const oct = /^[0-7]{1,3}/.exec(line.slice(i + 1, i + 4));
    if (oct !== null) {
      bytes.push(parseInt(oct[0], 8) & 0xff);
      i += 1 + oct[0].length;
    } else if (e in ESCAPES) {
      bytes.push(ESCAPES[e]!);
      i += 2;
    } else {
      throw new ListingError(`unknown escape \\${e}`);
    }
  }
  throw new ListingError('unterminated quoted name');
}

/**
 * Parses one line of `LC_ALL=C tar -tv -P --numeric-owner --quoting-style=c`:
 * `hrw-r--r-- 0/0 0 2024-01-01 00:00 "name" link to "target"`. With numeric
 * owners and the C locale nothing before the name contains a quote.
 */
export function parseListingLine(line: string): TarMember {
  const type = line[0] ?? '';
  const q = line.indexOf('"');
  if (type === '' || q < 0) throw new ListingError(`unexpected listing line ${JSON.stringify(line.slice(0, 120))}`);
  const { text: name, end } = unquoteC(line, q);
  const rest = line.slice(end);
  if (rest === '') return { type, name };
  for (const sep of [' -> ', ' link to ']) {
    if (rest.startsWith(`${sep}"`)) return { type, name, link: unquoteC(line, end + sep.length).text };
  }
  // Other suffixes belong to exotic types (volume labels, multi-volume parts), which checkMembers refuses.
  return { type, name };
}

const KINDS: Readonly<Record<string, string>> = { c: 'a character device', b: 'a block device', p: 'a fifo', s: 'a socket', V: 'a volume label', M: 'a multi-volume continuation', D: 'a GNU dumpdir' };

/** A member name made relative and canonical, or a problem. `''` is the archive root ("./"). */
function normalise(name: string): { path: string } | { problem: string } {
  if (name.startsWith('/')) return { problem: 'is an absolute path' };
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) return { problem: 'has a ".." component' };
  const path = parts.join('/');
  if (path === '') return { path };
  const pp = pathProblem(path);
  return pp === undefined ? { path } : { problem: pp };
}

/**
 * Every reason the listed archive is unsafe or unsupported, one string per
 * member problem; empty when it may be extracted. Symlink targets are data
 * and may point anywhere, but no member may lie beneath a symlink member,
 * since extracting it would write through the link.
 */
export function checkMembers(members: readonly TarMember[]): string[] {
  const problems: string[] = [];
  const symlinks = new Set<string>();
  const paths: Array<{ m: TarMember; path: string; link?: string }> = [];
  for (const m of members) {
    const label = `member ${JSON.stringify(m.name)}`;
    if (!['-', 'C', 'd', 'l', 'h'].includes(m.type)) {
      problems.push(`${label} is ${KINDS[m.type] ?? `of unsupported type "${m.type}"`}; codebases hold only files, directories and symlinks`);
      continue;
    }
    const n = normalise(m.name);
    if ('problem' in n) {
      problems.push(`${label} ${n.problem}`);
      continue;
    }
    if (n.path === '' && m.type !== 'd') {
      problems.push(`${label} names the archive root but is not a directory`);
      continue;
    }
    let link: string | undefined;
    if (m.type === 'l') {
      if (m.link === undefined || m.link === '') problems.push(`${label} is a symlink without a target`);
      else symlinks.add(n.path);
    }
    if (m.type === 'h') {
      const t = normalise(m.link ?? '');
      if ('problem' in t) problems.push(`${label} is a hard link whose target ${JSON.stringify(m.link ?? '')} ${t.problem}`);
      else if (t.path === '') problems.push(`${label} is a hard link to the archive root`);
      else link = t.path;
    }
    paths.push({ m, path: n.path, ...(link === undefined ? {} : { link }) });
  }
  const throughSymlink = (path: string): string | undefined => {
    for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) {
      if (symlinks.has(path.slice(0, i))) return path.slice(0, i);
    }
    return undefined;
  };
  for (const { m, path, link } of paths) {
    const via = throughSymlink(path) ?? (link === undefined ? undefined : (symlinks.has(link) ? link : throughSymlink(link)));
    if (via !== undefined) problems.push(`member ${JSON.stringify(m.name)} would be written through symlink member ${JSON.stringify(via)}`);
  }
  return problems;
}

interface TarRun {
  readonly stderr: string;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Runs GNU tar (argv only, C locale, minimal env) in its own process group, killed as a group on abort. */
async function runTar(args: readonly string[], onLine: ((line: string) => void) | undefined, signal: AbortSignal | undefined): Promise<TarRun> {
  signal?.throwIfAborted();
  const child = spawn('tar', args, {
    stdio: ['ignore', onLine === undefined ? 'ignore' : 'pipe', 'pipe'],
    env: { LC_ALL: 'C', TZ: 'UTC', PATH: process.env.PATH ?? '/usr/bin:/bin' },
    detached: true,
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (s: string) => {
    if (stderr.length < 16_384) stderr += s;
  });
  let lineError: Error | undefined;
  const kill = (): void => {
    // tar may have a decompressor child: kill the whole group.
    if (child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  if (onLine !== undefined && child.stdout !== null) {
    const rl = createInterface({ input: child.stdout, crlfDelay: Infinity });
    rl.on('line', (line) => {
      if (lineError !== undefined) return;
      try {
        onLine(line);
      } catch (err) {
        lineError = err instanceof Error ? err : new Error(String(err));
        kill();
      }
    });
  }
  signal?.addEventListener('abort', kill, { once: true });
  try {
    const result = await new Promise<TarRun>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, sig) => resolve({ stderr, code, signal: sig }));
    });
    if (lineError !== undefined) throw lineError;
    signal?.throwIfAborted();
    return result;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && (err as NodeJS.ErrnoException).syscall?.startsWith('spawn') === true) {
      throw new WardenError('E_RUNTIME_UNAVAILABLE', 'Adding a tarball needs GNU tar, which is not installed on this host. Install it (apt-get install tar) or add the codebase from a directory.', { cause: err });
    }
    throw err;
  } finally {
    signal?.removeEventListener('abort', kill);
  }
}

/** Options of the tar calls: `label` names the archive in messages instead of the private copy's host path. */
export interface TarOptions {
  readonly label: string;
  readonly signal?: AbortSignal;
}

function tarFailed(hide: readonly string[], label: string, action: string, run: TarRun): WardenError {
  let text = run.stderr;
  for (const h of hide) text = text.split(h).join(label);
  const lines = text.split('\n').filter((l) => l.trim() !== '').slice(0, 5);
  const why = lines.length > 0 ? lines.join('; ') : `tar ${run.code === null ? `was killed by ${run.signal ?? 'a signal'}` : `exited with status ${run.code}`}`;
  return new WardenError('E_CODEBASE_INVALID', `Could not ${action} ${label}: ${why}. Check that it is a complete tar archive (optionally gzip, bzip2, xz or zstd compressed).`, {
    details: { problems: lines },
  });
}

/** Lists an archive's members (tar auto-detects compression). Throws E_CODEBASE_INVALID if tar cannot read it. */
export async function listTarball(file: string, opts: TarOptions): Promise<TarMember[]> {
  const members: TarMember[] = [];
  // -P: show names exactly as stored; without it tar hides "../" and "/" prefixes from the listing.
  const args = ['-t', '-v', '-P', '--numeric-owner', '--quoting-style=c', '--force-local', '-f', file];
  let run: TarRun;
  try {
    run = await runTar(args, (line) => void members.push(parseListingLine(line)), opts.signal);
  } catch (err) {
    if (err instanceof ListingError) {
      throw new WardenError('E_CODEBASE_INVALID', `Could not read the member list of ${opts.label}: ${err.message}. Codebase paths must be UTF-8; re-create the archive with GNU tar.`, {
        details: { problems: [err.message] },
      });
    }
    throw err;
  }
  if (run.code !== 0) throw tarFailed([file], opts.label, 'read', run);
  return members;
}

/**
 * Extracts into `dest` (which must exist and be private). Owners are not
 * restored (--no-same-owner); permission bits are (--same-permissions), and
 * the store masks them afterwards. --force-local: a ":" in the path is not a
 * remote host.
 */
export async function extractTarball(file: string, dest: string, opts: TarOptions): Promise<void> {
  const args = ['-x', '--no-same-owner', '--same-permissions', '--force-local', '-f', file, '-C', dest];
  const run = await runTar(args, undefined, opts.signal);
  if (run.code !== 0) throw tarFailed([file, dest], opts.label, 'extract', run);
}
