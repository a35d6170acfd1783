/** The SDK's public surface is pinned, and its code uses no Node built-ins (it runs in browsers). */
import { readdir, readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import * as sdk from './index.js';

it('@warden/sdk exports exactly its public API', () => {
  expect(Object.keys(sdk).sort()).toEqual(['CodeContexts', 'CommandHandle', 'Commands', 'Files', 'Pty', 'PtyHandle', 'Sandbox', 'Session', 'Sessions', 'WardenClient', 'WardenError', 'hasCode', 'isWardenError']);
});

it('imports nothing from Node, the core or the server', async () => {
  const dir = new URL('.', import.meta.url);
  const files = (await readdir(dir)).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
  expect(files.length).toBeGreaterThan(5);
  for (const f of files) {
    const src = await readFile(new URL(f, dir), 'utf8');
    const imports = [...src.matchAll(/from '([^']+)'/g)].map((m) => m[1] ?? '');
    for (const i of imports) expect(i, `${f} imports ${i}`).toMatch(/^(\.\/|@warden\/protocol$)/);
    expect(src, f).not.toMatch(/\bBuffer\.|\bprocess\.(env|stdout)/);
  }
});
