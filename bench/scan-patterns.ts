/**
 * Throughput of the pattern detector alone, per engine, on mixed data fed in
 * 64 KiB chunks like the scanner does. CPU time is reported next to wall time
 * (on a shared machine the CPU figure is the per-core one).
 *
 *   node --import tsx bench/scan-patterns.ts [MiB=256]
 *
 * Mixed data is 1 MiB slices, in turn: the node binary (ELF), TypeScript's
 * JavaScript, Python's standard library (text), random bytes and base64.
 * A second pass scans the same bytes cut into 16 KiB "files" (per-file cost).
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { patternsDetector } from '../packages/core/src/scan/patterns/index.js';
import { loadYaraX } from '../packages/core/src/scan/patterns/engines/yarax.js';
import type { EngineName } from '../packages/core/src/scan/patterns/engine.js';

const MIB = 1024 * 1024;
const CHUNK = 64 * 1024;
const total = Number(process.argv[2] ?? 256) * MIB;

function pythonText(): Buffer {
  const dir = '/usr/lib/python3.11';
  try {
    const files = readdirSync(dir).filter((f) => f.endsWith('.py'));
    return Buffer.concat(files.map((f) => readFileSync(join(dir, f))));
  } catch {
    return Buffer.from('def f(x):\n    return x + 1\n'.repeat(400_000));
  }
}

const sources = [
  readFileSync(process.execPath),
  readFileSync(createRequire(import.meta.url).resolve('typescript/lib/typescript.js')),
  pythonText(),
  randomBytes(8 * MIB),
  Buffer.from(randomBytes(6 * MIB).toString('base64')),
];
const data = Buffer.alloc(total);
for (let o = 0, i = 0; o < total; o += MIB, i++) {
  const src = sources[i % sources.length]!;
  const at = ((i * 7919 * 4096) % Math.max(1, src.length - MIB)) >>> 0;
  data.set(src.subarray(at, at + Math.min(MIB, total - o)), o);
}

const engines: EngineName[] = 'binding' in loadYaraX() ? ['js', 'yara-x'] : ['js'];
const ctx = { name: 'bench', depth: 0, scanMember: () => Promise.reject(new Error('unused')) };

for (const engine of engines) {
  const det = patternsDetector({ engine });
  for (const [label, fileBytes] of [
    ['one stream', total],
    ['16 KiB files', 16 * 1024],
  ] as const) {
    let best = { wall: 0, cpu: 0, findings: 0 };
    for (let rep = 0; rep < 3; rep++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      let findings = 0;
      for (let f = 0; f < total; f += fileBytes) {
        const file = data.subarray(f, f + fileBytes);
        const run = det.start({ ...ctx, size: file.length });
        for (let o = 0; o < file.length; o += CHUNK) run.update(file.subarray(o, o + CHUNK), o);
        findings += (run.finish({ contentType: 'unknown', bytes: file.length }) as { findings: unknown[] }).findings.length;
      }
      const c = process.cpuUsage(c0);
      const wall = total / MIB / ((performance.now() - t0) / 1000);
      const cpu = total / MIB / ((c.user + c.system) / 1e6);
      if (cpu > best.cpu) best = { wall, cpu, findings };
    }
    console.log(`${engine.padEnd(6)} ${label.padEnd(13)} ${best.cpu.toFixed(0).padStart(5)} MiB/s CPU  ${best.wall.toFixed(0).padStart(5)} MiB/s wall  (${total / MIB} MiB, ${best.findings} findings)`);
  }
}
