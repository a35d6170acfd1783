/**
 * A small "internet" made on this machine for egress tests, so that nothing
 * ever leaves it: each host is a network namespace joined to the host by a
 * veth pair (an address of TEST-NET-3, 203.0.113.0/24, which routes nowhere
 * on the real internet), running HTTP on 80, HTTPS on 443 (certificates from a
 * test CA, one per name through SNI) and a raw TCP answerer on 9000; each logs
 * what it receives. A DNS server on the host's loopback answers A records for
 * the test names (and any extra records a test wants, such as a name that
 * resolves to 127.0.0.1) and logs every query.
 *
 * Needs root and iproute2. Disposing it stops the servers and removes the
 * namespaces and links.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomInt } from 'node:crypto';
import { createCertificateAuthority } from '../../packages/core/src/net/x509.js';

export interface HostSpec {
  /** Names that resolve to this host (its certificate covers each). */
  readonly names: readonly string[];
}

export interface Received {
  readonly host: string;
  readonly kind: 'http' | 'https' | 'tcp';
  readonly method?: string;
  readonly url?: string;
  readonly hostHeader?: string;
  readonly authorization?: string | null;
}

export interface TestInternet extends AsyncDisposable {
  /** `127.0.0.1:PORT` of the DNS server (for EngineOptions.egress.dnsServers). */
  readonly dnsServer: string;
  /** PEM file of the CA that signed the hosts' certificates. */
  readonly caFile: string;
  readonly caPem: string;
  /** The address of each name given in `hosts`. */
  address(name: string): string;
  /** The host's own end of the link to the host serving `name` (an address of this machine). */
  hostSide(name: string): string;
  /** Adds (or replaces) an A record. */
  addRecord(name: string, address: string): void;
  /** What the host serving `name` received (every request and raw connection). */
  received(name: string): Received[];
  /** Every name the DNS server was asked about, in order. */
  queries(): string[];
}

/** The servers run in each namespace: node, this source as a module. */
const SERVER = String.raw`
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { createHash } from 'node:crypto';
const certs = JSON.parse(process.argv[2]);
const label = process.argv[3];
const log = (r) => process.stdout.write(JSON.stringify(r) + '\n');
const handler = (kind) => (req, res) => {
  const auth = req.headers.authorization ?? null;
  log({ kind, method: req.method, url: req.url, hostHeader: req.headers.host, authorization: auth });
  req.resume();
  req.on('end', () => {
    if (req.url === '/slow') { res.writeHead(200, { 'content-type': 'text/plain' }); res.write('start\n'); return; }
    res.writeHead(200, { 'content-type': 'application/json' });
    // The hash, never the header: an upstream that echoes credentials is another matter.
    res.end(JSON.stringify({ server: label, kind, host: req.headers.host, url: req.url, auth: auth === null ? null : createHash('sha256').update(auth).digest('hex') }) + '\n');
  });
};
const first = Object.values(certs)[0];
const contexts = Object.fromEntries(Object.entries(certs).map(([n, c]) => [n, tls.createSecureContext(c)]));
http.createServer(handler('http')).listen(80, '0.0.0.0');
https.createServer({ ...first, SNICallback: (name, cb) => cb(null, contexts[name] ?? contexts[Object.keys(contexts)[0]]) }, handler('https')).listen(443, '0.0.0.0');
net.createServer((s) => { log({ kind: 'tcp' }); s.end('pong-remote'); }).listen(9000, '0.0.0.0', () => log({ ready: true }));
`;

interface Host {
  readonly label: string;
  readonly ns: string;
  readonly link: string;
  readonly address: string;
  /** The host's own end of the link. */
  readonly hostAddress: string;
  readonly names: readonly string[];
  proc?: ChildProcess;
  readonly log: Received[];
}

const ip = (...args: string[]): void => void execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

/** Minimal DNS: A (and empty AAAA) answers for `records`, NXDOMAIN for the rest; every question logged. */
function dnsServer(records: ReadonlyMap<string, string>, queries: string[]): Promise<{ sock: UdpSocket; port: number }> {
  const sock = createSocket('udp4');
  sock.on('message', (msg, rinfo) => {
    try {
      let at = 12;
      const labels: string[] = [];
      while (msg[at]) {
        labels.push(msg.subarray(at + 1, at + 1 + msg[at]!).toString('latin1'));
        at += 1 + msg[at]!;
      }
      const qEnd = at + 5;
      const qtype = msg.readUInt16BE(at + 1);
      const name = labels.join('.').toLowerCase();
      queries.push(name);
      const address = records.get(name);
      const answers: Buffer[] = [];
      if (address && qtype === 1) {
        const a = Buffer.alloc(16);
        a.writeUInt16BE(0xc00c, 0);
        a.writeUInt16BE(1, 2);
        a.writeUInt16BE(1, 4);
        a.writeUInt32BE(5, 6);
        a.writeUInt16BE(4, 10);
        address.split('.').forEach((o, i) => (a[12 + i] = Number(o)));
        answers.push(a);
      }
      const head = Buffer.alloc(12);
      msg.copy(head, 0, 0, 2);
      head.writeUInt16BE(address ? 0x8180 : 0x8183, 2);
      head.writeUInt16BE(1, 4);
      head.writeUInt16BE(answers.length, 6);
      sock.send(Buffer.concat([head, msg.subarray(12, qEnd), ...answers]), rinfo.port, rinfo.address);
    } catch {
      // a malformed query gets no answer
    }
  });
  sock.bind(0, '127.0.0.1');
  return once(sock, 'listening').then(() => ({ sock, port: sock.address().port }));
}

/**
 * Builds the hosts and the DNS server. `records` adds names that resolve
 * elsewhere (a loopback, metadata or private address) without a server.
 */
export async function testInternet(hosts: readonly HostSpec[], records: Readonly<Record<string, string>> = {}): Promise<TestInternet> {
  const tag = randomBytes(3).toString('hex');
  const dir = await mkdtemp(join(tmpdir(), 'warden-internet-'));
  const ca = createCertificateAuthority('test internet', []);
  const caFile = join(dir, 'ca.pem');
  await writeFile(caFile, ca.cert);
  const script = join(dir, 'server.mjs');
  await writeFile(script, SERVER);
  // /30 blocks of 203.0.113.0/24, starting at a random one so that two runs rarely meet.
  const first = randomInt(0, 64 - hosts.length);
  const made: Host[] = hosts.map((h, i) => {
    const base = 4 * (first + i);
    return { label: `host${i}`, ns: `wdn-${tag}-${i}`, link: `wdn${tag}${i}`, address: `203.0.113.${base + 2}`, hostAddress: `203.0.113.${base + 1}`, names: h.names, log: [] };
  });
  const queries: string[] = [];
  const byName = new Map<string, string>(Object.entries(records));
  for (const h of made) for (const n of h.names) byName.set(n, h.address);
  let dns: { sock: UdpSocket; port: number } | undefined;

  const dispose = async (): Promise<void> => {
    for (const h of made) {
      h.proc?.kill('SIGKILL');
      if (h.proc && h.proc.exitCode === null && h.proc.signalCode === null) await once(h.proc, 'exit').catch(() => undefined);
      try {
        ip('link', 'del', h.link);
      } catch {
        // gone with its namespace
      }
      try {
        ip('netns', 'del', h.ns);
      } catch {
        // never made
      }
    }
    dns?.sock.close();
    await rm(dir, { recursive: true, force: true });
  };

  try {
    for (const h of made) {
      ip('netns', 'add', h.ns);
      ip('link', 'add', h.link, 'type', 'veth', 'peer', 'name', `${h.link}p`);
      ip('link', 'set', `${h.link}p`, 'netns', h.ns);
      ip('addr', 'add', `${h.hostAddress}/30`, 'dev', h.link);
      ip('link', 'set', h.link, 'up');
      ip('-n', h.ns, 'addr', 'add', `${h.address}/30`, 'dev', `${h.link}p`);
      ip('-n', h.ns, 'link', 'set', `${h.link}p`, 'up');
      ip('-n', h.ns, 'link', 'set', 'lo', 'up');
      const certs = Object.fromEntries(h.names.map((n) => [n, ca.issue(n)]));
      const proc = spawn('ip', ['netns', 'exec', h.ns, process.execPath, script, JSON.stringify(certs), h.label], { stdio: ['ignore', 'pipe', 'pipe'] });
      h.proc = proc;
      let buf = '';
      let ready!: () => void;
      const isReady = new Promise<void>((r) => (ready = r));
      proc.stdout.setEncoding('utf8').on('data', (d: string) => {
        buf += d;
        for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
          const rec = JSON.parse(buf.slice(0, i)) as Received & { ready?: boolean };
          buf = buf.slice(i + 1);
          if (rec.ready) ready();
          else h.log.push({ ...rec, host: h.label });
        }
      });
      let err = '';
      proc.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
      await Promise.race([
        isReady,
        once(proc, 'exit').then(() => {
          throw new Error(`test host ${h.label} did not start: ${err}`);
        }),
      ]);
    }
    dns = await dnsServer(byName, queries);
  } catch (err) {
    await dispose();
    throw err;
  }
  const hostOf = (name: string): Host => {
    const h = made.find((x) => x.names.includes(name));
    if (!h) throw new Error(`no test host serves ${name}`);
    return h;
  };
  return {
    dnsServer: `127.0.0.1:${dns.port}`,
    caFile,
    caPem: ca.cert,
    address: (name) => hostOf(name).address,
    hostSide: (name) => hostOf(name).hostAddress,
    addRecord: (name, address) => void byName.set(name, address),
    received: (name) => [...hostOf(name).log],
    queries: () => [...queries],
    [Symbol.asyncDispose]: dispose,
  };
}
