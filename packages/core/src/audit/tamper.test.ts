/**
 * Tampering with the stored log, the way someone with write access to the
 * database file would: every edit must make verify fail and name the exact
 * row (or checkpoint). The positive twin: an untouched log verifies.
 *
 * The log: 25 events, each committed on its own, checkpoints at 10 and 20
 * and at close (25).
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { isWardenError } from '@warden/protocol';
import { canonicalEvent, eventHash } from './event.js';
import { rowFields, type EventRow } from './db.js';
import { loadSigningKey, signCheckpoint } from './keys.js';
import { MerkleFrontier } from './merkle.js';
import { openAuditLog } from './log.js';
import type { AuditLog, VerifyFailure, VerifyReport } from './types.js';

const N = 25;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

interface Paths {
  readonly dir: string;
  readonly file: string;
  readonly keyFile: string;
}

function build(): Paths {
  const dir = mkdtempSync(join(tmpdir(), 'warden-audit-tamper-'));
  dirs.push(dir);
  const p = { dir, file: join(dir, 'audit.sqlite'), keyFile: join(dir, 'audit.key') };
  const log = openAuditLog({ ...p, maxBatch: 1, checkpointEvery: 10 });
  for (let i = 1; i <= N; i++) {
    log.append({
      action: i % 2 ? 'command.start' : 'guard.decision',
      actor: `key:k${i % 3}`,
      tenant: `t${i % 2}`,
      sandboxId: `sbx_${i % 4}`,
      inputDigest: i.toString(16).padStart(64, '0'),
      preview: `echo ${i}`,
      decision: 'deny',
      ruleIds: ['fs/rm-root', `r${i}`],
      risk: 'high',
      outcome: 'denied',
      durationMs: i / 4,
      details: { i, argv: ['echo', String(i)] },
    });
  }
  log.close();
  return p;
}

function withDb(p: Paths, fn: (db: Database.Database) => void): void {
  const db = new Database(p.file);
  try {
    fn(db);
  } finally {
    db.close();
  }
}

function verify(p: Paths, options: { publicKey?: string; keyFile?: string } = {}): VerifyReport {
  const log: AuditLog = openAuditLog(options.publicKey ? { file: p.file, readOnly: true, publicKey: options.publicKey } : { file: p.file, keyFile: options.keyFile ?? p.keyFile, readOnly: true });
  try {
    return log.verify();
  } finally {
    log.close();
  }
}

const row = (db: Database.Database, seq: number): EventRow => db.prepare('SELECT * FROM events WHERE seq = ?').get(seq) as EventRow;
const rehash = (r: EventRow, seq = r.seq): string => eventHash(r.prev_hash, canonicalEvent({ ...rowFields(r), seq }));

it('positive twin: an untouched log verifies, every event and checkpoint counted', () => {
  const p = build();
  expect(verify(p)).toEqual({ ok: true, events: N, checkpoints: 3, lastSeq: N, lastCheckpointSeq: N, uncovered: 0, keyId: expect.stringMatching(/^[0-9a-f]{64}$/) as string });
});

describe('editing one column of event 13 is caught at event 13', () => {
  it.each([
    ['action', "'key.create'"],
    ['actor', "'key:admin'"],
    ['actor', 'NULL'],
    ['tenant', "'t9'"],
    ['sandbox_id', "'sbx_other'"],
    ['input_digest', `'${'f'.repeat(64)}'`],
    ['preview', "'echo harmless'"],
    ['decision', "'allow'"],
    ['decision', 'NULL'],
    ['rule_ids', `'["fs/rm-root"]'`],
    ['rule_ids', `'["fs/rm-root", "r13"]'`], // same JSON, different text
    ['risk', "'low'"],
    ['outcome', "'ok'"],
    ['duration_ms', '0.1'],
    ['details', `'{"argv":["echo","13"],"i":13,"x":1}'`],
    ['details', `'{"argv": ["echo","13"], "i":13}'`], // whitespace only
    ['ts', "'2020-01-01T00:00:00.000Z'"],
    ['hash', `'${'0'.repeat(64)}'`],
    ['prev_hash', `'${'1'.repeat(64)}'`],
  ])('%s = %s → hash-mismatch at 13', (column, value) => {
    const p = build();
    withDb(p, (db) => db.exec(`UPDATE events SET ${column} = ${value} WHERE seq = 13`));
    expect(verify(p).firstBad).toMatchObject({ seq: 13, reason: 'hash-mismatch' });
  });

  it('editing event 13 and recomputing its hash (sha256 is no secret) breaks the link from 14: chain-broken at 13', () => {
    const p = build();
    withDb(p, (db) => {
      db.exec("UPDATE events SET action = 'key.create' WHERE seq = 13");
      db.prepare('UPDATE events SET hash = ? WHERE seq = 13').run(rehash(row(db, 13)));
    });
    const r = verify(p);
    expect(r.firstBad).toMatchObject({ seq: 13, reason: 'chain-broken' });
    expect(r.events).toBe(12);
  });

  it('editing event 13 and rewriting the whole chain after it is caught by the checkpoint that covers it (20)', () => {
    const p = build();
    withDb(p, (db) => {
      db.exec("UPDATE events SET outcome = 'ok' WHERE seq = 13");
      let prev = row(db, 12).hash;
      for (let s = 13; s <= N; s++) {
        db.prepare('UPDATE events SET prev_hash = ? WHERE seq = ?').run(prev, s);
        prev = rehash(row(db, s));
        db.prepare('UPDATE events SET hash = ? WHERE seq = ?').run(prev, s);
      }
    });
    const r = verify(p);
    expect(r.firstBad).toMatchObject({ seq: 20, reason: 'checkpoint-root' });
    expect(r.firstBad?.message).toContain('events 11–20');
  });
});

describe('deleting, moving and inserting rows', () => {
  it('deleting event 13 → gap at 13', () => {
    const p = build();
    withDb(p, (db) => db.exec('DELETE FROM events WHERE seq = 13'));
    expect(verify(p).firstBad).toMatchObject({ seq: 13, reason: 'gap' });
  });

  it('deleting the last event, which the closing checkpoint covers → truncated at 25', () => {
    const p = build();
    withDb(p, (db) => db.exec(`DELETE FROM events WHERE seq = ${N}`));
    const r = verify(p);
    expect(r.firstBad).toMatchObject({ seq: N, reason: 'truncated' });
    expect(r.lastSeq).toBe(N - 1);
  });

  it('deleting the last five events → truncated at 21', () => {
    const p = build();
    withDb(p, (db) => db.exec('DELETE FROM events WHERE seq > 20'));
    expect(verify(p).firstBad).toMatchObject({ seq: 21, reason: 'truncated' });
  });

  it('swapping the seqs of events 12 and 17 → reordered at 12', () => {
    const p = build();
    withDb(p, (db) => db.exec('UPDATE events SET seq = -12 WHERE seq = 12; UPDATE events SET seq = 12 WHERE seq = 17; UPDATE events SET seq = 17 WHERE seq = -12;'));
    const r = verify(p);
    expect(r.firstBad).toMatchObject({ seq: 12, reason: 'reordered' });
    expect(r.firstBad?.message).toContain('written as seq 17');
  });

  it('swapping neighbours 13 and 14 → reordered at 13', () => {
    const p = build();
    withDb(p, (db) => db.exec('UPDATE events SET seq = -13 WHERE seq = 13; UPDATE events SET seq = 13 WHERE seq = 14; UPDATE events SET seq = 14 WHERE seq = -13;'));
    expect(verify(p).firstBad).toMatchObject({ seq: 13, reason: 'reordered' });
  });

  it('inserting a forged, correctly chained event at 13 (renumbering the rest) → inserted at 13', () => {
    const p = build();
    withDb(p, (db) => {
      db.exec('UPDATE events SET seq = -seq WHERE seq >= 13; UPDATE events SET seq = 1 - seq WHERE seq < 0;');
      const prev = row(db, 12).hash;
      const forged = { seq: 13, ts: row(db, 12).ts, prevHash: prev, action: 'approval.decide', actor: 'approver:key:attacker', decision: 'allow' };
      const hash = eventHash(prev, canonicalEvent(forged));
      db.prepare('INSERT INTO events (seq, ts, action, actor, decision, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)').run(13, forged.ts, forged.action, forged.actor, forged.decision, prev, hash);
    });
    const r = verify(p);
    expect(r.firstBad).toMatchObject({ seq: 13, reason: 'inserted' });
  });

  it('appending a forged event with a made-up hash → hash-mismatch at 26', () => {
    const p = build();
    withDb(p, (db) => db.prepare("INSERT INTO events (seq, ts, action, prev_hash, hash) VALUES (26, '2030-01-01T00:00:00.000Z', 'key.create', ?, ?)").run(row(db, N).hash, 'a'.repeat(64)));
    expect(verify(p).firstBad).toMatchObject({ seq: 26, reason: 'hash-mismatch' });
  });
});

describe('tampering with checkpoints', () => {
  it.each<[string, string, VerifyFailure]>([
    ['root', `root = '${'ab'.repeat(32)}'`, 'checkpoint-root'],
    ['signature', "signature = 'A' || substr(signature, 2)", 'checkpoint-signature'],
    ['ts', "ts = '2000-01-01T00:00:00.000Z'", 'checkpoint-signature'],
    ['key_id', `key_id = '${'c'.repeat(64)}'`, 'checkpoint-malformed'],
    ['tree_size', 'tree_size = 19', 'checkpoint-malformed'],
    ['seq (moved to 19, its tree size left at 20)', 'seq = 19', 'checkpoint-malformed'],
  ])('editing the %s of the checkpoint at 20 → %s', (what, set, reason) => {
    const p = build();
    withDb(p, (db) => db.exec(`UPDATE checkpoints SET ${set} WHERE seq = 20`));
    expect(verify(p).firstBad).toMatchObject({ seq: what.startsWith('seq') ? 19 : 20, reason });
  });

  it('replacing the key file → the first checkpoint (10) no longer verifies, and the log refuses to be extended', () => {
    const p = build();
    const { privateKey } = generateKeyPairSync('ed25519');
    writeFileSync(p.keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    const r = verify(p);
    expect(r.firstBad).toMatchObject({ seq: 10, reason: 'checkpoint-signature' });
    expect(r.firstBad?.message).toContain('the log says it was made with key');
    let err: unknown;
    try {
      openAuditLog({ file: p.file, keyFile: p.keyFile });
    } catch (e) {
      err = e;
    }
    expect(isWardenError(err) && err.code).toBe('E_AUDIT_UNAVAILABLE');
  });

  it('a full rewrite re-signed with a new key passes against that key but fails against the original public key kept elsewhere', () => {
    const p = build();
    const original = verify(p);
    const trustedPem = (() => {
      const l = openAuditLog({ file: p.file, keyFile: p.keyFile, readOnly: true });
      const pem = l.publicKey;
      l.close();
      return pem;
    })();
    // The attacker: new key, edited event, chain and every checkpoint recomputed and re-signed, meta updated.
    const { privateKey } = generateKeyPairSync('ed25519');
    writeFileSync(p.keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    const key = loadSigningKey(p.keyFile, false);
    withDb(p, (db) => {
      const logId = (db.prepare("SELECT value FROM meta WHERE key = 'log_id'").get() as { value: string }).value;
      db.exec("UPDATE events SET outcome = 'ok' WHERE seq = 13");
      let prev = '0'.repeat(64);
      const frontier = MerkleFrontier.empty();
      for (let s = 1; s <= N; s++) {
        db.prepare('UPDATE events SET prev_hash = ? WHERE seq = ?').run(prev, s);
        prev = rehash(row(db, s));
        db.prepare('UPDATE events SET hash = ? WHERE seq = ?').run(prev, s);
        frontier.push(prev);
        const cp = db.prepare('SELECT ts FROM checkpoints WHERE seq = ?').get(s) as { ts: string } | undefined;
        if (cp) {
          const body = { logId, seq: s, treeSize: s, root: frontier.root(), ts: cp.ts };
          db.prepare('UPDATE checkpoints SET root = ?, key_id = ?, signature = ? WHERE seq = ?').run(body.root, key.keyId, signCheckpoint(key, body), s);
        }
      }
      db.prepare("UPDATE meta SET value = ? WHERE key = 'key_id'").run(key.keyId);
      db.prepare("UPDATE meta SET value = ? WHERE key = 'public_key'").run(key.pem);
    });
    expect(verify(p)).toMatchObject({ ok: true, events: N }); // what verify cannot prove: see docs/audit.md
    expect(verify(p, { publicKey: trustedPem }).firstBad).toMatchObject({ seq: 10, reason: 'checkpoint-signature' });
    expect(original.keyId).not.toBe(key.keyId);
  });
});

describe('what a writable open accepts', () => {
  const opens = (p: Paths): string | undefined => {
    try {
      openAuditLog(p).close();
      return undefined;
    } catch (err) {
      return isWardenError(err) ? err.code : String(err);
    }
  };

  it('refuses to extend a log whose last event does not match its hash', () => {
    const p = build();
    withDb(p, (db) => db.exec(`UPDATE events SET outcome = 'ok' WHERE seq = ${N}`));
    expect(opens(p)).toBe('E_AUDIT_UNAVAILABLE');
  });

  it('refuses to extend a log truncated under a checkpoint', () => {
    const p = build();
    withDb(p, (db) => db.exec(`DELETE FROM events WHERE seq = ${N}`));
    expect(opens(p)).toBe('E_AUDIT_UNAVAILABLE');
  });

  it('extends a log damaged in the middle (verify keeps pointing at the damage)', () => {
    const p = build();
    withDb(p, (db) => db.exec("UPDATE events SET preview = 'x' WHERE seq = 13"));
    const log = openAuditLog(p);
    log.append({ action: 'a.after' });
    log.close();
    expect(verify(p).firstBad).toMatchObject({ seq: 13, reason: 'hash-mismatch' });
  });
});

describe('what verify cannot see (docs/audit.md, "Limits")', () => {
  it('events after the last checkpoint can be deleted from the end: verify passes and reports them as uncovered before, and fewer after', () => {
    const p = build();
    // As if the process died before its closing checkpoint: the last one is at 20.
    withDb(p, (db) => db.exec(`DELETE FROM checkpoints WHERE seq = ${N}`));
    expect(verify(p)).toMatchObject({ ok: true, lastSeq: N, lastCheckpointSeq: 20, uncovered: 5 });
    withDb(p, (db) => db.exec('DELETE FROM events WHERE seq > 22'));
    expect(verify(p)).toMatchObject({ ok: true, lastSeq: 22, uncovered: 2 });
  });

  it('a correctly chained event appended after the last checkpoint passes, as an uncovered event', () => {
    const p = build();
    withDb(p, (db) => {
      const prev = row(db, N).hash;
      const f = { seq: N + 1, ts: '2030-01-01T00:00:00.000Z', prevHash: prev, action: 'key.create' };
      db.prepare('INSERT INTO events (seq, ts, action, prev_hash, hash) VALUES (?, ?, ?, ?, ?)').run(f.seq, f.ts, f.action, prev, eventHash(prev, canonicalEvent(f)));
    });
    expect(verify(p)).toMatchObject({ ok: true, lastSeq: N + 1, uncovered: 1 });
  });
});
