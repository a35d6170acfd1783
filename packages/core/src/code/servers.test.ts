/** The interpreter servers ship inside the compiled JS: servers.ts embeds the source files verbatim. */
import { readFileSync, writeFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { JAVASCRIPT_SERVER, PYTHON_SERVER } from './servers.js';

const dir = new URL('./servers/', import.meta.url);
const tsUrl = new URL('./servers.ts', import.meta.url);

/** servers.ts is generated so the sources ship inside the compiled JS (tsc copies no .py or .js from src). */
function renderServersModule(python: string, javascript: string): string {
  return `/**
 * GENERATED from servers/python.py and servers/javascript.js by servers.test.ts; do not edit.
 * Edit the sources, then run:
 *   WARDEN_UPDATE_GENERATED=1 npx vitest run packages/core/src/code/servers.test.ts
 */

/** The Python interpreter server's source (servers/python.py). */
export const PYTHON_SERVER: string = ${JSON.stringify(python)};

/** The JavaScript interpreter server's source (servers/javascript.js). */
export const JAVASCRIPT_SERVER: string = ${JSON.stringify(javascript)};
`;
}

it('servers.ts embeds servers/python.py and servers/javascript.js verbatim (regenerate with WARDEN_UPDATE_GENERATED=1)', () => {
  const python = readFileSync(new URL('python.py', dir), 'utf8');
  const javascript = readFileSync(new URL('javascript.js', dir), 'utf8');
  const want = renderServersModule(python, javascript);
  if (process.env.WARDEN_UPDATE_GENERATED === '1') writeFileSync(tsUrl, want);
  expect(readFileSync(tsUrl, 'utf8')).toBe(want);
  expect(PYTHON_SERVER).toBe(python);
  expect(JAVASCRIPT_SERVER).toBe(javascript);
});
