import { describe, expect, it } from 'vitest';
import { Demux } from './stream.js';

const frame = (stream: number, data: string | Buffer): Buffer => {
  const payload = Buffer.isBuffer(data) ? data : Buffer.from(data);
  const h = Buffer.alloc(8);
  h.writeUInt8(stream, 0);
  h.writeUInt32BE(payload.length, 4);
  return Buffer.concat([h, payload]);
};

async function run(chunks: Buffer[]): Promise<{ out: Buffer; err: string; error?: Error }> {
  let err = '';
  const d = new Demux((b) => (err += b.toString()));
  const parts: Buffer[] = [];
  d.on('data', (b: Buffer) => parts.push(b));
  const done = new Promise<Error | undefined>((resolve) => {
    d.on('end', () => resolve(undefined));
    d.on('error', resolve);
  });
  for (const c of chunks) d.write(c);
  d.end();
  const error = await done;
  return { out: Buffer.concat(parts), err, ...(error ? { error } : {}) };
}

describe('Demux', () => {
  it('passes stdout through and hands stderr aside, in any chunking', async () => {
    const stream = Buffer.concat([frame(1, 'hello '), frame(2, 'warn\n'), frame(1, Buffer.alloc(70_000, 7)), frame(1, ''), frame(2, 'bye')]);
    const whole = await run([stream]);
    expect(whole.err).toBe('warn\nbye');
    expect(whole.out.length).toBe(6 + 70_000);
    for (const size of [1, 3, 8, 9, 4096]) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < stream.length; i += size) chunks.push(stream.subarray(i, i + size));
      const r = await run(chunks);
      expect(r.out.equals(whole.out), `chunks of ${size}`).toBe(true);
      expect(r.err).toBe('warn\nbye');
    }
  });

  it('fails on a stream that is not multiplexed (a TTY stream, say)', async () => {
    const r = await run([Buffer.from('plain text, no headers at all')]);
    expect(r.error?.message).toMatch(/not multiplexed/);
  });
});
