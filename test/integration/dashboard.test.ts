/**
 * The dashboard end to end: a real server (its built dashboard at /ui/), the
 * real SDK playing the agent, and a person in real headless Chromium. Every
 * page is checked for horizontal overflow at 1280×800 and saved as a
 * screenshot under test-results/dashboard/.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox, WardenClient, hasCode } from '@warden/sdk';
import { testServer, type TestServer } from '../helpers/server.js';
import { launchChromium, screenshot, type InPage, type TestBrowser } from '../helpers/browser.js';
import { tempDir } from '../helpers/host.js';

const SUITE = 'dashboard';
const VIEWPORT = { width: 1280, height: 800 };

let t: TestServer;
let chrome: TestBrowser;
let context: BrowserContext;
let page: Page;
/** The agent: creates sandboxes and runs commands; it can never approve its own requests. */
let agentKey: string;
let sbx: Sandbox;
const sandboxes: Sandbox[] = [];
/** Requests that carried an Authorization header, to prove the key goes only to the API. */
const keyedRequests: string[] = [];
/** Console errors other than failed fetches the UI handles (401 on a wrong key, 428 while an approval is pending). */
const consoleErrors: string[] = [];

const shot = (name: string): Promise<string> => screenshot(page, SUITE, name);
const goto = async (hash: string): Promise<void> => {
  await page.evaluate((h) => {
    (globalThis as unknown as InPage).location.hash = h;
  }, hash);
};

beforeAll(async () => {
  chrome = await launchChromium();
  t = await testServer();
  const ui = await fetch(`${t.url}/ui/`);
  if (ui.status !== 200) throw new Error(`GET /ui/ answered ${ui.status}: build the dashboard first (npm run build). ${await ui.text()}`);
  agentKey = t.key('default', ['sandboxes:read', 'sandboxes:write']);
  sbx = await Sandbox.create({ ...t.conn(agentKey), metadata: { job: 'e2e-dash' } });
  sandboxes.push(sbx);
  context = await chrome.browser.newContext({ viewport: VIEWPORT });
  page = await context.newPage();
  page.on('request', (r) => {
    if (r.headers().authorization !== undefined) keyedRequests.push(r.url());
  });
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
});

afterAll(async () => {
  if (consoleErrors.length > 0) console.error('browser console errors:', consoleErrors);
  await context?.close();
  await chrome?.[Symbol.asyncDispose]();
  for (const s of sandboxes) await s.kill().catch(() => undefined);
  await t?.[Symbol.asyncDispose]();
});

describe('the dashboard in headless Chromium', () => {
  it('serves its pages under a strict CSP and signs in with an API key kept in this tab only', async () => {
    const res = await page.goto(`${t.url}/`);
    expect(page.url()).toBe(`${t.url}/ui/`);
    const headers = res?.headers() ?? {};
    expect(headers['content-security-policy']).toContain("script-src 'self'");
    expect(headers['content-security-policy']).not.toContain('unsafe-inline');

    const key = page.getByLabel('API key');
    await expect.poll(() => key.isVisible()).toBe(true);
    await shot('login');
    // A wrong key: refused, with the server's reason.
    await key.fill('wdn_not_a_real_key_0000000000');
    await key.press('Enter');
    await page.getByRole('alert').filter({ hasText: 'unknown, revoked or expired' }).waitFor();

    await key.fill(t.adminKey);
    await key.press('Enter');
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    expect(await page.evaluate(() => (globalThis as unknown as InPage).sessionStorage.getItem('warden.apiKey'))).toBe(t.adminKey);
    expect(await page.evaluate(() => (globalThis as unknown as InPage).localStorage.length)).toBe(0);
    expect(page.url()).not.toContain(t.adminKey);
    expect(keyedRequests.length).toBeGreaterThan(0);
    for (const u of keyedRequests) expect(u.startsWith(`${t.url}/`), u).toBe(true);

    // A reload keeps the session (sessionStorage), and signing out forgets the key.
    await page.reload();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').waitFor();
    expect(await page.evaluate(() => (globalThis as unknown as InPage).sessionStorage.getItem('warden.apiKey'))).toBeNull();
    await page.getByLabel('API key').fill(t.adminKey);
    await page.getByLabel('API key').press('Enter');
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
  });

  it('can be used from the keyboard: a skip link first, then the page', async () => {
    await goto('#/sandboxes');
    await page.reload();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    const focused = (): Promise<string> => page.evaluate(() => {
      const el = (globalThis as unknown as InPage).document.activeElement;
      return el ? `${el.tagName.toLowerCase()}#${el.id}:${(el.textContent ?? '').trim()}` : '';
    });
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('a#:Skip to content');
    await page.keyboard.press('Enter');
    expect(await focused()).toMatch(/^main#main:/);
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('button#:New sandbox');
  });

  it('lists sandboxes and filters them by metadata', async () => {
    const other = await Sandbox.create({ ...t.conn(agentKey), metadata: { job: 'other' } });
    sandboxes.push(other);
    await goto('#/sandboxes');
    const table = page.getByTestId('sandbox-table');
    await table.getByText(other.id).waitFor();
    await table.getByText(sbx.id).waitFor();
    await page.getByLabel('Metadata').fill('job=e2e-dash');
    await page.getByLabel('Metadata').press('Enter');
    await expect.poll(() => table.getByText(other.id).count()).toBe(0);
    await table.getByText(sbx.id).waitFor();
    await shot('sandboxes');
  });

  it("streams a command's output live while it runs, as text", async () => {
    await page.getByTestId('sandbox-table').getByRole('link', { name: sbx.id }).click();
    await page.getByRole('heading', { name: `Sandbox ${sbx.id}` }).waitFor();
    const cmd = page.getByLabel('Command', { exact: true });
    await cmd.fill(`for i in 1 2 3 4; do echo tick-$i; sleep 1; done; echo '<b id="inj">done</b>' >&2`);
    await cmd.press('Enter');
    const output = page.getByTestId('output').first();
    const status = page.getByTestId('run-status');
    await output.getByText('tick-1').waitFor();
    // The first line is on screen while the command still runs: the output streamed.
    expect(await status.getAttribute('data-state')).toBe('running');
    expect(await output.textContent()).not.toContain('tick-4');
    await expect.poll(() => status.getAttribute('data-state'), { timeout: 15_000 }).toBe('done');
    await status.getByText('exit 0').waitFor();
    expect(await output.textContent()).toContain('<b id="inj">done</b>'); // shown as text
    expect(await page.locator('#inj').count()).toBe(0); // never parsed as markup
    await shot('sandbox-terminal');
  });

  it("follows an agent's background command from the commands list", async () => {
    const bg = await sbx.commands.run('for i in 1 2 3; do echo agent-$i; sleep 0.7; done', { background: true });
    const row = page.locator(`tr[data-command-id="${bg.id}"]`);
    await row.waitFor({ timeout: 10_000 });
    await row.getByRole('button', { name: 'Output' }).click();
    await page.getByLabel(`Output of ${bg.id}`).getByText('agent-1').waitFor();
    await expect.poll(() => page.getByTestId('follow-status').textContent(), { timeout: 15_000 }).toContain('exit 0');
    expect(await page.getByLabel(`Output of ${bg.id}`).textContent()).toContain('agent-3');
    expect((await bg.wait()).exitCode).toBe(0);
  });

  it('browses files whose names and contents are attacker-controlled, as text', async () => {
    const name = '<img src=x onerror="window.__pwned=1">.txt';
    await sbx.files.write(`/workspace/${name}`, '<script>window.__pwned=2</script>\nplain line\n');
    await sbx.files.write('/workspace/src/app.py', 'print("hi")\n');
    await page.getByRole('tab', { name: 'Terminal' }).focus();
    await page.keyboard.press('ArrowRight'); // tabs follow the arrow keys
    expect(await page.getByRole('tab', { name: 'Files' }).getAttribute('aria-selected')).toBe('true');
    const files = page.getByTestId('file-table');
    await files.getByRole('button', { name }).click();
    const preview = page.getByTestId('file-preview');
    await preview.getByText('plain line').waitFor();
    expect(await preview.locator('pre').textContent()).toContain('<script>window.__pwned=2</script>');
    expect(await files.locator('img').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as unknown as InPage).__pwned)).toBeUndefined();
    await files.getByRole('button', { name: 'src/' }).click();
    await files.getByRole('button', { name: 'app.py' }).waitFor();
    await shot('sandbox-files');
  });

  it("shows a codebase sandbox's changes", async () => {
    await using src = await tempDir('warden-dash-cb-');
    await mkdir(join(src.path, 'docs'));
    await writeFile(join(src.path, 'docs/readme.md'), 'hello\n');
    await writeFile(join(src.path, 'old.txt'), 'bye\n');
    await t.server.engine.codebases.add({ dir: src.path }, { name: 'dash-cb' });
    const cb = await Sandbox.create({ ...t.conn(agentKey), codebase: { name: 'dash-cb' }, preset: 'full-write' });
    sandboxes.push(cb);
    await cb.files.write('docs/readme.md', 'changed\n');
    await cb.files.write('docs/new.md', 'new\n');
    await cb.files.remove('old.txt');
    await goto(`#/sandboxes/${cb.id}`);
    await page.getByRole('tab', { name: 'Changes' }).click();
    const diff = page.getByTestId('diff-table');
    await diff.getByText('docs/new.md').waitFor();
    await expect.poll(() => page.getByTestId('diff-summary').textContent()).toContain('1 added · 1 modified · 1 deleted');
    await diff.getByRole('button', { name: 'docs/readme.md' }).click();
    await page.getByTestId('file-preview').getByText('changed').waitFor();
    await shot('sandbox-changes');
  });

  it('approves a held command once, and the command then completes', async () => {
    const run = sbx.commands.run('X="echo approved-$((6*7))"; eval "$X"', { approvalWaitMs: 60_000 });
    run.catch(() => undefined);
    await goto('#/approvals');
    const card = page.locator('article.approval').filter({ hasText: 'approved-$((6*7))' });
    await card.waitFor({ timeout: 10_000 });
    // The exact action the approval binds to: the command line as the sandbox runs it.
    expect(await card.getByTestId('approval-action').textContent()).toContain('X="echo approved-$((6*7))"; eval "$X"');
    await card.getByText('code-eval.dynamic').first().waitFor();
    await card.getByLabel('Risk: medium').waitFor();
    await page.getByTestId('pending-count').waitFor(); // the nav shows the queue's size
    await shot('approvals-pending');
    const approvalId = await card.getAttribute('data-approval-id');
    await card.getByLabel(/^Reason/).fill('reviewed: prints a number');
    await card.getByRole('button', { name: 'Approve once' }).click();

    const r = await run;
    expect(r.reason).toBe('exited');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('approved-42\n');
    await card.waitFor({ state: 'detached' });
    const decided = page.getByTestId('decision-table').locator(`tr[data-approval-id="${approvalId}"]`);
    await decided.getByText('reviewed: prints a number').waitFor();

    // The sandbox's page shows the command completed.
    await goto(`#/sandboxes/${sbx.id}`);
    const row = page.getByTestId('command-table').locator('tr', { hasText: 'approved-$((6*7))' });
    await row.getByText('exit 0').waitFor({ timeout: 10_000 });
  });

  it('denies a held command with a reason, and the agent gets the refusal', async () => {
    const run = sbx.commands.run('sudo cat /etc/shadow', { approvalWaitMs: 60_000 });
    run.catch(() => undefined);
    await goto('#/approvals');
    const card = page.locator('article.approval').filter({ hasText: 'sudo cat /etc/shadow' });
    await card.waitFor({ timeout: 10_000 });
    await card.getByText('privilege.sudo').first().waitFor();
    const approvalId = await card.getAttribute('data-approval-id');
    await card.getByLabel(/^Reason/).fill('no root for agents');
    await card.getByRole('button', { name: 'Deny' }).click();

    const err: unknown = await run.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(hasCode(err, 'E_GUARD_DENIED')).toBe(true);
    expect((err as Error).message).toContain('no root for agents');
    const row = page.getByTestId('decision-table').locator(`tr[data-approval-id="${approvalId}"]`);
    await row.getByText('denied').waitFor();
    await row.getByText('no root for agents').waitFor();
    await shot('approvals-decided');
  });

  it('shows a command the person ran as held, then refused when another approver denies it', async () => {
    const decider = new WardenClient(t.conn(t.key('default', ['sandboxes:read', 'approvals:decide'])));
    await goto(`#/sandboxes/${sbx.id}`);
    const cmd = page.getByLabel('Command', { exact: true });
    await cmd.fill('sudo -n id');
    await cmd.press('Enter');
    const status = page.getByTestId('run-status');
    await expect.poll(() => status.getAttribute('data-state'), { timeout: 10_000 }).toBe('waiting');
    await status.getByText('Held by the guard').waitFor();
    const [pending] = await decider.approvals.list({ state: 'pending', sandboxId: sbx.id });
    expect(pending?.action).toContain('sudo -n id');
    await decider.approvals.deny(pending!.id, { reason: 'decided elsewhere' });
    await expect.poll(() => status.getAttribute('data-state'), { timeout: 10_000 }).toBe('refused');
    await status.getByText('decided elsewhere').waitFor();
  });

  it('finds the events in the audit explorer, with the chain verified', async () => {
    await goto(`#/audit?sandboxId=${sbx.id}`);
    await expect.poll(() => page.getByTestId('chain-status').getAttribute('data-ok'), { timeout: 10_000 }).toBe('true');
    const table = page.getByTestId('audit-table');
    await table.locator('tr[data-action="approval.decide"]').first().waitFor();
    expect(await table.locator('tr[data-action="approval.request"]').count()).toBeGreaterThanOrEqual(3);
    expect(await table.locator('tr[data-action="approval.decide"]').count()).toBeGreaterThanOrEqual(3);
    // Only the approvals' events (a prefix filter), the person's refusal among them.
    await page.getByLabel('Action').fill('approval.*');
    await page.getByLabel('Action').press('Enter');
    const actions = async (): Promise<Array<string | null>> => Promise.all((await table.locator('tbody tr').all()).map((r) => r.getAttribute('data-action', { timeout: 1000 })));
    await expect.poll(async () => (await actions()).every((action) => action?.startsWith('approval.') === true)).toBe(true);
    const denied = table.locator('tr[data-action="approval.decide"]', { hasText: 'sudo cat /etc/shadow' });
    await denied.getByRole('button').click();
    const detail = page.getByTestId('audit-detail');
    await detail.getByText('privilege.sudo, credential-access.secret-files').waitFor();
    await detail.getByText('denied', { exact: true }).waitFor();
    expect(await detail.textContent()).toContain('"reason": "no root for agents"');
    await detail.getByText('Previous hash').waitFor();
    await shot('audit');
  });

  it('shows codebases in use and the guard policy, and checks code against it', async () => {
    await goto('#/codebases');
    await page.getByTestId('codebase-table').getByText('dash-cb').waitFor();
    await page.getByTestId('policy-view').getByText('has no policy layer of its own').waitFor();
    await page.getByLabel('Code', { exact: true }).fill('rm -rf / --no-preserve-root');
    await page.getByRole('button', { name: 'Check' }).click();
    await page.getByTestId('guard-result').getByLabel('Decision: deny').waitFor();
    await shot('codebases-policy');
  });

  it('shows server health and the warm pools', async () => {
    await goto('#/health');
    await page.getByTestId('health').getByText('0.1.0').waitFor();
    await page.getByTestId('pool-summary').waitFor();
    await shot('health');
  });

  it('kills a sandbox after a confirmation', async () => {
    await goto(`#/sandboxes/${sbx.id}`);
    await page.getByRole('button', { name: 'Kill sandbox' }).click();
    await page.getByRole('button', { name: 'Yes, kill it' }).click();
    await page.getByTestId('sandbox-summary').getByLabel('State: closed').waitFor({ timeout: 15_000 });
    expect((await Sandbox.info(sbx.id, t.conn(agentKey))).state).toBe('closed');
    await shot('sandbox-killed');
  });

  it('logged no script errors or CSP violations', () => {
    expect(consoleErrors).toEqual([]);
  });
});
