/**
 * Threat: sandboxed code reaches the network — host services on loopback
 * (databases, the Warden API itself), the host's own addresses, abstract
 * unix sockets (scoped by network namespace), or the outside world.
 * Oracle: servers on the host count the connections they accept (zero).
 * Twin: the same client probe reaches a server started inside the sandbox on
 * the very same port and socket name; the host's own client reaches the host
 * server (the counter works).
 */
import { readFile } from 'node:fs/promises';
import { createServer, connect, type Server } from 'node:net';
import { networkInterfaces } from 'node:os';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, testRuntime } from '../helpers/host.js';
import { token, useEngine } from './harness.js';

const h = useEngine();

/** Prints, per target ("tcp HOST PORT" or "unix NAME" for an abstract socket), what connecting gave. */
const PY_CONNECT = `
import errno, socket, sys
args = sys.argv[1:]
while args:
    kind = args.pop(0)
    if kind == 'unix':
        s, addr = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM), '\\0' + args.pop(0)
    else:
        host, port = args.pop(0), int(args.pop(0))
        fam = socket.AF_INET6 if ':' in host else socket.AF_INET
        s, addr = socket.socket(fam, socket.SOCK_STREAM), (host, port)
    s.settimeout(3)
    try:
        s.connect(addr)
        print('connected', s.recv(64).decode(), flush=True)
    except socket.timeout:
        print('ETIMEDOUT', flush=True)
    except OSError as e:
        print(errno.errorcode.get(e.errno, str(e)), flush=True)
    finally:
        s.close()
`;

/** Listens on 127.0.0.1:PORT and the abstract socket NAME, prints "ready", answers two clients. */
const PY_SERVE = `
import socket, sys
port, name = int(sys.argv[1]), sys.argv[2]
tcp = socket.socket(); tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); tcp.bind(('127.0.0.1', port)); tcp.listen()
uds = socket.socket(socket.AF_UNIX); uds.bind('\\0' + name); uds.listen()
print('ready', flush=True)
for srv in (tcp, uds):
    c, _ = srv.accept(); c.sendall(b'pong-inside'); c.close()
`;

/** Interface names in /proc/net/dev text. */
const interfaces = (text: string): string[] =>
  text
    .split('\n')
    .slice(2)
    .map((l) => l.split(':')[0]!.trim())
    .filter(Boolean);

interface CountingServer {
  readonly server: Server;
  accepted: number;
}

async function countingServer(listen: (s: Server) => void): Promise<CountingServer> {
  const cs: CountingServer = { server: createServer((c) => ((cs.accepted += 1), c.end('pong-host'))), accepted: 0 };
  listen(cs.server);
  await once(cs.server, 'listening');
  return cs;
}

let tcp: CountingServer;
let abstract: CountingServer;
let port: number;
const socketName = token('warden-sec-abstract');

beforeAll(async () => {
  tcp = await countingServer((s) => s.listen(0, '::')); // every host address, v4 and v6
  port = (tcp.server.address() as { port: number }).port;
  abstract = await countingServer((s) => s.listen(`\0${socketName}`));
});

afterAll(() => {
  tcp.server.close();
  abstract.server.close();
});

const hostAddresses = (): string[] =>
  Object.values(networkInterfaces())
    .flat()
    .filter((a) => a && !a.internal && a.family === 'IPv4')
    .map((a) => a!.address);

describe('a sandbox has no network but its own loopback', () => {
  it('sees only the lo interface', async () => {
    await using sbx = await h.create();

    const dev = await sbx.exec(['cat', '/proc/net/dev'], { timeoutMs: 10_000 });
    expect(dev.reason).toBe('exited');
    expect(dev.exitCode).toBe(0);
    expect(interfaces(dev.stdout)).toEqual(['lo']);

    const py = await sbx.exec(['python3', '-c', 'import socket; print(" ".join(n for _, n in socket.if_nameindex()))'], { timeoutMs: 10_000 });
    expect(py.reason).toBe('exited');
    expect(py.exitCode).toBe(0);
    expect(py.stdout).toBe('lo\n');

    const sys = await sbx.exec(['ls', '/sys/class/net'], { timeoutMs: 10_000 });
    expect(sys.reason).toBe('exited');
    expect(sys.exitCode).not.toBe(0);
    // Twin: the same parser lists the host's other interfaces.
    expect(interfaces(await readFile('/proc/net/dev', 'utf8')).filter((n) => n !== 'lo').length).toBeGreaterThan(0);
  });

  it('cannot connect to a host server on loopback, on the host addresses, or on a host abstract socket', async () => {
    await using sbx = await h.create();
    const targets = ['tcp', '127.0.0.1', String(port), 'tcp', '::1', String(port), 'unix', socketName];
    for (const a of hostAddresses()) targets.push('tcp', a, String(port));

    const r = await sbx.exec(['python3', '-c', PY_CONNECT, ...targets], { timeoutMs: 30_000 });

    expect(r.reason).toBe('exited');
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.slice(0, 3)).toEqual(['ECONNREFUSED', 'ECONNREFUSED', 'ECONNREFUSED']); // the sandbox's own, empty loopback
    // No route off the loopback (gVisor's network stack says EHOSTUNREACH for it).
    for (const l of lines.slice(3)) expect(l).toBe(testRuntime() === 'gvisor' ? 'EHOSTUNREACH' : 'ENETUNREACH');
    expect(lines).toHaveLength(3 + hostAddresses().length);
    expect(tcp.accepted).toBe(0);
    expect(abstract.accepted).toBe(0);
  });

  it('twin: a server inside on the same port and socket name is reachable from inside, and not from the host', async () => {
    await using sbx = await h.create();
    let out = '';
    const server = sbx.spawn(['python3', '-c', PY_SERVE, String(port), socketName], { onStdout: (b) => (out += b.toString()) });
    await eventually(() => out.includes('ready'), 10_000, 'the in-sandbox server to listen');

    const r = await sbx.exec(['python3', '-c', PY_CONNECT, 'tcp', '127.0.0.1', String(port), 'unix', socketName], { timeoutMs: 20_000 });

    expect(r.reason).toBe('exited');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('connected pong-inside\nconnected pong-inside\n');
    const s = await server.wait();
    expect(s.reason).toBe('exited');
    expect(s.exitCode).toBe(0);
    expect(tcp.accepted).toBe(0);
    expect(abstract.accepted).toBe(0);

    // The host's own client on the same port reaches the host's server, which counts it.
    const c = connect(port, '127.0.0.1');
    let reply = '';
    c.setEncoding('utf8').on('data', (d: string) => (reply += d));
    await once(c, 'end');
    c.destroy();
    expect(reply).toBe('pong-host');
    expect(tcp.accepted).toBe(1);
    tcp.accepted = 0;
  });
});
