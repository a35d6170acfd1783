/**
 * The SOCKS5 side of the egress proxy (RFC 1928): no authentication, CONNECT
 * only, and destinations given as names only. An IPv4 or IPv6 destination is
 * read (to answer it properly) and refused: the proxy reaches names it
 * resolves and checks, never addresses a client picked.
 */
import type { Duplex } from 'node:stream';
import { HandshakeError, readExactly } from './wire.js';

/** SOCKS5 reply codes. */
export const SocksReply = {
  SUCCEEDED: 0x00,
  GENERAL_FAILURE: 0x01,
  NOT_ALLOWED: 0x02,
  NETWORK_UNREACHABLE: 0x03,
  HOST_UNREACHABLE: 0x04,
  CONNECTION_REFUSED: 0x05,
  TTL_EXPIRED: 0x06,
  COMMAND_NOT_SUPPORTED: 0x07,
  ADDRESS_NOT_SUPPORTED: 0x08,
} as const;

export type SocksRequest =
  | { readonly kind: 'name'; readonly host: string; readonly port: number }
  | { readonly kind: 'address'; readonly address: string; readonly port: number }
  | { readonly kind: 'unsupported'; readonly command: number };

/**
 * Runs the handshake up to the request (the first byte, 5, was only peeked
 * and is read again here). Answers the method negotiation itself; the caller
 * answers the request with `socksReply`.
 */
export async function socksHandshake(sock: Duplex, deadline: number): Promise<SocksRequest> {
  const [ver, nMethods] = await readExactly(sock, 2, deadline);
  if (ver !== 5 || !nMethods) throw new HandshakeError('not a SOCKS5 greeting');
  const methods = await readExactly(sock, nMethods, deadline);
  if (!methods.includes(0x00)) {
    sock.end(Buffer.from([5, 0xff])); // no acceptable method: only "no authentication" is offered
    throw new HandshakeError('the SOCKS5 client offers no method the proxy accepts (no authentication)');
  }
  sock.write(Buffer.from([5, 0x00]));
  const [v, cmd, , atyp] = await readExactly(sock, 4, deadline);
  if (v !== 5) throw new HandshakeError('not a SOCKS5 request');
  let dest: { kind: 'name'; host: string } | { kind: 'address'; address: string };
  if (atyp === 0x03) {
    const [len] = await readExactly(sock, 1, deadline);
    if (!len) throw new HandshakeError('an empty SOCKS5 host name');
    dest = { kind: 'name', host: (await readExactly(sock, len, deadline)).toString('latin1') };
  } else if (atyp === 0x01) {
    dest = { kind: 'address', address: [...(await readExactly(sock, 4, deadline))].join('.') };
  } else if (atyp === 0x04) {
    const b = await readExactly(sock, 16, deadline);
    dest = { kind: 'address', address: Array.from({ length: 8 }, (_, i) => b.readUInt16BE(2 * i).toString(16)).join(':') };
  } else {
    socksReply(sock, SocksReply.ADDRESS_NOT_SUPPORTED);
    throw new HandshakeError('an unknown SOCKS5 address type');
  }
  const port = (await readExactly(sock, 2, deadline)).readUInt16BE(0);
  if (cmd !== 0x01) return { kind: 'unsupported', command: cmd ?? 0 };
  return dest.kind === 'name' ? { kind: 'name', host: dest.host, port } : { kind: 'address', address: dest.address, port };
}

/** Answers a request; a refusal also closes the connection. */
export function socksReply(sock: Duplex, code: number): void {
  const reply = Buffer.from([5, code, 0, 1, 0, 0, 0, 0, 0, 0]);
  if (code === SocksReply.SUCCEEDED) sock.write(reply);
  else sock.end(reply);
}
