import { describe, expect, it } from 'vitest';
import { MarkerScanner, commandLine, markerToken, newNonce, parseStdoutTrailer, printfLiteral } from './framing.js';
import { CommandOutput } from './output.js';

const nonce = 'a'.repeat(32);
const token = markerToken(nonce);

/** Feeds `stream` to a scanner cut at the given offsets; returns the output it let through and the trailer. */
function scan(stream: Buffer, cuts: number[]): { out: Buffer; trailer: string | undefined } {
  const s = new MarkerScanner(token);
  const parts: Buffer[] = [];
  let at = 0;
  for (const cut of [...cuts, stream.length]) {
    parts.push(s.push(stream.subarray(at, cut)));
    at = cut;
  }
  if (!s.done) parts.push(s.flush());
  return { out: Buffer.concat(parts), trailer: s.trailer?.toString() };
}

describe('MarkerScanner', () => {
  const output = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.from('no newline')]);
  const stream = Buffer.concat([output, token, Buffer.from('7 /tmp/a b\0'), Buffer.from('late background output')]);

  it('passes every byte before the marker through and strips the marker, wherever the chunks are cut', () => {
    for (let i = 0; i <= stream.length; i++) {
      expect(scan(stream, [i]), `cut at ${i}`).toEqual({ out: output, trailer: '7 /tmp/a b' });
    }
    for (let i = output.length - 5; i <= output.length + token.length + 3; i++) {
      expect(scan(stream, [i, i + 1, i + 2]), `cuts at ${i}..${i + 2}`).toEqual({ out: output, trailer: '7 /tmp/a b' });
    }
  });

  it('treats markers of another nonce, and partial markers, as output', () => {
    const fake = Buffer.concat([markerToken('b'.repeat(32)), Buffer.from('0 /\0'), token.subarray(0, token.length - 1), Buffer.from('x\n')]);
    expect(scan(Buffer.concat([fake, token, Buffer.from('0 /\0')]), [3, 40])).toEqual({ out: fake, trailer: '0 /' });
  });

  it('gives back what it held when the stream ends without a marker', () => {
    const partial = Buffer.concat([Buffer.from('out'), token.subarray(0, 10)]);
    expect(scan(partial, [1])).toEqual({ out: partial, trailer: undefined });
  });
});

describe('framing', () => {
  it('escapes exactly the bytes that mean something inside a single-quoted printf format', () => {
    expect(printfLiteral(Buffer.from("a b'%\\\n\x00\xff", 'latin1'))).toBe('a b\\047\\045\\134\\012\\000\\377');
    expect(printfLiteral(Buffer.from('ab'), true)).toBe('\\141\\142');
  });

  it('keeps the command inside its quotes and the marker token out of the command line', () => {
    const line = commandLine({ nonce, command: Buffer.from(`echo 'x'; "$(x)" %s \\\n`) });
    expect(line.split('\n')).toEqual([expect.any(String), '']);
    expect(line).toContain(`printf 'echo \\047x\\047; "$(x)" \\045s \\134\\012'`);
    expect(line).not.toContain(token.toString()); // a set -x trace of the frame cannot end the command early
    expect(line).toContain('</dev/null');
    expect(commandLine({ nonce, command: Buffer.from('cat'), stdin: Buffer.from('in') })).toContain("< <({ \\command printf 'in'; } 2>/dev/null)");
  });

  it('parses the stdout trailer: status and working directory', () => {
    expect(parseStdoutTrailer(Buffer.from('0 /workspace'))).toEqual({ exitCode: 0, cwd: '/workspace' });
    expect(parseStdoutTrailer(Buffer.from('137 /a b/c'))).toEqual({ exitCode: 137, cwd: '/a b/c' });
    expect(parseStdoutTrailer(Buffer.from('x'))).toEqual({ exitCode: null, cwd: undefined });
  });

  it('makes a fresh 128-bit nonce each time', () => {
    const a = newNonce();
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(newNonce()).not.toBe(a);
  });
});

describe('CommandOutput', () => {
  it('completes only when both streams carried their marker, and caps what it keeps', () => {
    let limited = 0;
    const seen: string[] = [];
    const out = new CommandOutput({ nonce, maxOutputBytes: 5, onStdout: (d) => seen.push(d.toString()), onLimit: () => limited++ });
    out.stdout(Buffer.from('abc'));
    out.stdout(Buffer.concat([Buffer.from('defgh'), token, Buffer.from('3 /w\0')]));
    expect(out.done).toBe(false);
    out.stderr(Buffer.concat([Buffer.from('more'), token, Buffer.from('\0')]));
    expect(out.done).toBe(true);
    expect(out.text()).toEqual({ stdout: 'abcde', stderr: '' });
    expect(seen).toEqual(['abc', 'de']);
    expect(out).toMatchObject({ truncated: true, exit: { exitCode: 3, cwd: '/w' } });
    expect(limited).toBe(1);
  });
});
