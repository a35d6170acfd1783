import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasCode } from '@warden/protocol';
import { tar, zip, type ZipMember } from '../../../../test/helpers/archives.js';
import { archiveDetector, type ArchiveOptions } from './archive.js';
import { Spool } from './archive/spool.js';
import { defaultDetectors } from './detectors.js';
import { createScanner } from './scanner.js';
import { secretsDetector } from './secrets.js';
import type { Detector, Finding, MemberInfo, ScanContext, Verdict } from './types.js';

const MIB = 1024 * 1024;
const ascii = (s: string): Buffer => Buffer.from(s, 'latin1');
const token = `ghp_${'aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kM5'.split('').reverse().join('')}`;
const creds = ascii(`GITHUB_TOKEN=${token}\n`);

interface Seen {
  readonly name: string;
  readonly depth: number;
  readonly bytes: number;
  readonly info: MemberInfo | undefined;
}

interface Result {
  readonly ran: boolean;
  /** The archive detector's findings plus members' findings with their member path, as the scanner would report them. */
  readonly findings: readonly Finding[];
  /** Every member scanMember was asked for. */
  readonly members: Seen[];
  readonly ms: number;
}

/**
 * A stand-in for the scanner: runs the archive detector (one instance, as the
 * scanner would) and the secrets detector on the file and, through
 * scanMember, on every member, re-rooting member findings like the scanner.
 */
function harness(options: ArchiveOptions = {}): (bytes: Uint8Array, o?: { name?: string; chunk?: number; replaceMember?: (name: string) => Uint8Array | undefined }) => Promise<Result> {
  const archive = archiveDetector(options);
  const detectors: Detector[] = [archive, secretsDetector()];
  return async (bytes, o = {}) => {
    const members: Seen[] = [];
    const t = performance.now();
    async function scanOne(name: string, data: AsyncIterable<Uint8Array> | Uint8Array, depth: number, chunk: number): Promise<Verdict & { ran: boolean }> {
      const collected: Finding[] = [];
      const ctx: ScanContext = {
        name,
        depth,
        scanMember: async (member, memberData, info) => {
          const replaced = o.replaceMember?.(member);
          if (replaced !== undefined && !(memberData instanceof Uint8Array)) await drain(memberData);
          const v = await scanOne(member, replaced ?? memberData, depth + 1, 64 * 1024);
          members.push({ name: member, depth: depth + 1, bytes: v.bytes, info });
          collected.push(...v.findings.map((f) => ({ ...f, member: f.member === undefined ? member : `${member}!${f.member}` })));
          return v;
        },
      };
      const runs = detectors.map((d) => d.start(ctx));
      const hash = createHash('sha256');
      let n = 0;
      const feed = (c: Uint8Array): void => {
        for (const r of runs) r.update(c, n);
        hash.update(c);
        n += c.length;
      };
      if (data instanceof Uint8Array) for (let off = 0; off < data.length; off += chunk) feed(data.subarray(off, off + chunk));
      else for await (const c of data) feed(c);
      const results = await Promise.all(runs.map(async (r) => r.finish({ contentType: 'binary', bytes: n })));
      const findings = [...results.flatMap((r) => r.findings), ...collected];
      return { level: 'clean', score: 0, confidence: 1, findings, explanation: '', detectors: [], bytes: n, sha256: hash.digest('hex'), contentType: 'binary', ran: results[0]!.ran };
    }
    const v = await scanOne(o.name ?? 'upload', bytes, 0, o.chunk ?? bytes.length);
    return { ran: v.ran, findings: v.findings, members, ms: performance.now() - t };
  };
}

const scan = harness();
const rules = (r: Result | readonly Finding[]): string[] => ('findings' in r ? r.findings : r).map((f) => (f.member === undefined ? f.ruleId : `${f.ruleId}@${f.member}`)).sort();
const only = (r: Result, id: string): Finding => {
  const f = r.findings.filter((x) => x.ruleId === id && x.member === undefined);
  expect(f, rules(r).join(', ')).toHaveLength(1);
  return f[0]!;
};

async function drain(data: AsyncIterable<Uint8Array>): Promise<void> {
  for await (const chunk of data) void chunk;
}

/** One gzip member of `n` zeros, repeated: a tiny file that expands without end. */
function gzipZeros(memberBytes: number, repeat: number): Buffer {
  const one = gzipSync(Buffer.alloc(memberBytes), { level: 9 });
  return Buffer.concat(Array.from({ length: repeat }, () => one));
}

describe('archiveDetector: members reach the scanner', () => {
  it('hands stored and deflated zip members to scanMember with their declared size', async () => {
    const r = await scan(zip([{ name: 'a.txt', data: ascii('hello'), method: 0 }, { name: 'dir/creds.env', data: creds }, { name: 'dir/' }]));
    expect(r.ran).toBe(true);
    expect(r.members).toEqual([
      { name: 'a.txt', depth: 1, bytes: 5, info: { size: 5 } },
      { name: 'dir/creds.env', depth: 1, bytes: creds.length, info: { size: creds.length } },
    ]);
    expect(rules(r)).toEqual(['secrets/github-token@dir/creds.env']);
  });

  it('walks nested archives through the scanner: zip in tar in gzip', async () => {
    const inner = zip([{ name: 'creds.env', data: creds }]);
    const tgz = gzipSync(tar([{ name: 'pkg/readme.md', data: ascii('# hi\n') }, { name: 'pkg/inner.zip', data: inner }]));
    const r = await scan(tgz, { name: 'release.tar.gz' });
    expect(rules(r)).toEqual(['secrets/github-token@pkg/inner.zip!creds.env']);
    expect(r.members.map((m) => `${m.depth}:${m.name}`)).toEqual(['1:pkg/readme.md', '2:creds.env', '1:pkg/inner.zip']);
  });

  it('treats a gzip of anything else as one member, named from the header or the file name', async () => {
    const r = await scan(gzipSync(creds), { name: 'dir/creds.env.gz' });
    expect(r.members.map((m) => m.name)).toEqual(['creds.env']);
    expect(rules(r)).toEqual(['secrets/github-token@creds.env']);
    // FNAME set: gzip -N style header.
    const header = Buffer.from([0x1f, 0x8b, 8, 0x08, 0, 0, 0, 0, 0, 3, ...ascii('orig.txt\0')]);
    const body = deflateRawSync(creds);
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(creds.length, 4);
    const named = await scan(Buffer.concat([header, body, trailer]), { name: 'x.gz' });
    expect(named.members.map((m) => m.name)).toEqual(['orig.txt']);
  });

  it('does not apply to other content and keeps only its head', async () => {
    const r = await scan(Buffer.alloc(3 * MIB, 0x41), { name: 'a.txt' });
    expect(r.ran).toBe(false);
    expect(r.findings).toEqual([]);
  });

  it('reads a zip with a self-extractor stub before it', async () => {
    const r = await scan(zip([{ name: 'creds.env', data: creds }], { prefix: ascii('PK\x03\x04') }));
    expect(rules(r)).toContain('secrets/github-token@creds.env');
  });

  it('gives the same findings for 1-byte chunks as for one chunk', async () => {
    const z = zip([
      { name: '../evil.sh', data: ascii('#!/bin/sh\n') },
      { name: 'creds.env', data: creds },
      { name: 'l', symlink: '/etc' },
    ]);
    const whole = await scan(z);
    expect(rules(await scan(z, { chunk: 1 }))).toEqual(rules(whole));
    expect(rules(whole)).toEqual(['archive/path-traversal', 'archive/symlink-escape', 'secrets/github-token@creds.env']);
  });
});

describe('archiveDetector: members that attack whoever unpacks', () => {
  it.each<[string, string, string, Buffer]>([
    ['zip ../ name', 'archive/path-traversal', 'high', zip([{ name: '../../etc/cron.d/job', data: ascii('x') }])],
    ['zip backslash name', 'archive/path-traversal', 'high', zip([{ name: 'a\\..\\..\\win.ini', data: ascii('x') }])],
    ['zip absolute name', 'archive/absolute-path', 'medium', zip([{ name: '/etc/passwd', data: ascii('x') }])],
    ['zip drive letter', 'archive/absolute-path', 'medium', zip([{ name: 'C:/Windows/x.dll', data: ascii('x') }])],
    ['zip Unicode path field', 'archive/path-traversal', 'high', zip([{ name: 'ok.txt', unicodeName: '../../x', data: ascii('x') }])],
    ['tar ../ name', 'archive/path-traversal', 'high', tar([{ name: 'a/../../x', data: ascii('x') }])],
    ['tar long pax ../ name', 'archive/path-traversal', 'high', tar([{ name: `${'d/'.repeat(60)}${'../'.repeat(61)}x`, data: ascii('x') }])],
    ['tar absolute name', 'archive/absolute-path', 'medium', tar([{ name: '/root/.ssh/authorized_keys', data: ascii('x') }])],
    ['zip symlink out', 'archive/symlink-escape', 'high', zip([{ name: 'a/link', symlink: '../../etc' }])],
    ['tar symlink absolute', 'archive/symlink-escape', 'high', tar([{ name: 'link', type: '2', linkname: '/etc/shadow' }])],
    ['tar hard link absolute', 'archive/symlink-escape', 'high', tar([{ name: 'h', type: '1', linkname: '/etc/passwd' }])],
    ['tar device node', 'archive/device-member', 'medium', tar([{ name: 'mem', type: '3' }])],
    ['zip device node', 'archive/device-member', 'medium', zip([{ name: 'mem', mode: 0o020644 }])],
  ])('%s → %s (%s)', async (_what, rule, severity, bytes) => {
    const r = await scan(bytes);
    const f = only(r, rule);
    expect(f.severity).toBe(severity);
    expect(f.detector).toBe('archive');
    expect(f.evidence.length).toBeGreaterThan(0);
  });

  it.each<[string, Buffer]>([
    ['.. that stays inside', zip([{ name: 'a/b/../c.txt', data: ascii('x') }, { name: './d.txt', data: ascii('y') }])],
    ['a symlink that stays inside', zip([{ name: 'docs/latest', symlink: '../docs/v2' }, { name: 'docs/v2/readme', data: ascii('x') }])],
    ['a tar symlink and hard link inside', tar([{ name: 'a/f', data: ascii('x') }, { name: 'a/l', type: '2', linkname: 'f' }, { name: 'a/h', type: '1', linkname: 'a/f' }])],
    ['a name with dots', tar([{ name: '..hidden/...x', data: ascii('x') }])],
  ])('%s is fine', async (_what, bytes) => {
    expect(rules(await scan(bytes)).filter((r) => r.startsWith('archive/'))).toEqual([]);
  });

  it('checks the names of entries whose local header is missing', async () => {
    const z = zip([{ name: 'ok', data: creds }, { name: '../../x', data: ascii('x') }]);
    z.writeUInt32LE(0, z.indexOf(Buffer.from([0x50, 0x4b, 3, 4]), 4)); // the second local header's signature
    const r = await scan(z);
    expect(rules(r)).toEqual(['archive/corrupt', 'archive/path-traversal', 'secrets/github-token@ok']);
  });

  it('reports duplicate names and a local name that differs from the directory', async () => {
    const r = await scan(zip([{ name: 'a.txt', data: ascii('1') }, { name: 'a.txt', data: ascii('2') }, { name: 'b.txt', localName: '../b.txt', data: ascii('3') }]));
    expect(rules(r)).toEqual(['archive/duplicate-name', 'archive/name-mismatch', 'archive/path-traversal']);
  });

  it('folds a thousand bad names into one finding with a few examples', async () => {
    const r = await scan(zip(Array.from({ length: 1000 }, (_, i) => ({ name: `../x${i}`, data: ascii('x'), method: 0 }))));
    const f = only(r, 'archive/path-traversal');
    expect(f.message).toMatch(/^"\.\.\/x0" climbs out with \.\.; "\.\.\/x1" .*; and 997 more: unpacking writes outside/);
    expect(f.evidence).toHaveLength(10);
  });
});

describe('archiveDetector: what cannot be inspected', () => {
  it('reports encrypted and unsupported members as info, incomplete, without scanning them', async () => {
    const r = await scan(zip([{ name: 'secret.bin', data: ascii('xxxx'), method: 0, encrypted: true }, { name: 'b.bz2', data: ascii('BZh9'), method: 12 }]));
    expect(rules(r)).toEqual(['archive/encrypted-member', 'archive/unsupported-method']);
    for (const f of r.findings) expect(f).toMatchObject({ severity: 'info', incomplete: true });
    expect(r.members).toEqual([]);
  });

  it('reads a zip without its central directory from the local headers', async () => {
    const noise = Buffer.concat(Array.from({ length: 100 }, (_, i) => createHash('sha512').update(String(i)).digest())); // does not compress
    const whole = zip([{ name: 'a.txt', data: ascii('hello') }, { name: 'creds.env', data: creds }, { name: 'c.txt', data: noise }]);
    const cut = whole.subarray(0, whole.indexOf(Buffer.from([0x50, 0x4b, 1, 2])) - 1000);
    const r = await scan(cut);
    expect(rules(r)).toEqual(['archive/corrupt', 'secrets/github-token@creds.env']);
    expect(only(r, 'archive/corrupt')).toMatchObject({ severity: 'low', incomplete: true });
    expect(only(r, 'archive/corrupt').message).toMatch(/no end-of-central-directory record.*read the local headers instead; the data of "c.txt" is cut off/);
    expect(r.members.map((m) => m.name)).toEqual(['a.txt', 'creds.env', 'c.txt']);
  });

  it('reports damaged deflate data and goes on with the next member', async () => {
    const z = zip([{ name: 'bad.txt', data: Buffer.alloc(10_000, 0x61) }, { name: 'creds.env', data: creds }]);
    z.fill(0xff, 40, 60); // inside bad.txt's deflate stream
    const r = await scan(z);
    expect(rules(r)).toEqual(['archive/corrupt', 'secrets/github-token@creds.env']);
    expect(only(r, 'archive/corrupt').message).toMatch(/"bad.txt" does not decompress/);
  });

  it('reports a tar with a bad checksum or cut short', async () => {
    const t = tar([{ name: 'a.txt', data: ascii('hello') }, { name: 'b.txt', data: Buffer.alloc(2000, 0x62) }]);
    const bad = Buffer.from(t);
    bad[1024 + 10] = 0x7f; // b.txt's header
    expect(rules(await scan(bad))).toEqual(['archive/corrupt']);
    expect(only(await scan(t.subarray(0, 1024 + 700)), 'archive/corrupt').message).toMatch(/ends inside "b.txt"/);
  });

  it('survives mutated archives: no throw, no hang', async () => {
    const samples = [zip([{ name: 'a.txt', data: creds }, { name: 'b', data: Buffer.alloc(3000, 7) }, { name: 'l', symlink: 'a.txt' }]), tar([{ name: 'a', data: creds }]), gzipSync(tar([{ name: 'a', data: creds }]))];
    let seed = 1;
    const next = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    for (let i = 0; i < 300; i++) {
      const m = Buffer.from(samples[i % samples.length]!);
      for (let k = 0; k < 1 + Math.floor(next() * 8); k++) m[Math.floor(next() * m.length)] = Math.floor(next() * 256);
      const cut = next() < 0.3 ? m.subarray(0, Math.floor(next() * m.length)) : m;
      const r = await scan(cut);
      expect(r.ms).toBeLessThan(5000);
    }
  });
});

describe('archiveDetector: bombs, bounded work', () => {
  const small: ArchiveOptions = { bombMinBytes: MIB, maxMemberBytes: 64 * MIB, maxTotalBytes: 256 * MIB };

  it('stops a deflate member that expands past the ratio after bombMinBytes', async () => {
    const r = await harness(small)(zip([{ name: 'zeros.bin', data: Buffer.alloc(64 * MIB) }]));
    const f = only(r, 'archive/zip-bomb');
    expect(f).toMatchObject({ severity: 'high', incomplete: true });
    expect(f.message).toMatch(/"zeros.bin" declares 67108864 bytes from \d+ \(\d+:1\)/);
    expect(f.message).toMatch(/"zeros.bin" expands more than \d+:1 \(stopped after \d+ bytes\)/);
    expect(r.members[0]!.bytes).toBeLessThan(8 * MIB);
    expect(r.members[0]!.info).toEqual({}); // no declared size: it was going to be cut
  });

  it('stops a gzip that expands to 10 GiB of zeros', async () => {
    const bomb = gzipZeros(64 * MIB, 160); // 10 GiB
    expect(bomb.length).toBeLessThan(12 * MIB);
    const r = await harness(small)(bomb, { name: 'zeros.gz' });
    expect(rules(r)).toEqual(['archive/zip-bomb']);
    expect(r.members[0]!.bytes).toBeLessThan(16 * MIB);
    expect(r.ms).toBeLessThan(10_000);
  }, 30_000);

  it('ordinary archives, compressible ones included, have no archive findings', async () => {
    const text = ascii(Array.from({ length: 40_000 }, (_, i) => `line ${i}: ${(i * 7919) % 10007} some log text\n`).join('')); // ~1.3 MB, ~8:1
    const members = [
      { name: 'logs/app.log', data: text },
      { name: 'zeros.img', data: Buffer.alloc(MIB / 2) }, // 1000:1, but small
      { name: 'bin/tool', data: createHash('sha512').update('t').digest() },
      { name: 'docs/', data: new Uint8Array(0) },
    ];
    for (const bytes of [zip(members), tar(members), gzipSync(tar(members)), gzipSync(text)]) {
      const r = await harness({ bombMinBytes: MIB })(bytes, { name: 'ok' });
      expect(r.ran).toBe(true);
      expect(rules(r)).toEqual([]);
    }
  });

  it('reports huge declared sizes and declared ratios without expanding', async () => {
    const r = await scan(zip([{ name: 'claims.bin', data: ascii('x'), declaredSize: 2 ** 41 }]));
    expect(rules(r)).toEqual(['archive/declared-size', 'archive/zip-bomb']);
    expect(only(r, 'archive/declared-size').message).toMatch(/declares 2199023255552 bytes/);
  });

  it('expands entries that all point at the same data once, and says so', async () => {
    const members: ZipMember[] = [{ name: 'f0', data: Buffer.alloc(4 * MIB) }, ...Array.from({ length: 2000 }, (_, i) => ({ name: `f${i + 1}`, sameAs: 0 }))];
    const r = await harness(small)(zip(members));
    const f = only(r, 'archive/overlapping-entries');
    expect(f.message).toMatch(/^2001 members \("f0", "f1", …\) share the bytes/);
    expect(r.members.map((m) => m.name)).toEqual(['f0']);
  });

  it('recognises an archive inside itself (a quine) and stops', async () => {
    const outer = zip([{ name: 'self.zip', data: ascii('placeholder'), method: 0 }]);
    // The member's bytes are the archive itself, as a zip quine's are.
    const r = await scan(outer, { replaceMember: (name) => (name === 'self.zip' ? outer : undefined) });
    expect(rules(r)).toEqual(['archive/recursive@self.zip']);
    expect(r.findings[0]).toMatchObject({ severity: 'high', certainty: 1 });
    expect(r.members.map((m) => `${m.depth}:${m.name}`)).toEqual(['1:self.zip']);
  });

  /** 42.zip's shape: `width` copies of the level below, `levels` deep, zeros at the bottom. */
  function nested(levels: number, width: number, leafBytes: number): Buffer {
    let z = zip(Array.from({ length: width }, (_, i) => ({ name: `page${i}.txt`, data: Buffer.alloc(leafBytes) })), { level: 9 });
    for (let l = levels - 1; l >= 1; l--) z = zip(Array.from({ length: width }, (_, i) => ({ name: `l${l}-${i}.zip`, data: z })), { level: 9 });
    return z;
  }

  it('stops 42.zip-style nesting at maxDepth, and the whole tree at maxMembers', async () => {
    const bomb = nested(5, 8, 8 * MIB); // 8^5 members, 256 GiB expanded
    expect(bomb.length).toBeLessThan(MIB);
    const deep = await harness({ ...small, maxDepth: 3 })(bomb, { name: '42.zip' });
    expect(deep.members.length).toBe(8 + 64 + 512);
    expect(deep.members.every((m) => m.depth <= 3)).toBe(true);
    expect(rules(deep).filter((r) => r.startsWith('archive/too-deep@'))).toHaveLength(512);
    expect(deep.ms).toBeLessThan(20_000);

    const many = await harness({ ...small, maxMembers: 100 })(bomb, { name: '42.zip' });
    expect(many.members.length).toBeLessThanOrEqual(100);
    expect(rules(many).filter((r) => r.startsWith('archive/too-many-members@'))).toHaveLength(1);
    expect(many.ms).toBeLessThan(20_000);
  }, 60_000);

  it('shares the byte budget with nested archives', async () => {
    const inner = zip([{ name: 'a.bin', data: Buffer.alloc(3 * MIB, 1) }, { name: 'b.bin', data: Buffer.alloc(3 * MIB, 2) }]);
    const r = await harness({ maxTotalBytes: 4 * MIB })(zip([{ name: 'i1.zip', data: inner }, { name: 'i2.zip', data: inner }]));
    const expanded = r.members.filter((m) => m.name.endsWith('.bin')).reduce((n, m) => n + m.bytes, 0);
    expect(expanded).toBeLessThanOrEqual(4 * MIB);
    expect(rules(r).some((x) => x.startsWith('archive/partly-inspected'))).toBe(true);
  });
});

describe('archiveDetector: spooling', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'warden-archive-test-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('spools past memoryBytes to an unlinked temp file and leaves nothing behind', async () => {
    const members: ZipMember[] = Array.from({ length: 8 }, (_, i) => ({ name: `r${i}.bin`, data: createHash('sha512').update(String(i)).digest(), method: 0 }));
    const big = zip([...members, { name: 'creds.env', data: creds, method: 0 }]);
    const spooled = harness({ memoryBytes: 0, tmpDir: dir });
    const r = await spooled(big, { chunk: 100 });
    // Stored, so the token is also in the archive's own bytes.
    expect(rules(r)).toEqual(['secrets/github-token', 'secrets/github-token@creds.env']);
    expect(await readdir(dir)).toEqual([]);
  });

  it('a spool file is unlinked from the start and its bytes read back exactly', async () => {
    const spool = new Spool({ memoryBytes: 1000, maxBytes: 5000, tmpDir: dir });
    const data = createHash('sha512').update('s').digest();
    for (let i = 0; i < 100; i++) spool.append(data);
    expect(spool.spilled).toBe(true);
    expect(await readdir(dir)).toEqual([]);
    expect(spool.size).toBe(5000);
    expect(spool.dropped).toBe(6400 - 5000);
    const pieces: Uint8Array[] = [];
    for await (const p of spool.chunks(0, 5000, 999)) pieces.push(Uint8Array.from(p));
    expect(Math.max(...pieces.map((p) => p.length))).toBe(999);
    const back = Buffer.concat(pieces);
    expect(back.equals(Buffer.concat(Array.from({ length: 100 }, () => data)).subarray(0, 5000))).toBe(true);
    expect((await spool.read(4990, 100)).length).toBe(10);
    spool.close();
    spool.close();
  });

  it('fails (so the file is not called clean) when the temp directory is unusable', async () => {
    const run = archiveDetector({ memoryBytes: 0, tmpDir: join(dir, 'missing') }).start({ name: 'a.zip', depth: 0, scanMember: () => Promise.reject(new Error('unused')) });
    run.update(zip([{ name: 'a', data: ascii('x') }]), 0);
    await expect(Promise.resolve(run.finish({ contentType: 'zip', bytes: 0 }))).rejects.toThrow(/could not be kept for inspection.*tmpDir/);
  });
});

describe('archiveDetector: options', () => {
  it.each<[ArchiveOptions, RegExp]>([
    [{ maxDepth: -1 }, /maxDepth must be an integer from 0 to 64, got -1 \(number\)/],
    [{ maxMembers: 1.5 }, /maxMembers must be an integer from 1 to/],
    [{ bombRatio: 1 }, /bombRatio must be a number of at least 2, got 1/],
    [{ tmpDir: '' }, /tmpDir must be a non-empty path/],
    [{ timeoutMs: '5' as unknown as number }, /timeoutMs must be an integer from 1 to \d+, got "5" \(string\)/],
  ])('refuses %j with E_INVALID_ARGUMENT', (options, message) => {
    let err: unknown;
    try {
      archiveDetector(options);
    } catch (e) {
      err = e;
    }
    expect(hasCode(err, 'E_INVALID_ARGUMENT')).toBe(true);
    expect((err as Error).message).toMatch(message);
  });
});

describe('archiveDetector through the scanner', () => {
  const scanner = createScanner({ detectors: [archiveDetector(), secretsDetector()], maxExpandedBytes: 64 * MIB });

  it('reports member findings with their path, once', async () => {
    const inner = zip([{ name: 'creds.env', data: creds }]);
    const v = await scanner.scanBytes(gzipSync(tar([{ name: 'pkg/inner.zip', data: inner }, { name: '../x', data: ascii('x') }])), 'r.tgz');
    expect(rules(v.findings)).toEqual(['archive/path-traversal', 'secrets/github-token@pkg/inner.zip!creds.env']);
    expect(v.level).not.toBe('clean');
  });

  it('a gzip bomb stops at the detector’s ratio check, well before the scanner’s byte budget', async () => {
    const t = performance.now();
    const v = await scanner.scanBytes(gzipZeros(64 * MIB, 160), 'zeros.gz');
    expect(rules(v.findings)).toEqual(['archive/zip-bomb']);
    expect(performance.now() - t).toBeLessThan(10_000);
  }, 30_000);

  it('with the default detectors, a bad archive is not clean and names its members', async () => {
    const all = createScanner({ detectors: await defaultDetectors() });
    const v = await all.scanBytes(zip([{ name: '../../home/u/.bashrc', data: ascii('echo hi\n') }, { name: 'deploy/id_rsa', data: ascii(`-----BEGIN OPENSSH PRIVATE KEY-----\n${'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW'}\n-----END OPENSSH PRIVATE KEY-----\n`) }]), 'upload.zip');
    expect(rules(v.findings)).toEqual(expect.arrayContaining(['archive/path-traversal', 'secrets/private-key@deploy/id_rsa']));
    expect(v.level).not.toBe('clean');
    expect(v.explanation).toMatch(/archive\/path-traversal|secrets\/private-key/);
  });

  it('a zip bomb wider than the scanner’s budget ends with the scanner’s limit finding', async () => {
    const members = Array.from({ length: 8 }, (_, i) => ({ name: `m${i}.bin`, data: Buffer.alloc(12 * MIB, i) }));
    const v = await scanner.scanBytes(zip(members), 'wide.zip');
    expect(rules(v.findings)).toContain('archive/limit-bytes@m5.bin');
  });
});
