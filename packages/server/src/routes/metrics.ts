/**
 * GET /metrics: Prometheus text exposition. It needs a key with the
 * metrics:read scope (or admin): the numbers count every tenant's activity,
 * so they are an operator's. Give Prometheus a key of its own that can do
 * nothing else (`warden keys create --scope metrics:read`). There is no
 * unauthenticated mode: behind a reverse proxy on the same host every request
 * comes from loopback, so "loopback only" would mean "everyone".
 */
import type { FastifyInstance } from 'fastify';
import type { Engine } from '@warden/core';
import { observeEngine } from '../metrics/engine.js';
import type { Metrics } from '../metrics/metrics.js';

export function metricsRoutes(app: FastifyInstance, metrics: Metrics, engine: Engine): void {
  app.get(
    '/metrics',
    {
      config: { scope: 'metrics:read' },
      schema: {
        tags: ['meta'],
        summary: 'Prometheus metrics (text exposition format 0.0.4): sandboxes, commands, guard, approvals, audit, pools, scans, process (metrics:read)',
        response: { 200: { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } } },
      },
    },
    async (_req, reply) => {
      observeEngine(metrics, engine);
      const body = await metrics.registry.metrics();
      return reply.header('content-type', metrics.registry.contentType).send(body);
    },
  );
}
