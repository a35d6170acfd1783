/**
 * Secrets given to a real sandbox (as variables and files) arrive intact, and
 * their values are masked in everything handed back: command results and
 * streamed output (a value printed in pieces too), session output, code
 * cells, and the audit log. The host is the oracle for "intact": the sandbox
 * prints a hash of what it got, which the test compares with its own.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasCode } from '@warden/protocol';
import type { Sandbox } from '@warden/core';
import { openAuditLog } from '../../packages/core/src/audit/index.js';
import type { AuditLog } from '../../packages/core/src/audit/types.js';
import { testEngine, type TestEngine } from '../helpers/host.js';

const SECRET = `sk-test-${createHash('sha256').update(String(Math.random())).digest('hex').slice(0, 24)}`;
const FILE_SECRET = `db-pass-${createHash('sha256').update(String(Math.random())).digest('hex').slice(0, 20)}`;
const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

let t: TestEngine;
let audit: AuditLog;
let dir: string;
let sbx: Sandbox;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'warden-secrets-it-'));
  audit = openAuditLog({ file: join(dir, 'audit.sqlite'), keyFile: join(dir, 'audit.pem') });
  t = await testEngine({ audit });
  sbx = await t.engine.create(
    { secrets: [{ name: 'API_TOKEN' }, { name: 'DB_PASSWORD', file: '/tmp/secrets/db' }, { name: 'RENAMED', env: 'OTHER_NAME' }], limits: { timeoutMs: 20_000 } },
    { secrets: { API_TOKEN: SECRET, DB_PASSWORD: FILE_SECRET, RENAMED: 'renamed-value-1234' }, actor: 'test' },
  );
});

afterAll(async () => {
  await t?.[Symbol.asyncDispose]();
  audit?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('secrets in a sandbox', () => {
  it('arrive intact as variables and files (the sandbox hashes what it got)', async () => {
    const r = await sbx.exec(['sh', '-c', 'printf %s "$API_TOKEN" | sha256sum; sha256sum < /tmp/secrets/db; printf %s "$OTHER_NAME" | sha256sum; echo "${DB_PASSWORD-unset}"']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.split('\n').map((l) => l.split(' ')[0])).toEqual([sha(SECRET), sha(FILE_SECRET), sha('renamed-value-1234'), 'unset', '']);
  });

  it('are masked in results and in streamed output, also when printed in pieces or encoded', async () => {
    const streamed: Buffer[] = [];
    const r = await sbx.exec(
      [
        'sh',
        '-c',
        // The value in two writes with a pause between them (two output chunks), then base64 and URL-encoded forms, and the file.
        'head=${API_TOKEN%????????????}; printf "A %s" "$head"; sleep 0.3; printf "%s B\\n" "${API_TOKEN#"$head"}"; printf %s "$API_TOKEN" | base64; cat /tmp/secrets/db; echo; echo "$API_TOKEN" >&2',
      ],
      { onStdout: (b) => streamed.push(b) },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe('A [MASKED] B\n[MASKED]\n[MASKED]\n');
    expect(r.stderr).toBe('[MASKED]\n');
    expect(Buffer.concat(streamed).toString()).toBe(r.stdout);
    expect(streamed.length).toBeGreaterThan(1);
    for (const chunk of streamed) expect(chunk.toString()).not.toMatch(/sk-test-/);
  });

  it('are masked in session output and code cells', async () => {
    await using s = await sbx.sessions.create();
    const run = await s.run('echo "token=$API_TOKEN"; cat /tmp/secrets/db');
    expect(run.stdout).toBe('token=[MASKED]\n[MASKED]');
    const cell = await sbx.runCode("import os\nprint(os.environ['API_TOKEN'])\nos.environ['API_TOKEN']");
    expect(cell.logs.stdout.join('')).toBe('[MASKED]\n');
    expect(cell.results[0]?.text).toBe("'[MASKED]'");
    const err = await sbx.runCode("raise ValueError(os.environ['API_TOKEN'])");
    expect(err.error?.value).toBe('[MASKED]');
    expect(err.error?.traceback).not.toContain(SECRET);
  });

  it('are masked in the audit log, even typed into a command line', async () => {
    const r = await sbx.exec(['sh', '-c', `test "$API_TOKEN" = '${SECRET}' && echo same`]);
    expect(r.stdout).toBe('same\n');
    audit.flush();
    const events = JSON.stringify(audit.query({ sandboxId: sbx.id, limit: 1000 }));
    expect(events).toContain('[MASKED]');
    expect(events).not.toContain(SECRET);
    expect(events).not.toContain(FILE_SECRET);
    // The create event names the secrets, never their values.
    const created = audit.query({ sandboxId: sbx.id, action: 'sandbox.create' })[0];
    expect(created?.details).toMatchObject({ secrets: [{ name: 'API_TOKEN' }, { name: 'DB_PASSWORD', file: '/tmp/secrets/db' }, { name: 'RENAMED', env: 'OTHER_NAME' }] });
  });

  it('twin: without the secret, the same kind of text is shown as it is', async () => {
    const r = await sbx.exec(['sh', '-c', 'echo sk-test-not-a-secret-value']);
    expect(r.stdout).toBe('sk-test-not-a-secret-value\n');
  });

  it('refuses a name without a value, an inject-only secret as a variable, and a clash with env — starting nothing', async () => {
    const before = t.engine.list().length;
    const cases: Array<[Parameters<typeof t.engine.create>[0], Parameters<typeof t.engine.create>[1], string]> = [
      [{ secrets: [{ name: 'MISSING' }] }, { secrets: {} }, 'E_SECRET_NOT_FOUND'],
      [{ secrets: [{ name: 'K' }] }, { secrets: { K: { value: 'inject-only-value', injectOnly: true } } }, 'E_SECRET_FORBIDDEN'],
      [{ env: { K: '1' }, secrets: [{ name: 'K' }] }, { secrets: { K: 'value-1234' } }, 'E_INVALID_SPEC'],
      [{ secrets: [{ name: 'K', file: '/workspace/k' }] }, { secrets: { K: 'value-1234' } }, 'E_INVALID_SPEC'],
    ];
    for (const [spec, context, code] of cases) {
      const err = await t.engine.create(spec, context).catch((e: unknown) => e);
      expect(hasCode(err, code as 'E_INVALID_SPEC'), `${JSON.stringify(spec)} → ${String(err)}`).toBe(true);
      expect(String((err as Error).message)).not.toContain('inject-only-value');
    }
    expect(t.engine.list().length).toBe(before);
  });
});
