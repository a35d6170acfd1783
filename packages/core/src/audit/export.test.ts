import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isWardenError } from '@warden/protocol';
import { openAuditLog } from './log.js';
import { verifyExport } from './export.js';
import type { AuditLog } from './types.js';

const N = 40;
let dir: string;
let log: AuditLog;
let lines: string[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'warden-audit-export-'));
  log = openAuditLog({ file: join(dir, 'audit.sqlite'), keyFile: join(dir, 'audit.key'), maxBatch: 1, checkpointEvery: 10 });
  for (let i = 1; i <= N; i++) log.append({ action: 'command.end', sandboxId: `sbx_${i % 3}`, outcome: `exited:${i % 2}`, ruleIds: [`r${i}`], details: { i, nested: { ok: true } } });
  lines = [];
});
afterEach(() => {
  log.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Index of the line holding event `seq` (line 0 is the header). */
const lineOf = (seq: number): number => lines.findIndex((l) => !l.startsWith('{"type"') && (JSON.parse(l) as { seq: number }).seq === seq);
const checkpointLines = (): number[] => lines.flatMap((l, i) => (l.startsWith('{"type":"checkpoint"') || l.includes('"type":"checkpoint"') ? [i] : []));

describe('export', () => {
  it('writes a header, every event in order, each checkpoint right after the event it covers, and a closing checkpoint', () => {
    const counts = log.export((l) => lines.push(l));
    expect(counts).toEqual({ events: N, checkpoints: 4 });
    expect(lines.length).toBe(1 + N + 4);
    expect(JSON.parse(lines[0]!)).toMatchObject({ type: 'header', format: 'warden-audit-v1', logId: log.logId, keyId: log.keyId, publicKey: log.publicKey, fromSeq: 1 });
    const cps = checkpointLines().map((i) => JSON.parse(lines[i]!) as { seq: number });
    expect(cps.map((c) => c.seq)).toEqual([10, 20, 30, 40]);
    for (const c of cps) expect(JSON.parse(lines[checkpointLines()[cps.indexOf(c)]! - 1]!)).toMatchObject({ seq: c.seq });
    // Event lines are the events as query returns them, in canonical JSON.
    expect(JSON.parse(lines[lineOf(7)]!)).toEqual(log.get(7));
    expect(lines.every((l) => !l.includes('\n'))).toBe(true);
  });

  it('round trip: verifyExport passes with the public key as PEM and as raw base64', () => {
    log.export((l) => lines.push(l));
    expect(verifyExport(lines, log.publicKey)).toEqual({ ok: true, events: N, checkpoints: 4, lastSeq: N, lastCheckpointSeq: N, uncovered: 0, keyId: log.keyId });
    const raw = Buffer.from(/-----BEGIN PUBLIC KEY-----\n(.*)\n/.exec(log.publicKey)![1]!, 'base64').subarray(-32).toString('base64');
    expect(verifyExport(lines.map((l) => `${l}\n`).concat(['', '  ']), raw).ok).toBe(true);
  });

  it('a partial export (fromSeq) verifies on its own; its first checkpoint vouches for the header', () => {
    log.export((l) => lines.push(l), { fromSeq: 17 });
    expect(lines.length).toBe(1 + (N - 16) + 3);
    expect(verifyExport(lines, log.publicKey)).toMatchObject({ ok: true, events: N - 16, checkpoints: 3, lastSeq: N });
    const h = JSON.parse(lines[0]!) as { frontier: string[] };
    h.frontier[0] = 'f'.repeat(64);
    lines[0] = JSON.stringify(h);
    expect(verifyExport(lines, log.publicKey).firstBad).toMatchObject({ seq: 20, reason: 'checkpoint-root' });
  });

  it('refuses a fromSeq past the end', () => {
    let err: unknown;
    try {
      log.export(() => undefined, { fromSeq: N + 2 });
    } catch (e) {
      err = e;
    }
    expect(isWardenError(err) && err.code).toBe('E_INVALID_ARGUMENT');
  });
});

describe('verifyExport catches a tampered export', () => {
  beforeEach(() => {
    log.export((l) => lines.push(l));
  });

  const edit = (seq: number, change: (e: Record<string, unknown>) => void): void => {
    const i = lineOf(seq);
    const e = JSON.parse(lines[i]!) as Record<string, unknown>;
    change(e);
    lines[i] = JSON.stringify(e);
  };

  it.each<[string, (e: Record<string, unknown>) => void]>([
    ['outcome', (e) => (e.outcome = 'exited:0')],
    ['a nested detail', (e) => ((e.details as { nested: { ok: boolean } }).nested.ok = false)],
    ['ruleIds', (e) => (e.ruleIds = [])],
    ['a field removed', (e) => delete e.sandboxId],
    ['the hash', (e) => (e.hash = '0'.repeat(64))],
  ])('edited %s of event 23 → hash-mismatch at 23', (_what, change) => {
    edit(23, change);
    expect(verifyExport(lines, log.publicKey).firstBad).toMatchObject({ seq: 23, reason: 'hash-mismatch' });
  });

  it.each<[string, (e: Record<string, unknown>) => void]>([
    ['a field added', (e) => (e.approvedBy = 'me')],
    ['a null field', (e) => (e.tenant = null)],
  ])('%s in event 23 → malformed at 23', (_what, change) => {
    edit(23, change);
    expect(verifyExport(lines, log.publicKey).firstBad).toMatchObject({ seq: 23, reason: 'malformed' });
  });

  it('a deleted event line → gap at that seq', () => {
    lines.splice(lineOf(23), 1);
    expect(verifyExport(lines, log.publicKey).firstBad).toMatchObject({ seq: 23, reason: 'gap' });
  });

  it('two event lines swapped → reordered at the first', () => {
    const a = lineOf(22);
    const b = lineOf(25);
    [lines[a], lines[b]] = [lines[b]!, lines[a]!];
    expect(verifyExport(lines, log.publicKey).firstBad).toMatchObject({ seq: 22, reason: 'reordered' });
  });

  it('a checkpoint line with another root → checkpoint-root at its seq', () => {
    const i = checkpointLines()[1]!;
    lines[i] = lines[i]!.replace(/"root":"[0-9a-f]{64}"/, `"root":"${'e'.repeat(64)}"`);
    expect(verifyExport(lines, log.publicKey).firstBad).toMatchObject({ seq: 20, reason: 'checkpoint-root' });
  });

  it('checked against another key → checkpoint-signature at the first checkpoint', () => {
    const other = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(verifyExport(lines, other).firstBad).toMatchObject({ seq: 10, reason: 'checkpoint-signature' });
  });

  it('a header naming another log → checkpoint-signature at the first checkpoint (signatures bind the log id)', () => {
    lines[0] = lines[0]!.replace(/"logId":"[0-9a-f]+"/, `"logId":"${'0'.repeat(32)}"`);
    expect(verifyExport(lines, log.publicKey).firstBad).toMatchObject({ seq: 10, reason: 'checkpoint-signature' });
  });

  it.each([
    ['no header', (l: string[]) => l.slice(1)],
    ['not JSON', (l: string[]) => ['{oops', ...l.slice(1)]],
    ['nothing', () => []],
  ])('%s → malformed', (_what, cut) => {
    expect(verifyExport(cut(lines), log.publicKey)).toMatchObject({ ok: false, firstBad: { reason: 'malformed' } });
  });

  it('an export cut after a checkpoint still verifies, with fewer events (a verifier that needs the whole log must know its length)', () => {
    const cut = lines.slice(0, checkpointLines()[1]! + 1);
    expect(verifyExport(cut, log.publicKey)).toMatchObject({ ok: true, events: 20, uncovered: 0 });
  });
});
