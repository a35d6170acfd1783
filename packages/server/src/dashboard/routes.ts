/**
 * Serves the dashboard at /ui/ (and sends / there). The pages talk to the API
 * on the same origin with the key the person typed, so they need no cookie
 * and the API needs no CORS. Every page carries a strict CSP: scripts and
 * styles only from this origin, no inline code, no framing, no form posts,
 * and Trusted Types, so text from sandboxes (command output, file names) can
 * never become markup or script even if a component slipped.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Asset, DashboardAssets } from './assets.js';

export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join('; ');

function secure(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', DASHBOARD_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer')
    .header('cross-origin-opener-policy', 'same-origin');
}

function send(req: FastifyRequest, reply: FastifyReply, asset: Asset): FastifyReply {
  secure(reply)
    .header('etag', asset.etag)
    // index.html must be revalidated so a rebuilt dashboard is picked up; hashed assets never change.
    .header('cache-control', asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
  if (req.headers['if-none-match'] === asset.etag) return reply.code(304).send();
  return reply.type(asset.contentType).send(asset.body);
}

const MISSING = (dir: string, reason: string): string =>
  `The Warden dashboard is not built (${reason} in ${dir}).\nBuild it with \`npm run build\` (or scripts/setup.sh) and restart the server. The API works without it.\n`;

export function dashboardRoutes(app: FastifyInstance, assets: DashboardAssets): void {
  const route = { config: { scope: null }, schema: { hide: true } } as const;
  const serve = (req: FastifyRequest, reply: FastifyReply, path: string): FastifyReply => {
    if (assets.state === 'missing') return secure(reply).code(503).type('text/plain; charset=utf-8').header('cache-control', 'no-store').send(MISSING(assets.dir, assets.reason));
    const asset = assets.files.get(path === '' ? 'index.html' : path);
    if (!asset) return secure(reply).code(404).type('text/plain; charset=utf-8').send('No such dashboard file. The dashboard starts at /ui/.\n');
    return send(req, reply, asset);
  };
  app.get('/', route, async (_req, reply) => reply.redirect('/ui/'));
  app.get('/ui', route, async (_req, reply) => reply.redirect('/ui/'));
  app.get<{ Params: { '*': string } }>('/ui/*', route, async (req, reply) => serve(req, reply, req.params['*']));
}
