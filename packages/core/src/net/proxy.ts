/**
 * One sandbox's egress proxy, on the host. It listens on a Unix socket in the
 * sandbox's egress directory (bind-mounted read-only into the sandbox, where
 * the agent relays 127.0.0.1:3128 to it), so every connection it accepts is
 * this sandbox's. On each: HTTP CONNECT, a plain-HTTP request in absolute
 * form, or SOCKS5 (told apart by the first byte), then one decision:
 *
 *   mode is allowlist → the destination is a name, not an address → the
 *   allowlist has it (name and port) → it resolves → no address it resolves
 *   to is loopback, private, link-local, metadata… (address-check.ts) →
 *   connect to the checked address (never resolve again: no rebinding).
 *
 * Names are checked against the allowlist before any DNS query, so a name
 * that is not allowed never leaves the host (no DNS tunnelling through the
 * proxy). Every decision is recorded (`net.connect`: allowed, denied or
 * failed, with the destination and reason); denials are rate-limited in the
 * log and the count of those left out is recorded. A policy change cuts the
 * connections it no longer allows. In `none` mode the socket does not exist.
 */
import { once } from 'node:events';
import { chmod, chown, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, isIP, type Server, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { AuditSinkEvent } from '../audit/sink.js';
import type { Logger } from '../logger.js';
import { forbiddenAddress } from './address-check.js';
import { normalizeHostname } from './allowlist.js';
import { CA_BUNDLE_NAME, CA_FILE_NAME, PROXY_SOCKET_NAME } from './env.js';
import { Injector } from './inject.js';
import { injectionDomains, injectionFor, type CompiledInjection, type CompiledPolicy } from './policy.js';
import { ResolveError, type Resolver } from './resolver.js';
import { SocksReply, socksHandshake, socksReply } from './socks.js';
import { HandshakeError, readExactly, readRequestHead, type RequestHead } from './wire.js';
import { createCertificateAuthority } from './x509.js';

export interface EgressProxyOptions {
  readonly sandboxId: string;
  /** Host directory the sandbox sees at SANDBOX_NET_DIR. */
  readonly dir: string;
  /** The sandbox's host uid: owner of the socket (mode 0600). */
  readonly uid: number;
  readonly resolver: Resolver;
  /** PEM CAs for verifying upstream servers when injecting headers. Default: Node's roots. */
  readonly upstreamCa?: readonly string[] | undefined;
  readonly connectTimeoutMs: number;
  /** Audit sink for this sandbox (non-durable events). */
  readonly record: (event: Omit<AuditSinkEvent, 'sandboxId' | 'tenant'>) => void;
  readonly logger: Logger;
}

export type Protocol = 'connect' | 'http' | 'socks5';
type Outcome = 'allowed' | 'denied' | 'failed';

interface Decided {
  readonly host: string;
  readonly port: number;
  readonly address: string;
  readonly addresses: readonly string[];
  readonly rule: string;
  readonly inject: CompiledInjection | undefined;
}

type Decision = { readonly ok: true; readonly d: Decided } | { readonly ok: false; readonly outcome: Outcome; readonly reason: string; readonly detail: string; readonly addresses?: readonly string[] };

interface Live {
  readonly host: string;
  readonly port: number;
  readonly injectKey: string | undefined;
  readonly protocol: Protocol;
  destroy(): void;
}

/** Open client connections per sandbox; more are closed at once. */
const MAX_CONNECTIONS = 512;
const HANDSHAKE_MS = 10_000;
const MAX_HEAD_BYTES = 16 * 1024;
/** Denials recorded per second, after a burst of DENIAL_BURST; the rest are counted. */
const DENIALS_PER_SECOND = 20;
const DENIAL_BURST = 100;
/** Host CA bundles, first found wins, that the sandbox's bundle starts from when headers are injected. */
const HOST_CA_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/cert.pem'];

const HOP_HEADERS = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'proxy-authenticate', 'te', 'trailer', 'upgrade']);

export class EgressProxy {
  readonly #o: EgressProxyOptions;
  #policy: CompiledPolicy | undefined;
  #server: Server | undefined;
  readonly #clients = new Set<Socket>();
  readonly #live = new Set<Live>();
  #injector: Injector | undefined;
  #caDomains: string | undefined;
  #tokens = DENIAL_BURST;
  #refilledAt = Date.now();
  #suppressed = 0;
  #closed = false;
  #own: { readonly at: number; readonly set: ReadonlySet<string> } | undefined;
  /** Serialises apply() and close(). */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(o: EgressProxyOptions) {
    this.#o = o;
  }

  get socketPath(): string {
    return `${this.#o.dir}/${PROXY_SOCKET_NAME}`;
  }

  /** Whether the sandbox's processes should trust the proxy's CA (headers are injected). */
  get injecting(): boolean {
    return (this.#policy?.inject.length ?? 0) > 0;
  }

  /**
   * Puts `policy` in force: opens or removes the socket, (re)makes the CA for
   * injected domains, and cuts open connections the policy no longer allows.
   */
  apply(policy: CompiledPolicy): Promise<void> {
    const run = this.#queue.then(() => this.#apply(policy));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #apply(policy: CompiledPolicy): Promise<void> {
    if (this.#closed) return;
    this.#policy = policy;
    if (policy.inject.length > 0) await this.#prepareCa(policy);
    else this.#injector = undefined;
    if (policy.policy.mode === 'allowlist') await this.#listen();
    else await this.#stopListening();
    for (const c of [...this.#live]) {
      const still = policy.policy.mode === 'allowlist' && policy.allow.match(c.host, c.port) !== undefined && injectionFor(policy, c.host)?.key === c.injectKey;
      if (!still) {
        this.#o.record({ action: 'net.revoke', outcome: 'cut', details: { host: c.host, port: c.port, protocol: c.protocol } });
        c.destroy();
      }
    }
  }

  async #prepareCa(policy: CompiledPolicy): Promise<void> {
    const domains = injectionDomains(policy);
    const key = domains.join(',');
    if (this.#injector && this.#caDomains === key) return;
    // A CA limited (by name constraints) to exactly the injected domains; made again when they change.
    const ca = createCertificateAuthority(this.#o.sandboxId, domains);
    const host = await firstReadable(HOST_CA_BUNDLES);
    const dir = this.#o.dir;
    // Written aside and renamed: a process starting now reads the old files or the new ones, never half of one.
    for (const [name, text] of [[CA_FILE_NAME, ca.cert], [CA_BUNDLE_NAME, `${host ?? ''}\n${ca.cert}`]] as const) {
      await writeFile(`${dir}/${name}.tmp`, text, { mode: 0o644 });
      await rename(`${dir}/${name}.tmp`, `${dir}/${name}`);
    }
    this.#injector = new Injector({ ca, upstreamCa: this.#o.upstreamCa });
    this.#caDomains = key;
  }

  async #listen(): Promise<void> {
    if (this.#server) return;
    const path = this.socketPath;
    await rm(path, { force: true });
    const server = createServer((sock) => this.#accept(sock));
    server.maxConnections = MAX_CONNECTIONS;
    server.listen(path);
    await once(server, 'listening');
    // Only the sandbox's own uid may connect (it shows up inside through a read-only bind of the directory).
    await chown(path, this.#o.uid, this.#o.uid);
    await chmod(path, 0o600);
    this.#server = server;
  }

  async #stopListening(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(this.socketPath, { force: true });
    for (const c of this.#clients) c.destroy();
  }

  /** Stops for good: the socket goes, every connection is cut, suppressed denials are counted in the log. */
  close(): Promise<void> {
    const run = this.#queue.then(async () => {
      if (this.#closed) return;
      this.#closed = true;
      await this.#stopListening();
      for (const c of this.#live) c.destroy();
      this.#flushSuppressed();
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #accept(sock: Socket): void {
    this.#clients.add(sock);
    sock.on('close', () => this.#clients.delete(sock));
    sock.on('error', () => undefined);
    void this.#serve(sock).catch((err: unknown) => {
      if (!(err instanceof HandshakeError)) this.#o.logger.warn('egress proxy connection failed', { sandboxId: this.#o.sandboxId, err: String(err) });
      sock.destroy();
    });
  }

  async #serve(sock: Socket): Promise<void> {
    const deadline = Date.now() + HANDSHAKE_MS;
    const first = await readExactly(sock, 1, deadline);
    sock.unshift(first);
    if (first[0] === 0x05) return this.#serveSocks(sock, deadline);
    const head = await readRequestHead(sock, MAX_HEAD_BYTES, deadline);
    if (head.method === 'CONNECT') return this.#serveConnect(sock, head);
    return this.#serveHttp(sock, head);
  }

  async #serveConnect(sock: Socket, head: RequestHead): Promise<void> {
    const target = splitAuthority(head.target);
    const decision = target ? await this.#decide(target.host, target.port) : refused('bad-request', 'CONNECT needs host:port');
    if (!decision.ok) {
      this.#report('connect', target?.host ?? head.target, target?.port ?? 0, decision);
      return void sock.end(httpRefusal(decision));
    }
    const up = await this.#connect(decision.d, 'connect');
    if (!up) return void sock.end(httpError(502, `cannot connect to ${decision.d.host}:${decision.d.port}`));
    sock.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    this.#tunnel(sock, up, decision.d, 'connect');
  }

  async #serveSocks(sock: Socket, deadline: number): Promise<void> {
    const req = await socksHandshake(sock, deadline);
    if (req.kind === 'unsupported') {
      this.#report('socks5', '', 0, refused('unsupported-command', `SOCKS5 command ${req.command} (only CONNECT is supported)`));
      return socksReply(sock, SocksReply.COMMAND_NOT_SUPPORTED);
    }
    const decision = req.kind === 'address' ? refused('ip-literal', 'destinations must be names, not addresses') : await this.#decide(req.host, req.port);
    if (!decision.ok) {
      this.#report('socks5', req.kind === 'address' ? req.address : req.host, req.port, decision);
      return socksReply(sock, decision.outcome === 'denied' ? SocksReply.NOT_ALLOWED : SocksReply.HOST_UNREACHABLE);
    }
    const up = await this.#connect(decision.d, 'socks5');
    if (!up) return socksReply(sock, SocksReply.CONNECTION_REFUSED);
    socksReply(sock, SocksReply.SUCCEEDED);
    this.#tunnel(sock, up, decision.d, 'socks5');
  }

  /** A plain-HTTP request in absolute form: one request, forwarded with `Connection: close`. */
  async #serveHttp(sock: Socket, head: RequestHead): Promise<void> {
    let url: URL | undefined;
    try {
      url = new URL(head.target);
    } catch {
      url = undefined;
    }
    if (!url || url.protocol !== 'http:' || url.username || url.password) {
      const d = refused('bad-request', url?.protocol === 'https:' ? 'use CONNECT (HTTPS_PROXY) for https:// URLs' : 'this is a proxy: send requests in absolute form (http://host/path) or use CONNECT');
      this.#report('http', url?.hostname ?? '', 0, d);
      return void sock.end(httpRefusal(d));
    }
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const port = url.port === '' ? 80 : Number(url.port);
    const decision = await this.#decide(host, port);
    if (!decision.ok) {
      this.#report('http', host, port, decision);
      return void sock.end(httpRefusal(decision));
    }
    const up = await this.#connect(decision.d, 'http');
    if (!up) return void sock.end(httpError(502, `cannot connect to ${decision.d.host}:${decision.d.port}`));
    // Origin form, hop-by-hop headers dropped, one request per connection: the tunnel below then carries
    // the body and the response as they are. Whatever the client sends later still goes to this address.
    const drop = new Set([...HOP_HEADERS, ...(head.headers.find(([k]) => k.toLowerCase() === 'connection')?.[1] ?? '').toLowerCase().split(',').map((s) => s.trim())]);
    const lines = [`${head.method} ${url.pathname}${url.search} ${head.version}`];
    for (const [k, v] of head.headers) if (!drop.has(k.toLowerCase())) lines.push(`${k}: ${v}`);
    lines.push('Connection: close', '', '');
    up.write(lines.join('\r\n'));
    this.#tunnel(sock, up, decision.d, 'http');
  }

  async #decide(rawHost: string, port: number): Promise<Decision> {
    const policy = this.#policy;
    if (!policy || policy.policy.mode !== 'allowlist') return refused('egress-off', 'this sandbox has no network (mode none)');
    if (isIP(rawHost) !== 0 || rawHost.startsWith('[')) return refused('ip-literal', 'destinations must be names, not addresses');
    const host = normalizeHostname(rawHost);
    if (host === undefined) return refused('bad-name', 'not a DNS name');
    // RFC 6761: localhost names are loopback whatever a resolver says (a DNS server may not even know them).
    if (host === 'localhost' || host.endsWith('.localhost')) return refused('forbidden-address:loopback', `${host} is a loopback name`);
    if (!Number.isInteger(port) || port < 1 || port > 65_535) return refused('bad-port', `port ${port}`);
    const rule = policy.allow.match(host, port);
    if (!rule) return refused('not-allowed', `${host}:${port} is not in the sandbox's allowlist`);
    let addresses: string[];
    try {
      addresses = await this.#o.resolver.resolve(host);
    } catch (err) {
      const why = err instanceof ResolveError ? err : new ResolveError('failed', String(err));
      return { ok: false, outcome: 'failed', reason: why.kind === 'not-found' ? 'unresolved' : 'resolve-failed', detail: why.message };
    }
    const own = this.#hostAddresses();
    for (const a of addresses) {
      // The host's own public addresses reach its services as surely as loopback does.
      const cls = forbiddenAddress(a) ?? (own.has(a.toLowerCase()) ? 'host' : undefined);
      if (cls) return { ok: false, outcome: 'denied', reason: `forbidden-address:${cls}`, detail: `${host} resolves to ${a} (${cls})`, addresses };
    }
    // The policy may have changed while the name resolved.
    if (this.#policy !== policy && !this.#policy?.allow.match(host, port)) return refused('not-allowed', `${host}:${port} is not in the sandbox's allowlist`);
    return { ok: true, d: { host, port, address: addresses[0]!, addresses, rule: rule.entry, inject: injectionFor(this.#policy ?? policy, host) } };
  }

  /** Connects to the checked address; records the outcome either way. */
  async #connect(d: Decided, protocol: Protocol): Promise<Socket | undefined> {
    const started = performance.now();
    const up = connect({ host: d.address, port: d.port });
    up.setNoDelay(true);
    const timer = setTimeout(() => up.destroy(new Error(`no answer within ${this.#o.connectTimeoutMs} ms`)), this.#o.connectTimeoutMs);
    try {
      await once(up, 'connect');
    } catch (err) {
      this.#record('failed', protocol, d.host, d.port, { reason: 'connect-failed', detail: (err as Error).message, address: d.address });
      return undefined;
    } finally {
      clearTimeout(timer);
    }
    this.#record('allowed', protocol, d.host, d.port, {
      rule: d.rule,
      address: d.address,
      connectMs: Math.round((performance.now() - started) * 1000) / 1000,
      ...(d.inject ? { injected: d.inject.header, secret: d.inject.secret } : {}),
    });
    return up;
  }

  #tunnel(client: Socket, up: Socket, d: Decided, protocol: Protocol): void {
    let destroy: () => void;
    const live: Live = { host: d.host, port: d.port, injectKey: d.inject?.key, protocol, destroy: () => destroy() };
    this.#live.add(live);
    const done = (): void => void this.#live.delete(live);
    const injector = this.#injector;
    if (d.inject && injector && protocol !== 'http') {
      const stop = injector.serve(client, { host: d.host, port: d.port, address: d.address, header: d.inject.header, value: d.inject.value }, () => {
        up.destroy();
        done();
      });
      // The injector makes its own TLS connections; this one only proved the address answers.
      up.destroy();
      destroy = stop;
      return;
    }
    destroy = () => {
      client.destroy();
      up.destroy();
    };
    up.on('error', () => client.destroy());
    client.on('error', () => up.destroy());
    client.on('close', () => {
      up.destroy();
      done();
    });
    up.on('close', () => client.destroy());
    client.pipe(up);
    up.pipe(client);
  }

  #report(protocol: Protocol, host: string, port: number, d: Extract<Decision, { ok: false }>): void {
    this.#record(d.outcome, protocol, host, port, { reason: d.reason, detail: d.detail, ...(d.addresses ? { addresses: [...d.addresses] } : {}) });
  }

  #record(outcome: Outcome, protocol: Protocol, host: string, port: number, details: Record<string, unknown>): void {
    if (outcome !== 'allowed' && !this.#takeToken()) {
      this.#suppressed++;
      return;
    }
    const suppressed = this.#suppressed;
    this.#suppressed = 0;
    this.#o.record({
      action: 'net.connect',
      outcome,
      preview: `${protocol} ${host.slice(0, 255)}:${port}`,
      details: { protocol, host: host.slice(0, 255), port, ...details, ...(suppressed > 0 ? { suppressedBefore: suppressed } : {}) },
    });
  }

  /** Addresses of this host's interfaces (re-read at most once a second: interfaces come and go). */
  #hostAddresses(): ReadonlySet<string> {
    const now = Date.now();
    if (!this.#own || now - this.#own.at > 1000) {
      const set = new Set<string>();
      for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) set.add(a.address.toLowerCase());
      this.#own = { at: now, set };
    }
    return this.#own.set;
  }

  #takeToken(): boolean {
    const now = Date.now();
    this.#tokens = Math.min(DENIAL_BURST, this.#tokens + ((now - this.#refilledAt) / 1000) * DENIALS_PER_SECOND);
    this.#refilledAt = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  #flushSuppressed(): void {
    if (this.#suppressed === 0) return;
    this.#o.record({ action: 'net.suppressed', outcome: 'denied', details: { count: this.#suppressed } });
    this.#suppressed = 0;
  }
}

function refused(reason: string, detail: string): Extract<Decision, { ok: false }> {
  return { ok: false, outcome: 'denied', reason, detail };
}

/** `host:port` or `[v6]:port` of a CONNECT request. */
function splitAuthority(target: string): { host: string; port: number } | undefined {
  const m = /^(\[[^\]]+\]|[^:[\]]+):([0-9]{1,5})$/.exec(target);
  return m ? { host: m[1]!, port: Number(m[2]) } : undefined;
}

function httpRefusal(d: Extract<Decision, { ok: false }>): string {
  const status = d.outcome === 'denied' ? 403 : 502;
  return httpError(status, `${d.reason}: ${d.detail}`);
}

function httpError(status: number, text: string): string {
  const body = `warden egress: ${text}\n`;
  const reason = status === 403 ? 'Forbidden' : status === 400 ? 'Bad Request' : 'Bad Gateway';
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

async function firstReadable(paths: readonly string[]): Promise<string | undefined> {
  for (const p of paths) {
    const text = await readFile(p, 'utf8').catch(() => undefined);
    if (text !== undefined) return text;
  }
  return undefined;
}

