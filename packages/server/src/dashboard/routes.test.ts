/** The dashboard's static files: content types, caching, the CSP, and a clear answer when the build is missing. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentTypeOf, loadDashboard } from './assets.js';
import { DASHBOARD_CSP, dashboardRoutes } from './routes.js';

let dir: string;
let app: FastifyInstance;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'warden-dash-'));
  await mkdir(join(dir, 'assets'));
  await writeFile(join(dir, 'index.html'), '<!doctype html><script type="module" src="/ui/assets/app-1.js"></script>');
  await writeFile(join(dir, 'assets', 'app-1.js'), 'console.log(1)');
  await writeFile(join(dir, 'assets', 'app-1.css'), 'body{}');
  app = Fastify();
  dashboardRoutes(app, await loadDashboard(dir));
  await app.ready();
});
afterAll(async () => {
  await app.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the dashboard routes', () => {
  it('serves index.html at /ui/ with the CSP and no caching without revalidation', async () => {
    const r = await app.inject('/ui/');
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.headers['content-security-policy']).toBe(DASHBOARD_CSP);
    expect(r.headers['cache-control']).toBe('no-cache');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['x-frame-options']).toBe('DENY');
    expect(r.body).toContain('app-1.js');
  });

  it('forbids inline scripts and styles, framing and form posts in the CSP', () => {
    expect(DASHBOARD_CSP).toMatch(/script-src 'self'(;|$)/);
    expect(DASHBOARD_CSP).toMatch(/style-src 'self'(;|$)/);
    expect(DASHBOARD_CSP).not.toContain('unsafe-inline');
    expect(DASHBOARD_CSP).toContain("frame-ancestors 'none'");
    expect(DASHBOARD_CSP).toContain("form-action 'none'");
    expect(DASHBOARD_CSP).toContain("connect-src 'self'");
  });

  it('serves hashed assets with their type, cached for a year', async () => {
    const js = await app.inject('/ui/assets/app-1.js');
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const css = await app.inject('/ui/assets/app-1.css');
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
  });

  it('answers 304 to a matching If-None-Match', async () => {
    const first = await app.inject('/ui/assets/app-1.js');
    const etag = first.headers.etag;
    expect(typeof etag).toBe('string');
    const again = await app.inject({ url: '/ui/assets/app-1.js', headers: { 'if-none-match': String(etag) } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
  });

  it('sends / and /ui to /ui/', async () => {
    for (const url of ['/', '/ui']) {
      const r = await app.inject(url);
      expect(r.statusCode).toBe(302);
      expect(r.headers.location).toBe('/ui/');
    }
  });

  it.each(['/ui/nope.js', '/ui/../package.json', '/ui/%2e%2e/%2e%2e/etc/passwd', '/ui/assets/../../index.html', '/ui/assets/..%2F..%2Fpackage.json'])('answers 404 for %s (only files of the build exist)', async (url) => {
    const r = await app.inject(url);
    expect(r.statusCode).toBe(404);
    expect(r.body).not.toContain('root:');
    expect(r.body).not.toContain('"name"');
  });
});

describe('a missing dashboard build', () => {
  it('still lets the server start, and /ui/ says how to build it', async () => {
    const missing = await loadDashboard(join(dir, 'does-not-exist'));
    expect(missing.state).toBe('missing');
    const bare = Fastify();
    dashboardRoutes(bare, missing);
    const r = await bare.inject('/ui/');
    expect(r.statusCode).toBe(503);
    expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(r.body).toContain('npm run build');
    await bare.close();
  });
});

describe('content types', () => {
  it.each([
    ['index.html', 'text/html; charset=utf-8'],
    ['a.JS', 'text/javascript; charset=utf-8'],
    ['x.svg', 'image/svg+xml'],
    ['noext', 'application/octet-stream'],
    ['x.exe', 'application/octet-stream'],
  ])('%s is %s', (name, type) => {
    expect(contentTypeOf(name)).toBe(type);
  });
});
