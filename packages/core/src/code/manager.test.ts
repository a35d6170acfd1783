/** The code contexts of one sandbox, without a sandbox: what the manager keeps and lets go. */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { Gate } from '../guard/gate.js';
import { CodeContexts, MAX_CONTEXTS } from './manager.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function contexts(sandboxEnded: Promise<unknown>): CodeContexts {
  return new CodeContexts({
    sandboxId: 'sbx_test',
    spawn: () => {
      throw new Error('no interpreter starts in these tests');
    },
    defaults: { timeoutMs: 1000, maxOutputBytes: 1000 },
    defaultCwd: '/workspace',
    sandboxEnded,
    assertRunning: () => undefined,
    gate: {} as Gate,
  });
}

async function collected(ref: WeakRef<object>): Promise<boolean> {
  for (let i = 0; i < 20 && ref.deref() !== undefined; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
  return ref.deref() === undefined;
}

describe('CodeContexts', () => {
  it('lets a deleted context go while the sandbox lives on (a create/delete loop must not grow the host heap)', async () => {
    const code = contexts(new Promise(() => undefined)); // a sandbox that never ends
    let ctx: object | undefined = await code.create();
    const ref = new WeakRef(ctx);
    await code.delete((ctx as { id: string }).id);
    ctx = undefined;
    expect(await collected(ref)).toBe(true);
  });

  it('closes every open context when the sandbox ends, and one made after that at once', async () => {
    let end!: () => void;
    const code = contexts(new Promise<void>((resolve) => (end = resolve)));
    const a = await code.create();
    const b = await code.create({ language: 'javascript' });
    await code.delete(b.id);
    end();
    await new Promise((resolve) => setImmediate(resolve));
    await expect(a.run('1')).rejects.toMatchObject({ code: 'E_SANDBOX_CLOSED' });
    expect(a.info()).toMatchObject({ state: 'closed', closedReason: 'the sandbox was closed' });
    expect(b.info()).toMatchObject({ state: 'closed', closedReason: 'deleted' });
    expect(code.list()).toEqual([]);
    const late = await code.create();
    await new Promise((resolve) => setImmediate(resolve));
    await expect(late.run('1')).rejects.toMatchObject({ code: 'E_SANDBOX_CLOSED' });
  });
});

describe('CodeContext.run', () => {
  it('records the end of an admitted cell that never runs because its context closed while the guard waited', async () => {
    let admit!: (a: object) => void;
    const finished: string[] = [];
    const admission = { kind: 'code' };
    const gate = {
      admitWaiting: () => new Promise((resolve) => (admit = resolve)),
      failed: (a: object, err: { code: string }) => finished.push(`${a === admission ? 'same' : 'other'} error:${err.code}`),
    } as unknown as Gate;
    const code = new CodeContexts({
      sandboxId: 'sbx_test',
      spawn: () => {
        throw new Error('no interpreter starts in this test');
      },
      defaults: { timeoutMs: 1000, maxOutputBytes: 1000 },
      defaultCwd: '/workspace',
      sandboxEnded: new Promise(() => undefined),
      assertRunning: () => undefined,
      gate,
    });
    const ctx = await code.create();
    const run = ctx.run('1', { approvalWaitMs: 1000 });
    await ctx.close();
    admit(admission);
    await expect(run).rejects.toMatchObject({ code: 'E_CONTEXT_CLOSED' });
    // The audit log has the cell's start (admitWaiting); it must have its end too.
    expect(finished).toEqual(['same error:E_CONTEXT_CLOSED']);
  });

  it('refuses a context beyond the per-sandbox limit with E_CAPACITY, and makes room again after a delete', async () => {
    const code = contexts(new Promise(() => undefined));
    const made = [];
    for (let i = 0; i < MAX_CONTEXTS; i++) made.push(await code.create());
    await expect(code.create()).rejects.toMatchObject({ code: 'E_CAPACITY', details: { limit: MAX_CONTEXTS } });
    await code.delete(made[0]?.id ?? '');
    await expect(code.create()).resolves.toBeDefined();
  });
});
