/**
 * Throughput of the secrets and archive detectors, each alone, on generated
 * mixed data, fed in 1 MiB chunks like the scanner does by default.
 *
 *   node --import tsx bench/scan-secrets-archive.ts [MiB=256]
 *
 * Mixed data is 1 MiB slices, in turn: the node binary (ELF), TypeScript's own
 * JavaScript (source code), random bytes (like compressed data), base64 and
 * zeros. The archive detector is measured on that data (not an archive: it only
 * looks at the head) and on zip and tar.gz archives of it, with a scanMember
 * that reads every member byte (so the figure is spool + inflate + parse).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import { archiveDetector } from '../packages/core/src/scan/archive.js';
import { secretsDetector } from '../packages/core/src/scan/secrets.js';
import type { Detector, ScanContext, Verdict } from '../packages/core/src/scan/types.js';
import { tar, zip } from '../test/helpers/archives.js';

const MIB = 1024 * 1024;
const CHUNK = 1024 * 1024; // the scanner's default chunkBytes
const total = Number(process.argv[2] ?? 256) * MIB;

const sources: Record<string, Uint8Array> = {
  elf: readFileSync(process.execPath),
  js: readFileSync(createRequire(import.meta.url).resolve('typescript/lib/typescript.js')),
  random: randomBytes(8 * MIB),
  base64: Buffer.from(randomBytes(6 * MIB).toString('base64')),
  zeros: new Uint8Array(MIB),
};
const kinds = Object.keys(sources);

function slices(kind: string, bytes: number): Buffer {
  const src = sources[kind]!;
  const out = Buffer.alloc(bytes);
  for (let o = 0, at = 0; o < bytes; o += MIB, at = (at + MIB) % Math.max(1, src.length - MIB)) out.set(src.subarray(at, at + Math.min(MIB, bytes - o)), o);
  return out;
}

function mixed(bytes: number): Buffer {
  const out = Buffer.alloc(bytes);
  for (let o = 0, k = 0; o < bytes; o += MIB, k++) {
    const src = sources[kinds[k % kinds.length]!]!;
    const at = (Math.floor(k / kinds.length) * MIB) % Math.max(1, src.length - MIB);
    out.set(src.subarray(at, at + Math.min(MIB, bytes - o)), o);
  }
  return out;
}

async function drain(data: AsyncIterable<Uint8Array> | Uint8Array): Promise<number> {
  if (data instanceof Uint8Array) return data.length;
  let n = 0;
  for await (const c of data) n += c.length;
  return n;
}

async function measure(detector: Detector, data: Uint8Array, contentType: string): Promise<{ mibPerS: number; findings: number; memberBytes: number }> {
  let memberBytes = 0;
  const ctx: ScanContext = {
    name: 'bench.bin',
    depth: 0,
    scanMember: async (_name, member) => {
      memberBytes += await drain(member);
      return { level: 'clean', score: 0, confidence: 1, findings: [], explanation: '', detectors: [], bytes: 0, sha256: '', contentType: 'binary' } satisfies Verdict;
    },
  };
  let best = 0;
  let findings = 0;
  for (let round = 0; round < 3; round++) {
    memberBytes = 0;
    const t = performance.now();
    const run = detector.start(ctx);
    for (let o = 0; o < data.length; o += CHUNK) run.update(data.subarray(o, o + CHUNK), o);
    const r = await run.finish({ contentType, bytes: data.length });
    best = Math.max(best, data.length / MIB / ((performance.now() - t) / 1000));
    findings = r.findings.length;
  }
  return { mibPerS: best, findings, memberBytes };
}

const line = (what: string, r: { mibPerS: number; findings: number }, extra = ''): void => {
  process.stdout.write(`${what.padEnd(44)} ${r.mibPerS.toFixed(0).padStart(6)} MiB/s  ${String(r.findings).padStart(4)} findings${extra}\n`);
};

const data = mixed(total);
process.stdout.write(`${total / MIB} MiB mixed data (${kinds.join(', ')}), ${CHUNK / 1024} KiB chunks, best of 3\n`);
line('secrets, mixed', await measure(secretsDetector(), data, 'binary'));
for (const kind of kinds) line(`secrets, ${kind} only (64 MiB)`, await measure(secretsDetector(), slices(kind, 64 * MIB), 'binary'));
line('archive, mixed (not an archive)', await measure(archiveDetector(), data, 'binary'));

const members = Array.from({ length: total / (4 * MIB) }, (_, i) => ({ name: `m${i}.bin`, data: data.subarray(i * 4 * MIB, (i + 1) * 4 * MIB) }));
const zipped = zip(members, { level: 1 });
const z = await measure(archiveDetector(), zipped, 'zip');
line(`archive, zip of it (${(zipped.length / MIB).toFixed(0)} MiB, input rate)`, z, `, output ${(z.mibPerS * (z.memberBytes / zipped.length)).toFixed(0)} MiB/s`);
const tgz = gzipSync(tar(members), { level: 1 });
const t = await measure(archiveDetector(), tgz, 'gzip');
line(`archive, tar.gz of it (${(tgz.length / MIB).toFixed(0)} MiB, input rate)`, t, `, output ${(t.mibPerS * (t.memberBytes / tgz.length)).toFixed(0)} MiB/s`);
