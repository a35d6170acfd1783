/** `warden codebase add|ls|show|rm`: the codebase store in the data directory. */
import { parseArgs } from 'node:util';
import { createEngine } from '@warden/core';
import { basename, resolve } from 'node:path';
import { printJson, UsageError } from '../output.js';

export const CODEBASE_USAGE = `usage: warden codebase add DIR|FILE.tar [--name NAME] [--json]
       warden codebase ls [--json]
       warden codebase show NAME [--version N] [--json]
       warden codebase rm NAME [--json]`;

export async function codebaseCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { name: { type: 'string' }, version: { type: 'string' }, json: { type: 'boolean' }, 'data-dir': { type: 'string' } },
  });
  const json = values.json ?? false;
  const target = positionals[0];
  if (!sub || !['add', 'ls', 'list', 'show', 'rm', 'delete'].includes(sub)) throw new UsageError(`warden codebase needs add, ls, show or rm.\n${CODEBASE_USAGE}`);
  if (sub !== 'ls' && sub !== 'list' && !target) throw new UsageError(`warden codebase ${sub} needs ${sub === 'add' ? 'a directory or tarball' : 'a codebase name'}.\n${CODEBASE_USAGE}`);
  const engine = await createEngine(values['data-dir'] === undefined ? {} : { dataDir: values['data-dir'] });
  try {
    switch (sub) {
      case 'add': {
        const path = resolve(target ?? '.');
        const source = /\.(tar|tgz|tar\.gz)$/.test(path) ? { tarball: path } : { dir: path };
        const name = values.name ?? basename(path).replace(/\.(tar|tgz|tar\.gz)$/, '').toLowerCase().replace(/[^a-z0-9._-]/g, '-');
        const m = await engine.codebases.add(source, { name });
        const files = m.entries.filter((e) => e.type === 'file');
        if (json) printJson({ codebase: m.codebase, version: m.version, files: files.length });
        else process.stdout.write(`${m.codebase} v${m.version}: ${files.length} files\n`);
        return 0;
      }
      case 'ls':
      case 'list': {
        const list = await engine.codebases.list();
        if (json) printJson(list);
        else for (const c of list) process.stdout.write(`${c.name}\tv${c.latest}\t${c.files} files\n`);
        return 0;
      }
      case 'show': {
        const m = await engine.codebases.show(target ?? '', values.version === undefined ? undefined : Number(values.version));
        if (json) printJson(m);
        else for (const e of m.entries) process.stdout.write(`${e.type === 'dir' ? 'd' : e.type === 'symlink' ? 'l' : '-'} ${e.path}${e.type === 'file' ? `\t${e.size}` : ''}\n`);
        return 0;
      }
      default: {
        await engine.codebases.delete(target ?? '');
        if (json) printJson({ deleted: target });
        else process.stdout.write(`deleted ${target}\n`);
        return 0;
      }
    }
  } finally {
    await engine.close();
  }
}
