/**
 * Header injection: for a domain with an injection rule the proxy ends the
 * sandbox's TLS itself (with a certificate from the sandbox's own CA), adds
 * the header to every request, and sends each on over a TLS connection of
 * its own to the address it already checked, verifying the real server's
 * certificate for the name. The sandbox sees the response, never the secret.
 *
 * HTTP/1.1 only (ALPN offers nothing else); upgrades (WebSocket) are refused.
 * A header of the same name sent by the sandbox is replaced, never merged.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { Agent, request } from 'node:https';
import { Duplex } from 'node:stream';
import { TLSSocket, createSecureContext, type SecureContext } from 'node:tls';
import type { CertificateAuthority } from './x509.js';

/** Request headers that concern one hop only, never forwarded. */
const HOP_HEADERS = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'proxy-authenticate', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

export interface InjectTarget {
  readonly host: string;
  readonly port: number;
  /** The checked address to connect to. */
  readonly address: string;
  /** Lower-case header name and its full value. */
  readonly header: string;
  readonly value: string;
}

export interface InjectorOptions {
  readonly ca: CertificateAuthority;
  /** PEM CAs to verify upstream servers with. Default: Node's bundled roots. */
  readonly upstreamCa?: readonly string[] | undefined;
  /** Called once per forwarded request (for the audit log). */
  readonly onRequest?: (method: string, path: string, status: number | undefined) => void;
}

export class Injector {
  readonly #o: InjectorOptions;
  readonly #contexts = new Map<string, SecureContext>();

  constructor(o: InjectorOptions) {
    this.#o = o;
  }

  #context(host: string): SecureContext {
    let ctx = this.#contexts.get(host);
    if (!ctx) {
      const { cert, key } = this.#o.ca.issue(host);
      ctx = createSecureContext({ cert: cert + this.#o.ca.cert, key, minVersion: 'TLSv1.2' });
      this.#contexts.set(host, ctx);
    }
    return ctx;
  }

  /**
   * Serves `client` (a tunnel the client expects to be TLS to `target.host`)
   * until either side closes. Returns a function that tears it all down.
   */
  serve(client: Duplex, target: InjectTarget, onClose: () => void): () => void {
    // A JS-level duplex, so TLS reads what is already buffered in the socket as well.
    const tls = new TLSSocket(Duplex.from({ readable: client, writable: client }), { isServer: true, secureContext: this.#context(target.host), ALPNProtocols: ['http/1.1'] });
    const agent = new Agent({ keepAlive: true, maxSockets: 8, ...(this.#o.upstreamCa ? { ca: [...this.#o.upstreamCa] } : {}) });
    const server = createServer((req, res) => this.#forward(req, res, target, agent));
    server.on('upgrade', (_req, sock: Duplex) => sock.end('HTTP/1.1 501 Not Implemented\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'));
    server.on('clientError', (_err, sock: Duplex) => sock.destroy());
    let closed = false;
    const close = (): void => {
      if (closed) return;
      closed = true;
      agent.destroy();
      tls.destroy();
      client.destroy();
      onClose();
    };
    tls.on('error', close);
    tls.on('close', close);
    client.on('close', close);
    server.emit('connection', tls);
    return close;
  }

  #forward(req: IncomingMessage, res: ServerResponse, t: InjectTarget, agent: Agent): void {
    const headers: IncomingHttpHeaders = {};
    const drop = new Set([...HOP_HEADERS, ...String(req.headers.connection ?? '').toLowerCase().split(',').map((s) => s.trim())]);
    for (const [k, v] of Object.entries(req.headers)) if (!drop.has(k) && k !== t.header) headers[k] = v;
    headers[t.header] = t.value;
    headers.host = req.headers.host ?? (t.port === 443 ? t.host : `${t.host}:${t.port}`);
    const up = request({ host: t.address, port: t.port, servername: t.host, method: req.method, path: req.url, headers, agent });
    up.on('response', (r) => {
      this.#o.onRequest?.(req.method ?? 'GET', req.url ?? '/', r.statusCode);
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(r.headers)) if (v !== undefined && !HOP_HEADERS.has(k)) out[k] = v;
      res.writeHead(r.statusCode ?? 502, out);
      r.pipe(res);
      r.on('error', () => res.destroy());
    });
    up.on('error', (err) => {
      this.#o.onRequest?.(req.method ?? 'GET', req.url ?? '/', undefined);
      if (res.headersSent) res.destroy();
      else res.writeHead(502, { 'content-type': 'text/plain', connection: 'close' }).end(`warden egress: ${t.host}:${t.port} failed: ${err.message}\n`);
    });
    req.pipe(up);
  }
}
