// Builds the native agent and launcher from source. Idempotent: skips when the
// binaries are newer than their sources. Usage: node build.mjs [--force]
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
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

// Each binary and the files it is built from (headers included, for the staleness check).
const binaries = {
  agent: ['agent.c', 'fsops.c', 'fsops.h', 'relay.c', 'relay.h'],
  launch: ['launch.c'],
  // A shared object preloaded into gVisor sandboxes' programs (see the source), so not static.
  'gvisor-compat.so': ['gvisor-compat.c'],
};
const flagsOf = (name) => (name.endsWith('.so') ? [...flags.filter((f) => f !== '-static'), '-shared', '-fPIC'] : flags);

for (const [name, files] of Object.entries(binaries)) {
  const srcs = files.map((f) => join(here, 'src', f));
  const bin = join(out, `warden-${name}`);
  if (!force && srcs.every((s) => mtime(bin) > mtime(s))) continue;
  // Build beside it and rename into place: overwriting a binary that sandboxes are
  // executing fails with ETXTBSY (or corrupts it), and a failed build leaves the old one.
  const tmp = `${bin}.tmp-${process.pid}`;
  try {
    execFileSync(cc, [...flagsOf(name), '-o', tmp, ...srcs.filter((s) => s.endsWith('.c'))], { stdio: 'inherit' });
    execFileSync('strip', [tmp]);
    renameSync(tmp, bin);
  } finally {
    rmSync(tmp, { force: true });
  }
}
