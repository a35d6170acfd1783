/**
 * Headless Chromium for end-to-end tests: Debian's /usr/bin/chromium driven
 * by playwright-core (never a downloaded browser). Flags: run as root without
 * the setuid sandbox, and make no connections of its own (this machine has no
 * network; Chromium would otherwise retry Google's hosts at every start).
 */
import { access, mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { expect } from 'vitest';

export const CHROMIUM = '/usr/bin/chromium';

/** Where screenshots go (gitignored): test-results/<suite>/<name>.png. */
export const RESULTS_DIR = fileURLToPath(new URL('../../test-results/', import.meta.url));

export interface TestBrowser extends AsyncDisposable {
  readonly browser: Browser;
}

/** Starts Chromium, or fails saying how to install it. */
export async function launchChromium(): Promise<TestBrowser> {
  await access(CHROMIUM).catch(() => {
    throw new Error(`${CHROMIUM} is missing: the dashboard tests drive Debian's chromium package. Install it with scripts/setup.sh (or apt-get install chromium).`);
  });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30_000,
    // playwright-core passes --headless and a fresh --user-data-dir of its own.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return { browser, [Symbol.asyncDispose]: () => browser.close() };
}

interface Box {
  readonly scrollWidth: number;
  readonly clientWidth: number;
}
interface PageElement {
  readonly tagName: string;
  readonly id: string;
  readonly className: unknown;
  readonly textContent: string | null;
  readonly outerHTML: string;
  readonly labels?: { readonly length: number } | null;
  getAttribute(name: string): string | null;
  getBoundingClientRect(): { readonly right: number };
}
/**
 * The little of the page's globals these checks read, typed here because the
 * test program is typed for Node, not the DOM. Use it inside `page.evaluate`
 * callbacks only (they run in the page): `(globalThis as unknown as InPage).document`.
 */
export interface InPage {
  readonly document: { readonly documentElement: Box; readonly body: Box & { querySelectorAll(selector: string): ArrayLike<PageElement> }; readonly activeElement: PageElement | null };
  readonly sessionStorage: { getItem(name: string): string | null };
  readonly localStorage: { readonly length: number };
  readonly location: { hash: string };
  readonly [name: string]: unknown;
}

/** Fails when the page is wider than the window (a horizontal scrollbar at this viewport). */
export async function expectNoHorizontalOverflow(page: Page, what: string): Promise<void> {
  const m = await page.evaluate(() => {
    const { document } = globalThis as unknown as InPage;
    const el = document.documentElement;
    // The widest element that sticks out past the right edge, to name in the failure.
    let culprit = '';
    let right = el.clientWidth;
    for (const n of Array.from(document.body.querySelectorAll('*'))) {
      const r = n.getBoundingClientRect();
      if (r.right > right + 0.5) {
        right = r.right;
        const cls = typeof n.className === 'string' && n.className !== '' ? `.${n.className.split(' ').join('.')}` : '';
        culprit = `${n.tagName.toLowerCase()}${n.id ? `#${n.id}` : ''}${cls} (right edge ${Math.round(r.right)})`;
      }
    }
    return { scrollWidth: el.scrollWidth, clientWidth: el.clientWidth, bodyScrollWidth: document.body.scrollWidth, culprit };
  });
  expect(m.scrollWidth, `${what}: the page is ${m.scrollWidth}px wide in a ${m.clientWidth}px window; widest: ${m.culprit}`).toBeLessThanOrEqual(m.clientWidth);
  expect(m.bodyScrollWidth, `${what}: the body overflows; widest: ${m.culprit}`).toBeLessThanOrEqual(m.clientWidth);
}

/** Fails when a form control or button has no accessible name (a <label>, aria-label, aria-labelledby, or its own text). */
export async function expectLabelledControls(page: Page, what: string): Promise<void> {
  const unlabelled = await page.evaluate(() => {
    const { document } = globalThis as unknown as InPage;
    return Array.from(document.body.querySelectorAll('input, select, textarea, button'))
      .filter((el) => !(el.labels && el.labels.length > 0) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby') && (el.textContent ?? '').trim() === '')
      .map((el) => el.outerHTML.slice(0, 160));
  });
  expect(unlabelled, `${what}: controls without an accessible name`).toEqual([]);
}

/** Checks the layout fits and every control is labelled, then saves a full-page screenshot as test-results/<suite>/<name>.png. */
export async function screenshot(page: Page, suite: string, name: string): Promise<string> {
  await expectNoHorizontalOverflow(page, name);
  await expectLabelledControls(page, name);
  const dir = `${RESULTS_DIR}${suite}`;
  await mkdir(dir, { recursive: true });
  const path = `${dir}/${name}.png`;
  await page.screenshot({ path, fullPage: true });
  return path;
}
