import { isWardenError } from '@warden/protocol';
import { describe, expect, it } from 'vitest';
import {
  FrameDecoder,
  FrameType,
  HEADER_BYTES,
  MAX_PAYLOAD_BYTES,
  SignalScope,
  decodeError,
  decodeExit,
  decodeHello,
  decodeStarted,
  encodeFrame,
  encodeResize,
  encodeSignal,
  encodeStart,
  type Frame,
  type StartRequest,
} from './codec.js';

/** mulberry32: seeded, so a failing split is reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An independent reader of START payloads, written from PROTOCOL.md. */
function parseStart(p: Buffer): StartRequest {
  let off = 0;
  const u32 = (): number => {
    const v = p.readUInt32LE(off);
    off += 4;
    return v;
  };
  const str = (): string => {
    const n = u32();
    const s = p.subarray(off, off + n).toString('utf8');
    off += n;
    return s;
  };
  const flags = p.readUInt8(off++);
  expect(flags & ~3, 'only flag bits 0 and 1').toBe(0);
  const cwd = str();
  const argv = Array.from({ length: u32() }, str);
  const env = Array.from({ length: u32() }, str);
  const pty = (flags & 2) === 2 ? { cols: p.readUInt16LE(off), rows: p.readUInt16LE(off + 2) } : undefined;
  if (pty) off += 4;
  expect(off, 'no trailing bytes').toBe(p.length);
  return { stdin: (flags & 1) === 1, cwd, argv, env, ...(pty ? { pty } : {}) };
}

function decodeAll(wire: Buffer): Frame[] {
  const out: Frame[] = [];
  new FrameDecoder().push(wire, (f) => out.push(f));
  return out;
}

function expectProtocolError(fn: () => unknown): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(isWardenError(caught), `threw ${String(caught)}`).toBe(true);
  expect(caught).toMatchObject({ code: 'E_AGENT_PROTOCOL' });
}

describe('encodeFrame', () => {
  it('lays out len (5 + payload), type and id little-endian, then the payload', () => {
    const f = encodeFrame(FrameType.STDIN, 0x0102_0304, Buffer.from('abc'));
    expect([...f]).toEqual([8, 0, 0, 0, 0x02, 0x04, 0x03, 0x02, 0x01, 0x61, 0x62, 0x63]);
  });

  it('encodes an empty payload as a bare 9-byte header', () => {
    expect([...encodeFrame(FrameType.PING, 0)]).toEqual([5, 0, 0, 0, 4, 0, 0, 0, 0]);
  });

  it('writes ids as unsigned 32-bit', () => {
    expect(encodeFrame(FrameType.PING, 0xffff_ffff).readUInt32LE(5)).toBe(0xffff_ffff);
  });
});

describe('encodeStart', () => {
  it.each<StartRequest>([
    { argv: ['/bin/true'], env: [], cwd: '', stdin: false },
    { argv: ['sh', '-c', 'echo "$X" é✓'], env: ['X=1', 'EMPTY=', 'A=b=c'], cwd: '/workspace', stdin: true },
    { argv: ['', ''], env: [''], cwd: '/', stdin: false },
    { argv: ['sh'], env: ['TERM=dumb'], cwd: '/workspace', stdin: true, pty: { cols: 80, rows: 24 } },
    { argv: ['sh'], env: [], cwd: '', stdin: false, pty: { cols: 65535, rows: 1 } },
  ])('round-trips %j through an independent reader', (req) => {
    const [f] = decodeAll(encodeStart(7, req));
    expect(f).toMatchObject({ type: FrameType.START, id: 7 });
    expect(parseStart(f!.payload)).toEqual(req);
  });

  it('counts string lengths in UTF-8 bytes, not characters', () => {
    const [f] = decodeAll(encodeStart(1, { argv: ['é'], env: [], cwd: '', stdin: false }));
    // flags(1) cwd(4+0) argc(4) len(4) 'é'(2 bytes) envc(4)
    expect(f!.payload.length).toBe(1 + 4 + 4 + 4 + 2 + 4);
    expect(f!.payload.readUInt32LE(9)).toBe(2);
  });
});

describe('encodeSignal', () => {
  it.each([SignalScope.PROCESS, SignalScope.GROUP, SignalScope.TREE, SignalScope.DESCENDANTS])('encodes signo and scope %i as two bytes', (scope) => {
    const [f] = decodeAll(encodeSignal(3, 9, scope));
    expect(f).toMatchObject({ type: FrameType.SIGNAL, id: 3 });
    expect([...f!.payload]).toEqual([9, scope]);
  });
});

describe('encodeResize', () => {
  it('encodes cols then rows as little-endian u16', () => {
    const [f] = decodeAll(encodeResize(4, { cols: 0x0102, rows: 0x0304 }));
    expect(f).toMatchObject({ type: FrameType.RESIZE, id: 4 });
    expect([...f!.payload]).toEqual([0x02, 0x01, 0x04, 0x03]);
  });

  it('refuses a size that does not fit in a u16 rather than wrapping it', () => {
    expect(() => encodeResize(1, { cols: 65_536, rows: 24 })).toThrow(RangeError);
    expect(() => encodeStart(1, { argv: ['sh'], env: [], cwd: '', stdin: false, pty: { cols: 80, rows: -1 } })).toThrow(RangeError);
  });
});

describe('agent frame decoders', () => {
  const exitPayload = (kind: number, value: number, user: bigint, sys: bigint, rss: bigint): Buffer => {
    const b = Buffer.alloc(29);
    b.writeUInt8(kind, 0);
    b.writeInt32LE(value, 1);
    b.writeBigUInt64LE(user, 5);
    b.writeBigUInt64LE(sys, 13);
    b.writeBigUInt64LE(rss, 21);
    return b;
  };

  it('decodes EXIT for an exit code and for a signal', () => {
    expect(decodeExit(exitPayload(0, 3, 1500n, 250n, 4096n))).toEqual({ kind: 'exited', value: 3, userUs: 1500, sysUs: 250, maxRssKb: 4096 });
    expect(decodeExit(exitPayload(1, 9, 0n, 0n, 0n))).toMatchObject({ kind: 'signaled', value: 9 });
  });

  it('rejects an EXIT of the wrong size', () => {
    expectProtocolError(() => decodeExit(Buffer.alloc(28)));
    expectProtocolError(() => decodeExit(Buffer.alloc(30)));
  });

  it('decodes ERROR and rejects a message length that disagrees with the payload', () => {
    const msg = Buffer.from('cannot start: No such file or directory');
    const p = Buffer.concat([Buffer.from([2, 0]), Buffer.alloc(4), msg]);
    p.writeUInt32LE(msg.length, 2);
    expect(decodeError(p)).toEqual({ code: 2, message: msg.toString() });
    p.writeUInt32LE(msg.length + 1, 2);
    expectProtocolError(() => decodeError(p));
    p.writeUInt32LE(0xffff_ffff, 2);
    expectProtocolError(() => decodeError(p));
    expectProtocolError(() => decodeError(Buffer.alloc(5)));
  });

  it('decodes HELLO and rejects a version string length that disagrees with the payload', () => {
    const p = Buffer.concat([Buffer.alloc(10), Buffer.from('1.0.0')]);
    p.writeUInt16LE(1, 0);
    p.writeUInt32LE(4242, 2);
    p.writeUInt32LE(5, 6);
    expect(decodeHello(p)).toEqual({ protocolVersion: 1, agentPid: 4242, agentVersion: '1.0.0' });
    p.writeUInt32LE(6, 6);
    expectProtocolError(() => decodeHello(p));
    expectProtocolError(() => decodeHello(Buffer.alloc(9)));
  });

  it('decodes STARTED and rejects any other size', () => {
    const p = Buffer.alloc(4);
    p.writeUInt32LE(31337, 0);
    expect(decodeStarted(p)).toBe(31337);
    expectProtocolError(() => decodeStarted(Buffer.alloc(3)));
    expectProtocolError(() => decodeStarted(Buffer.alloc(8)));
  });
});

describe('FrameDecoder', () => {
  function randomFrames(rand: () => number, count: number): Frame[] {
    return Array.from({ length: count }, () => {
      const size = rand() < 0.2 ? 0 : rand() < 0.9 ? Math.floor(rand() * 64) : Math.floor(rand() * 70_000);
      return {
        type: Math.floor(rand() * 256),
        id: Math.floor(rand() * 0x1_0000_0000),
        payload: Buffer.from(Array.from({ length: size }, () => Math.floor(rand() * 256))),
      };
    });
  }

  const wireOf = (frames: readonly Frame[]): Buffer => Buffer.concat(frames.map((f) => encodeFrame(f.type, f.id, f.payload)));
  const plain = (frames: readonly Frame[]): Array<[number, number, string]> => frames.map((f) => [f.type, f.id, f.payload.toString('hex')]);

  it.each([1, 2, 3, 4, 5])('reassembles frames across arbitrary chunk boundaries (seed %i)', (seed) => {
    const rand = prng(seed);
    const frames = randomFrames(rand, 60);
    const wire = wireOf(frames);
    const decoder = new FrameDecoder();
    const got: Frame[] = [];
    for (let off = 0; off < wire.length; ) {
      // Mostly tiny chunks (header splits), sometimes large ones.
      const n = rand() < 0.7 ? 1 + Math.floor(rand() * 12) : 1 + Math.floor(rand() * 20_000);
      decoder.push(wire.subarray(off, off + n), (f) => got.push(f));
      off += n;
    }
    expect(plain(got)).toEqual(plain(frames));
    expect(decoder.pendingBytes).toBe(0);
  });

  it('reassembles when fed one byte at a time, and keeps earlier payloads intact', () => {
    const frames = randomFrames(prng(99), 20).map((f) => ({ ...f, payload: f.payload.subarray(0, 100) }));
    const wire = wireOf(frames);
    const decoder = new FrameDecoder();
    const got: Frame[] = [];
    for (let i = 0; i < wire.length; i++) decoder.push(wire.subarray(i, i + 1), (f) => got.push(f));
    expect(plain(got)).toEqual(plain(frames));
  });

  it('holds a partial frame until the rest arrives', () => {
    const wire = encodeFrame(FrameType.STDOUT, 1, Buffer.from('hello'));
    const decoder = new FrameDecoder();
    const got: Frame[] = [];
    decoder.push(wire.subarray(0, HEADER_BYTES + 2), (f) => got.push(f));
    expect(got).toEqual([]);
    expect(decoder.pendingBytes).toBe(HEADER_BYTES + 2);
    decoder.push(wire.subarray(HEADER_BYTES + 2), (f) => got.push(f));
    expect(got.map((f) => f.payload.toString())).toEqual(['hello']);
    expect(decoder.pendingBytes).toBe(0);
  });

  it('copies the bytes it keeps pending, so the caller may reuse its chunk', () => {
    const wire = Buffer.concat([encodeFrame(FrameType.STDOUT, 1, Buffer.from('a')), encodeFrame(FrameType.STDOUT, 2, Buffer.from('bc'))]);
    const chunk = Buffer.from(wire.subarray(0, wire.length - 1));
    const decoder = new FrameDecoder();
    const got: Frame[] = [];
    decoder.push(chunk, (f) => got.push(f));
    chunk.fill(0); // the caller reuses its buffer
    decoder.push(wire.subarray(wire.length - 1), (f) => got.push(f));
    expect(got.map((f) => [f.id, f.payload.toString()])[1]).toEqual([2, 'bc']);
  });

  it('accepts a header announcing exactly the maximum payload', () => {
    const header = Buffer.alloc(HEADER_BYTES);
    header.writeUInt32LE(5 + MAX_PAYLOAD_BYTES, 0);
    const decoder = new FrameDecoder();
    expect(() => decoder.push(header, () => undefined)).not.toThrow();
    expect(decoder.pendingBytes).toBe(HEADER_BYTES);
  });

  it.each([0, 1, 4, 5 + MAX_PAYLOAD_BYTES + 1, 0xffff_ffff])('rejects an impossible length %i with E_AGENT_PROTOCOL, even split across chunks', (len) => {
    const bad = Buffer.alloc(4);
    bad.writeUInt32LE(len, 0);
    const good = encodeFrame(FrameType.PONG, 1);
    expectProtocolError(() => new FrameDecoder().push(Buffer.concat([good, bad]), () => undefined));
    const decoder = new FrameDecoder();
    decoder.push(Buffer.concat([good, bad.subarray(0, 2)]), () => undefined);
    expectProtocolError(() => decoder.push(bad.subarray(2), () => undefined));
  });

  it('delivers the frames before an impossible length, then throws', () => {
    const bad = Buffer.alloc(4); // len 0
    const got: Frame[] = [];
    expectProtocolError(() => new FrameDecoder().push(Buffer.concat([encodeFrame(FrameType.PONG, 1), bad]), (f) => got.push(f)));
    expect(got.map((f) => f.id)).toEqual([1]);
  });
});
