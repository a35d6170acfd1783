/**
 * Crash safety of the audit log: a process appending in a tight loop (durable
 * and buffered events mixed) is killed with SIGKILL mid-loop, three times over
 * the same file. After each kill the log must reopen, verify from the first
 * event to the last with contiguous seqs, hold every durable event the
 * process reported as written (same hash), and take new appends that verify
 * too. The database file is the oracle.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openAuditLog } from '../../packages/core/src/audit/index.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/audit-writer.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../..', import.meta.url));
/** Durable events to see reported before the kill: enough that the loop is well under way (≈ 50× as many events). */
const REPORTED_BEFORE_KILL = 120;

let dir: string;
let file: string;
let keyFile: string;
let child: ChildProcess | undefined;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'warden-audit-crash-'));
  file = join(dir, 'audit.sqlite');
  keyFile = join(dir, 'audit.key');
});

afterAll(() => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Runs the writer until it has reported `n` durable events, then kills it
 * with SIGKILL a random 0–20 ms later, so the kill lands anywhere: between
 * appends, inside a batch commit, inside a durable commit's fsync.
 */
async function runAndKill(tag: string, n: number): Promise<{ reported: { seq: number; hash: string }[]; stderr: string }> {
  const c = spawn(process.execPath, ['--import', 'tsx', FIXTURE, file, keyFile, tag], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  child = c;
  let stderr = '';
  c.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  // 'close' comes after stdout has ended, so every line written before the kill has been read.
  const closed = once(c, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
  const reported: { seq: number; hash: string }[] = [];
  let kill: NodeJS.Timeout | undefined;
  createInterface({ input: c.stdout }).on('line', (line) => {
    reported.push(JSON.parse(line) as { seq: number; hash: string });
    if (reported.length === n) kill = setTimeout(() => c.kill('SIGKILL'), randomInt(0, 21));
  });
  const deadline = setTimeout(() => c.kill('SIGKILL'), 30_000);
  try {
    const [code, signal] = await closed;
    if (reported.length < n) throw new Error(`audit writer ${tag} ended (${String(code ?? signal)}) after only ${reported.length} durable events: ${stderr}`);
    expect({ code, signal }).toEqual({ code: null, signal: 'SIGKILL' });
  } finally {
    clearTimeout(deadline);
    clearTimeout(kill);
  }
  return { reported, stderr };
}

function rowCount(): { n: number; max: number } {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT count(*) AS n, coalesce(max(seq), 0) AS max FROM events').get() as { n: number; max: number };
  } finally {
    db.close();
  }
}

it('SIGKILL during heavy logging loses at most the buffered tail; the chain verifies, durable events are all there, and appending goes on', async () => {
  let before = 0;
  for (const tag of ['a', 'b', 'c']) {
    const { reported, stderr } = await runAndKill(tag, REPORTED_BEFORE_KILL);
    expect(reported[0]!.seq, `writer ${tag} continued the chain (${stderr})`).toBeGreaterThan(before);

    // Contiguous: as many rows as the last seq.
    const { n, max } = rowCount();
    expect(n).toBe(max);
    expect(max).toBeGreaterThanOrEqual(reported[reported.length - 1]!.seq);

    const log = openAuditLog({ file, keyFile });
    try {
      const report = log.verify();
      expect(report, `after killing writer ${tag}`).toMatchObject({ ok: true, events: max, lastSeq: max });
      expect(report.checkpoints).toBeGreaterThan(0);
      for (const r of reported) expect(log.get(r.seq)?.hash, `durable event ${r.seq} of writer ${tag}`).toBe(r.hash);
      // Everything after a kill is appended to the same chain.
      const next = log.append({ action: 'audit.recovered', actor: 'system', details: { after: tag } }, { durable: true });
      expect(next.seq).toBe(max + 1);
      for (let i = 0; i < 50; i++) log.append({ action: 'command.output', details: { i } });
      expect(log.verify()).toMatchObject({ ok: true, events: max + 51 });
    } finally {
      log.close();
    }
    const ro = openAuditLog({ file, keyFile, readOnly: true });
    try {
      expect(ro.verify()).toMatchObject({ ok: true, events: max + 51, uncovered: 0 });
    } finally {
      ro.close();
    }
    before = max + 51;
  }
});
