/**
 * The Connect protocol's envelope for streaming RPCs: a flags byte, a
 * big-endian uint32 length, then the message. Flag 0x02 marks the last
 * message of a response (end-of-stream: `{}` or `{ "error": … }`); flag 0x01
 * marks a compressed message, which this server never negotiates. Pure.
 */
import { WardenError } from '@warden/protocol';

export const FLAG_COMPRESSED = 0x01;
export const FLAG_END_STREAM = 0x02;

export interface Envelope {
  readonly flags: number;
  readonly data: Buffer;
}

export function envelope(flags: number, data: Uint8Array): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt8(flags, 0);
  head.writeUInt32BE(data.length, 1);
  return Buffer.concat([head, data]);
}

/** A message as an envelope of JSON. */
export function jsonEnvelope(message: unknown, flags = 0): Buffer {
  return envelope(flags, Buffer.from(JSON.stringify(message)));
}

/**
 * Splits a request body into its envelopes. Refuses a truncated envelope, a
 * compressed one, and bytes after the last envelope.
 */
export function parseEnvelopes(body: Buffer): Envelope[] {
  const out: Envelope[] = [];
  let at = 0;
  while (at < body.length) {
    if (body.length - at < 5) throw bad(`a truncated envelope header (${body.length - at} of 5 bytes)`);
    const flags = body.readUInt8(at);
    const length = body.readUInt32BE(at + 1);
    if (body.length - at - 5 < length) throw bad(`an envelope of ${length} bytes with only ${body.length - at - 5} sent`);
    if ((flags & FLAG_COMPRESSED) !== 0) throw bad('a compressed envelope; send messages uncompressed (no Connect-Content-Encoding)');
    out.push({ flags, data: body.subarray(at + 5, at + 5 + length) });
    at += 5 + length;
  }
  return out;
}

/** The one message of a server-streaming request, parsed as JSON. */
export function parseSingleMessage(body: Buffer): unknown {
  const envelopes = parseEnvelopes(body);
  const first = envelopes[0];
  if (envelopes.length !== 1 || first === undefined || first.flags !== 0) {
    throw bad(`${envelopes.length} envelopes; a server-streaming request carries exactly one message`);
  }
  try {
    return JSON.parse(first.data.toString('utf8')) as unknown;
  } catch (err) {
    throw bad(`a message that is not JSON (${(err as Error).message})`, err);
  }
}

function bad(what: string, cause?: unknown): WardenError {
  return new WardenError('E_INVALID_REQUEST', `The Connect request body has ${what}. Send one JSON message in a Connect envelope with Content-Type: application/connect+json.`, cause === undefined ? {} : { cause });
}
