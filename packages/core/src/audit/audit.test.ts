import { createHash, verify as verifySignature } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isWardenError, type ErrorCode } from '@warden/protocol';
import { canonicalJson } from './canonical.js';
import { openAuditLog } from './log.js';
import { merkleRoot } from './merkle.js';
import type { AuditEvent, AuditLog, AuditLogOptions } from './types.js';

const dirs: string[] = [];
const logs: AuditLog[] = [];
afterEach(() => {
  for (const l of logs.splice(0)) {
    try {
      l.close();
    } catch {
      // a test that broke the log on purpose
    }
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function paths(): { dir: string; file: string; keyFile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'warden-audit-'));
  dirs.push(dir);
  return { dir, file: join(dir, 'data', 'audit.sqlite'), keyFile: join(dir, 'keys', 'audit.key') };
}

function open(options: Partial<AuditLogOptions> & { file: string }): AuditLog {
  const log = openAuditLog(options);
  logs.push(log);
  return log;
}

/** A clock that moves one second per call, from a fixed start. */
function clock(start = Date.parse('2025-03-01T10:00:00.000Z')): () => Date {
  let t = start;
  return () => new Date((t += 1000));
}

/** Rows as another connection sees them: the database is the oracle for what is committed. */
function committed(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

function thrown(fn: () => unknown): { code: ErrorCode; message: string } {
  try {
    fn();
  } catch (err) {
    if (isWardenError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a WardenError, nothing was thrown');
}

async function eventually(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const hashOf = (e: AuditEvent): string => {
  const { hash: _hash, ...rest } = e;
  return createHash('sha256').update(e.prevHash).update(canonicalJson(rest)).digest('hex');
};

describe('append', () => {
  it('chains events: seq from 1, ts from the clock, prevHash = the previous hash, hash = sha256(prevHash + canonical JSON of the rest)', () => {
    const p = paths();
    const log = open({ ...p, now: clock() });
    const a = log.append({ action: 'sandbox.create', actor: 'key:k1', tenant: 't1', sandboxId: 'sbx_1', outcome: 'ok', durationMs: 12.5 });
    const b = log.append({ action: 'guard.decision', sandboxId: 'sbx_1', decision: 'deny', ruleIds: ['fs/rm-root'], risk: 'critical', inputDigest: 'a'.repeat(64), details: { z: 1, a: [true, null] } });
    expect(a).toMatchObject({ seq: 1, prevHash: '0'.repeat(64) });
    expect(a.ts).toMatch(/^2025-03-01T10:00:0\d\.000Z$/);
    expect(b).toMatchObject({ seq: 2, prevHash: a.hash });
    expect(Date.parse(b.ts) - Date.parse(a.ts)).toBe(1000);
    expect(a.hash).toBe(hashOf(a));
    expect(b.hash).toBe(hashOf(b));
    expect(Object.isFrozen(a)).toBe(true);
  });

  it('stores exactly what it returned; absent fields stay absent', () => {
    const p = paths();
    const log = open(p);
    const input = { action: 'command.end', sandboxId: 'sbx_2', outcome: 'exited:0', durationMs: 0, ruleIds: [], details: {} } as const;
    const e = log.append(input, { durable: true });
    expect(Object.keys(e).sort()).toEqual(['action', 'details', 'durationMs', 'hash', 'outcome', 'prevHash', 'ruleIds', 'sandboxId', 'seq', 'ts']);
    expect(log.get(1)).toEqual(e);
    expect(log.get(2)).toBeUndefined();
  });

  it('masks secrets in the preview and in details before hashing', () => {
    const p = paths();
    const log = open(p);
    const e = log.append({ action: 'command.start', preview: 'git push https://bob:hunter2-hunter2@x.example/r.git', details: { url: 'https://bob:hunter2-hunter2@x.example' } });
    expect(e.preview).toBe('git push https://bob:[REDACTED:url-password]@x.example/r.git');
    expect(e.details).toEqual({ url: 'https://bob:[REDACTED:url-password]@x.example' });
    expect(e.hash).toBe(hashOf(e));
  });

  const cycle: Record<string, unknown> = {};
  cycle.me = cycle;
  it.each([
    ['no action', {}, 'action'],
    ['an undotted action', { action: 'create' }, 'action'],
    ['an action with spaces', { action: 'sandbox. create' }, 'action'],
    ['a non-hex inputDigest', { action: 'a.b', inputDigest: 'xyz' }, 'inputDigest'],
    ['an upper-case inputDigest', { action: 'a.b', inputDigest: 'A'.repeat(64) }, 'inputDigest'],
    ['an unknown decision', { action: 'a.b', decision: 'maybe' }, 'decision'],
    ['an unknown risk', { action: 'a.b', risk: 'extreme' }, 'risk'],
    ['a negative durationMs', { action: 'a.b', durationMs: -1 }, 'durationMs'],
    ['a NaN durationMs', { action: 'a.b', durationMs: Number.NaN }, 'durationMs'],
    ['ruleIds that is a string', { action: 'a.b', ruleIds: 'r1' }, 'ruleIds'],
    ['a non-string rule id', { action: 'a.b', ruleIds: ['r1', 2] }, 'ruleIds[1]'],
    ['an empty actor', { action: 'a.b', actor: '' }, 'actor'],
    ['an actor with a newline', { action: 'a.b', actor: 'key:1\nforged' }, 'actor'],
    ['a tenant with a lone surrogate', { action: 'a.b', tenant: 't\ud800' }, 'tenant'],
    ['a null sandboxId', { action: 'a.b', sandboxId: null }, 'sandboxId'],
    ['a non-string preview', { action: 'a.b', preview: 42 }, 'preview'],
    ['details that is an array', { action: 'a.b', details: [1] }, 'details'],
    ['details with a function', { action: 'a.b', details: { f: () => 1 } }, 'details.f'],
    ['details with NaN', { action: 'a.b', details: { n: Number.NaN } }, 'details.n'],
    ['details with a Date', { action: 'a.b', details: { when: new Date() } }, 'details.when'],
    ['details with a cycle', { action: 'a.b', details: cycle }, 'details'],
    ['details over 64 KiB', { action: 'a.b', details: { blob: 'x'.repeat(70_000) } }, '65536 bytes'],
    ['an unknown field', { action: 'a.b', user: 'bob' }, '"user"'],
  ])('refuses %s with E_INVALID_ARGUMENT naming it, and records nothing', (_what, input, named) => {
    const p = paths();
    const log = open(p);
    const err = thrown(() => log.append(input as never));
    expect(err.code).toBe('E_INVALID_ARGUMENT');
    expect(err.message).toContain(named);
    expect(log.append({ action: 'still.works' }).seq).toBe(1);
  });

  it('refuses options that are not { durable?: boolean }', () => {
    const log = open(paths());
    expect(thrown(() => log.append({ action: 'a.b' }, { durable: 'yes' as never })).code).toBe('E_INVALID_ARGUMENT');
  });

  it('never lets ts go backwards: a clock that steps back repeats the last ts until it catches up', () => {
    const times = ['2025-01-01T10:00:05.000Z', '2025-01-01T10:00:05.000Z', '2025-01-01T10:00:01.000Z', '2025-01-01T10:00:09.000Z'];
    let i = 0;
    const log = open({ ...paths(), now: () => new Date(times[Math.min(i++, times.length - 1)]!) }); // the first call stamps the log's creation
    const ts = [log.append({ action: 'a.one' }), log.append({ action: 'a.two' }), log.append({ action: 'a.three' })].map((e) => e.ts);
    expect(ts).toEqual(['2025-01-01T10:00:05.000Z', '2025-01-01T10:00:05.000Z', '2025-01-01T10:00:09.000Z']);
    expect(log.query({ since: '2025-01-01T10:00:05.000Z', until: '2025-01-01T10:00:06.000Z' }).map((e) => e.seq)).toEqual([1, 2]);
  });

  it('stores a preview with lone surrogates as U+FFFD, so the stored row still verifies', () => {
    const p = paths();
    const log = open(p);
    expect(log.append({ action: 'a.b', preview: 'x\udc00y' }).preview).toBe('x\ufffdy');
    expect(log.verify().ok).toBe(true);
  });
});

describe('group commit', () => {
  it('a non-durable append waits in memory, then is committed within flushIntervalMs', async () => {
    const p = paths();
    const log = open({ ...p, flushIntervalMs: 50 });
    log.append({ action: 'command.start' });
    expect(committed(p.file)).toBe(0);
    await eventually(() => committed(p.file) === 1, 'the timer to commit the event');
  });

  it('commits as soon as maxBatch events wait', () => {
    const p = paths();
    const log = open({ ...p, flushIntervalMs: 60_000, maxBatch: 3 });
    log.append({ action: 'a.one' });
    log.append({ action: 'a.two' });
    expect(committed(p.file)).toBe(0);
    log.append({ action: 'a.three' });
    expect(committed(p.file)).toBe(3);
  });

  it('a durable append commits itself and everything buffered before it before returning', () => {
    const p = paths();
    const log = open({ ...p, flushIntervalMs: 60_000 });
    for (let i = 0; i < 5; i++) log.append({ action: 'command.output' });
    log.append({ action: 'guard.decision', decision: 'allow' }, { durable: true });
    expect(committed(p.file)).toBe(6);
  });

  it('query and get see buffered events', () => {
    const p = paths();
    const log = open({ ...p, flushIntervalMs: 60_000 });
    const e = log.append({ action: 'command.start', sandboxId: 'sbx_q' });
    expect(log.get(1)).toBe(e);
    expect(committed(p.file)).toBe(0);
    expect(log.query({ sandboxId: 'sbx_q' })).toEqual([e]);
    expect(committed(p.file)).toBe(1);
  });

  it('a durable append that cannot be committed throws E_AUDIT_UNAVAILABLE and leaves no trace; the chain goes on once the fault is gone', () => {
    const p = paths();
    const logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
    const log = open({ ...p, flushIntervalMs: 60_000, logger });
    log.append({ action: 'a.before' }, { durable: true });
    log.append({ action: 'a.buffered' });
    // A second writer slips a row in: the log refuses to fork the chain.
    const intruder = new Database(p.file);
    intruder.prepare("INSERT INTO events (seq, ts, action, prev_hash, hash) VALUES (2, 'x', 'x.x', 'x', 'x')").run();
    const err = thrown(() => log.append({ action: 'guard.decision', decision: 'deny' }, { durable: true }));
    expect(err.code).toBe('E_AUDIT_UNAVAILABLE');
    expect(err.message).toContain('another process is writing');
    expect(logger.error).toHaveBeenCalledTimes(1);
    intruder.prepare('DELETE FROM events WHERE seq = 2').run();
    intruder.close();
    const next = log.append({ action: 'guard.decision', decision: 'allow' }, { durable: true });
    expect(next.seq).toBe(3); // the failed one is gone; the buffered one (2) was kept and committed with it
    expect(log.query().map((e) => e.action)).toEqual(['a.before', 'a.buffered', 'guard.decision']);
    expect(log.get(3)?.decision).toBe('allow');
    expect(logger.info).toHaveBeenCalledWith('audit: commits work again', expect.anything());
    expect(log.verify()).toMatchObject({ ok: true, events: 3 });
  });

  it('keeps non-durable events while commits fail, retries them, and refuses more than maxBufferedEvents', async () => {
    const p = paths();
    const log = open({ ...p, flushIntervalMs: 1, maxBufferedEvents: 5 });
    log.append({ action: 'a.first' }, { durable: true });
    const intruder = new Database(p.file);
    intruder.prepare("INSERT INTO events (seq, ts, action, prev_hash, hash) VALUES (2, 'x', 'x.x', 'x', 'x')").run();
    for (let i = 0; i < 5; i++) log.append({ action: 'a.waiting' });
    expect(thrown(() => log.append({ action: 'a.too-many' })).code).toBe('E_AUDIT_UNAVAILABLE');
    expect(thrown(() => log.flush()).code).toBe('E_AUDIT_UNAVAILABLE');
    intruder.prepare('DELETE FROM events WHERE seq = 2').run();
    intruder.close();
    await eventually(() => committed(p.file) === 6, 'the retry to commit the waiting events');
    expect(log.verify()).toMatchObject({ ok: true, events: 6 });
  });
});

describe('checkpoints', () => {
  it('signs one every checkpointEvery events and one at close, so a closed log has no uncovered tail', () => {
    const p = paths();
    const log = open({ ...p, maxBatch: 1, checkpointEvery: 10 });
    for (let i = 0; i < 35; i++) log.append({ action: 'command.output' });
    expect(log.verify()).toMatchObject({ ok: true, events: 35, checkpoints: 3, lastCheckpointSeq: 30, uncovered: 5 });
    log.close();
    const ro = open({ ...p, readOnly: true });
    expect(ro.verify()).toMatchObject({ ok: true, events: 35, checkpoints: 4, lastCheckpointSeq: 35, uncovered: 0 });
  });

  it('signs one on the interval while events arrive', async () => {
    const p = paths();
    const log = open({ ...p, checkpointIntervalMs: 20 });
    log.append({ action: 'a.b' });
    await eventually(() => log.verify().lastCheckpointSeq === 1, 'the interval checkpoint');
  });

  it('checkpoint() covers everything appended; called again with nothing new it returns the same one', () => {
    const p = paths();
    const log = open({ ...p, flushIntervalMs: 60_000 });
    const hashes = [log.append({ action: 'a.one' }).hash, log.append({ action: 'a.two' }).hash];
    const c = log.checkpoint();
    expect(c).toMatchObject({ seq: 2, treeSize: 2, root: merkleRoot(hashes), keyId: log.keyId });
    expect(log.checkpoint()).toBe(c);
    hashes.push(log.append({ action: 'a.three' }).hash);
    expect(log.checkpoint()).toMatchObject({ seq: 3, root: merkleRoot(hashes) });
  });

  it('signs the documented message with the key behind publicKey', () => {
    const log = open(paths());
    log.append({ action: 'a.b' });
    const c = log.checkpoint();
    const message = canonicalJson({ type: 'warden.audit.checkpoint/v1', logId: log.logId, seq: c.seq, treeSize: c.treeSize, root: c.root, ts: c.ts });
    expect(verifySignature(null, Buffer.from(message), log.publicKey, Buffer.from(c.signature, 'base64'))).toBe(true);
  });

  it('after reopening, the Merkle root continues over old and new events (frontier restored from the last checkpoint, or rebuilt if that is damaged)', () => {
    const p = paths();
    const hashes: string[] = [];
    let log = open({ ...p, maxBatch: 1, checkpointEvery: 7 });
    for (let i = 0; i < 23; i++) hashes.push(log.append({ action: 'a.b' }).hash);
    log.close();
    log = open({ ...p, maxBatch: 1, checkpointEvery: 7 });
    for (let i = 0; i < 5; i++) hashes.push(log.append({ action: 'a.c' }).hash);
    expect(log.checkpoint().root).toBe(merkleRoot(hashes));
    log.close();

    const db = new Database(p.file);
    db.prepare("UPDATE checkpoints SET frontier = '[]' WHERE seq = (SELECT max(seq) FROM checkpoints)").run();
    db.close();
    const warn = vi.fn();
    log = open({ ...p, logger: { debug: vi.fn(), info: vi.fn(), warn, error: vi.fn() } });
    expect(warn).toHaveBeenCalledTimes(1);
    hashes.push(log.append({ action: 'a.d' }).hash);
    expect(log.checkpoint().root).toBe(merkleRoot(hashes));
  });
});

describe('open and close', () => {
  it('creates the database and the signing key readable by their owner only', () => {
    const p = paths();
    open(p).append({ action: 'a.b' });
    expect(statSync(p.file).mode & 0o777).toBe(0o600);
    expect(statSync(p.keyFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(p.dir, 'keys')).mode & 0o777).toBe(0o700);
  });

  it('continues the chain after reopening', () => {
    const p = paths();
    const first = open(p);
    const a = first.append({ action: 'a.b' });
    first.close();
    const log = open(p);
    const b = log.append({ action: 'a.c' });
    expect(b).toMatchObject({ seq: 2, prevHash: a.hash });
    expect(log.verify()).toMatchObject({ ok: true, events: 2 });
  });

  it('close is idempotent and final: appends, queries and checkpoints after it throw E_AUDIT_UNAVAILABLE', () => {
    const log = open(paths());
    log.append({ action: 'a.b' });
    log.close();
    log.close();
    expect(thrown(() => log.append({ action: 'a.b' })).code).toBe('E_AUDIT_UNAVAILABLE');
    expect(thrown(() => log.query()).code).toBe('E_AUDIT_UNAVAILABLE');
    expect(thrown(() => log.checkpoint()).code).toBe('E_AUDIT_UNAVAILABLE');
  });

  it('closes with `using`', () => {
    const p = paths();
    {
      using log = openAuditLog(p);
      log.append({ action: 'a.b' });
    }
    const ro = open({ ...p, readOnly: true });
    expect(ro.verify()).toMatchObject({ ok: true, events: 1, uncovered: 0 });
  });

  it('refuses to open an existing log with a missing key file (it would make a new key)', () => {
    const p = paths();
    open(p).close();
    open(p).append({ action: 'a.b' });
    logs.pop()!.close();
    rmSync(p.keyFile);
    const err = thrown(() => openAuditLog(p));
    expect(err).toMatchObject({ code: 'E_AUDIT_UNAVAILABLE' });
    expect(err.message).toContain('missing');
    expect(() => statSync(p.keyFile)).toThrow(); // and did not create one
  });

  it('refuses a key file other users can read', () => {
    const p = paths();
    open(p).close();
    chmodSync(p.keyFile, 0o644);
    const err = thrown(() => openAuditLog(p));
    expect(err.code).toBe('E_AUDIT_UNAVAILABLE');
    expect(err.message).toContain('chmod 600');
  });

  it('uses a key file that already exists when the log is new', () => {
    const p = paths();
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const keyFile = join(p.dir, 'provisioned.key');
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    const log = open({ file: p.file, keyFile });
    expect(log.publicKey).toBe(publicKey.export({ type: 'spki', format: 'pem' }));
  });

  it('read-only: reads and verifies while a writer appends, and never writes', () => {
    const p = paths();
    const writer = open({ ...p, maxBatch: 1 });
    writer.append({ action: 'a.b', sandboxId: 'sbx_r' });
    const ro = open({ ...p, readOnly: true });
    writer.append({ action: 'a.c', sandboxId: 'sbx_r' });
    expect(ro.query({ sandboxId: 'sbx_r' }).map((e) => e.seq)).toEqual([1, 2]);
    expect(ro.verify()).toMatchObject({ ok: true, events: 2 });
    expect(thrown(() => ro.append({ action: 'a.b' })).message).toContain('read-only');
    expect(thrown(() => ro.checkpoint()).code).toBe('E_AUDIT_UNAVAILABLE');
  });

  it('read-only with only a public key (base64 of the raw 32 bytes)', () => {
    const p = paths();
    const w = open(p);
    w.append({ action: 'a.b' });
    w.close();
    const raw = Buffer.from(/-----BEGIN PUBLIC KEY-----\n(.*)\n/.exec(w.publicKey)![1]!, 'base64').subarray(-32).toString('base64');
    const ro = open({ file: p.file, readOnly: true, publicKey: raw });
    expect(ro.verify()).toMatchObject({ ok: true, events: 1, keyId: w.keyId });
  });

  it('refuses a second writer on the same file instead of forking the chain', () => {
    const p = paths();
    const a = open(p);
    const b = open(p);
    a.append({ action: 'a.one' }, { durable: true });
    expect(thrown(() => b.append({ action: 'b.one' }, { durable: true })).code).toBe('E_AUDIT_UNAVAILABLE');
    expect(a.verify()).toMatchObject({ ok: true, events: 1 });
  });

  it('reports verify progress', () => {
    const p = paths();
    const log = open({ ...p, maxBatch: 8192, checkpointEvery: 50_000 });
    for (let i = 0; i < 65_536; i++) log.append({ action: 'a.b' });
    const progress: number[] = [];
    expect(log.verify({ onProgress: (x) => progress.push(x.lastSeq) })).toMatchObject({ ok: true, events: 65_536, checkpoints: 1 });
    expect(progress).toEqual([65_536]);
  });

  const p0 = { file: '/tmp/x/audit.sqlite', keyFile: '/tmp/x/audit.key' };
  it.each([
    ['no options', undefined, 'options'],
    ['no file', { keyFile: p0.keyFile }, 'file'],
    ['no keyFile', { file: p0.file }, 'keyFile'],
    ['the key inside the database file', { file: p0.file, keyFile: p0.file }, 'keyFile'],
    ['a publicKey on a writable log', { ...p0, publicKey: 'x' }, 'publicKey'],
    ['a fractional flushIntervalMs', { ...p0, flushIntervalMs: 0.5 }, 'flushIntervalMs'],
    ['maxBatch 0', { ...p0, maxBatch: 0 }, 'maxBatch'],
    ['checkpointEvery as a string', { ...p0, checkpointEvery: '10' }, 'checkpointEvery'],
    ['checkpointIntervalMs 1', { ...p0, checkpointIntervalMs: 1 }, 'checkpointIntervalMs'],
    ['previewMaxChars 8', { ...p0, previewMaxChars: 8 }, 'previewMaxChars'],
    ['now that is not a function', { ...p0, now: new Date() }, 'now'],
    ['a logger without methods', { ...p0, logger: {} }, 'logger'],
    ['readOnly "yes"', { ...p0, readOnly: 'yes' }, 'readOnly'],
  ])('openAuditLog refuses %s with E_INVALID_ARGUMENT naming the option', (_what, options, named) => {
    const err = thrown(() => openAuditLog(options as never));
    expect(err.code).toBe('E_INVALID_ARGUMENT');
    expect(err.message).toContain(named);
  });
});
