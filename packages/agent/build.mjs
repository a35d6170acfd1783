// Builds the native agent and launcher from source. Idempotent: skips when the
// binaries are newer than their sources. Usage: node build.mjs [--force]
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'dist');
mkdirSync(out, { recursive: true });
const force = process.argv.includes('--force');
const cc = process.env.CC ?? 'cc';
const flags = ['-O2', '-std=c11', '-Wall', '-Wextra', '-Werror', '-static', '-D_FORTIFY_SOURCE=2'];

const mtime = (p) => {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return -1;
  }
};

for (const name of ['agent', 'launch']) {
  const src = join(here, 'src', `${name}.c`);
  const bin = join(out, `warden-${name}`);
  if (!force && mtime(bin) > mtime(src)) continue;
  execFileSync(cc, [...flags, '-o', bin, src], { stdio: 'inherit' });
  execFileSync('strip', [bin]);
}
