/**
 * Reading the first bytes of a proxy client's connection: exactly as many as
 * a handshake needs, in paused mode, so that whatever the client sent after
 * them stays in the socket for the tunnel. Bounded in size and time.
 */
import type { Duplex } from 'node:stream';

/** The client hung up, sent too much or took too long before its handshake was complete. */
export class HandshakeError extends Error {
  override readonly name = 'HandshakeError';
}

/** Waits until `n` bytes are buffered and takes exactly them. */
export function readExactly(sock: Duplex, n: number, deadline: number): Promise<Buffer> {
  const gone = 'the client closed the connection during the handshake';
  return readWhen(sock, deadline, () => sock.read(n) as Buffer | null, { gone, late: 'the client did not finish its handshake in time' }).then((b) => {
    if (b.length < n) throw new HandshakeError(gone);
    return b;
  });
}

/**
 * Resolves with the first non-null `take()` (tried now and whenever the socket
 * becomes readable); rejects with `messages.gone` when the client hangs up
 * first and `messages.late` at the deadline. Leaves no listener behind.
 */
function readWhen(sock: Duplex, deadline: number, take: () => Buffer | null, messages: { gone: string; late: string }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer);
      sock.off('readable', attempt);
      sock.off('end', gone);
      sock.off('close', gone);
      sock.off('error', gone);
    };
    const gone = (): void => {
      cleanup();
      reject(new HandshakeError(messages.gone));
    };
    const attempt = (): void => {
      const b = take();
      if (b === null) return;
      cleanup();
      resolve(b);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new HandshakeError(messages.late));
    }, Math.max(0, deadline - Date.now()));
    sock.on('readable', attempt);
    sock.once('end', gone);
    sock.once('close', gone);
    sock.once('error', gone);
    attempt();
  });
}

export interface RequestHead {
  readonly method: string;
  readonly target: string;
  readonly version: string;
  /** In order, names as sent. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Reads an HTTP/1.x request head (up to the blank line, at most `maxBytes`)
 * and leaves the bytes after it in the socket.
 */
export async function readRequestHead(sock: Duplex, maxBytes: number, deadline: number): Promise<RequestHead> {
  let head = Buffer.alloc(0);
  for (;;) {
    const chunk = await readSome(sock, deadline);
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end !== -1) {
      const rest = head.subarray(end + 4);
      if (rest.length > 0) sock.unshift(rest);
      return parseHead(head.subarray(0, end).toString('latin1'));
    }
    if (head.length > maxBytes) throw new HandshakeError(`the request head is larger than ${maxBytes} bytes`);
  }
}

function readSome(sock: Duplex, deadline: number): Promise<Buffer> {
  return readWhen(sock, deadline, () => sock.read() as Buffer | null, {
    gone: 'the client closed the connection before its request was complete',
    late: 'the client did not send its request in time',
  });
}

export function parseHead(text: string): RequestHead {
  const lines = text.split('\r\n');
  const m = /^([A-Z]+) (\S+) (HTTP\/1\.[01])$/.exec(lines[0] ?? '');
  if (!m) throw new HandshakeError('the request line is not HTTP/1.x');
  const headers: Array<readonly [string, string]> = [];
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    const name = i > 0 ? line.slice(0, i) : '';
    // Obsolete line folding and bare names are refused: smuggling starts with headers two parsers read differently.
    if (!TOKEN.test(name) || /[\0\r\n]/.test(line)) throw new HandshakeError('a request header is malformed');
    headers.push([name, line.slice(i + 1).trim()]);
  }
  return { method: m[1]!, target: m[2]!, version: m[3]!, headers };
}
