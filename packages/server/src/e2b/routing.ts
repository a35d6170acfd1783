/**
 * Routing of in-sandbox requests. With E2B_SANDBOX_URL set, the SDKs send
 * every request meant for a sandbox (its daemon on port 49983, the code
 * interpreter on 49999) to that one URL, naming the sandbox and port in the
 * `E2b-Sandbox-Id` and `E2b-Sandbox-Port` headers. A router constraint on the
 * port header sends those requests to the adapter's routes on the same
 * listener as the Warden API: envd's `GET /health` and Warden's `/health`
 * coexist, and a request that carries the header never reaches a Warden
 * route (a request without it never reaches the adapter's in-sandbox routes).
 */
import type { FastifyInstance } from 'fastify';

/** The route constraint: `constraints: { [PORT_CONSTRAINT]: '49983' }`. */
export const PORT_CONSTRAINT = 'e2bSandboxPort';

export function addPortConstraint(app: FastifyInstance): void {
  if (app.hasConstraintStrategy(PORT_CONSTRAINT)) return;
  app.addConstraintStrategy({
    name: PORT_CONSTRAINT,
    storage<H>() {
      const byPort = new Map<unknown, H>();
      return {
        get: (port: unknown) => byPort.get(port) ?? null,
        set: (port: unknown, handler: H) => void byPort.set(port, handler),
      };
    },
    deriveConstraint: (req: { headers: Record<string, string | string[] | undefined> }) => {
      const v = req.headers['e2b-sandbox-port'];
      // undefined: not an in-sandbox request (any unconstrained route may match).
      return typeof v === 'string' ? v.trim() : undefined;
    },
    // A request that names a sandbox port matches only routes made for that port.
    mustMatchWhenDerived: true,
  });
}
