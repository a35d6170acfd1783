/**
 * Encoding and decoding of agent frames (see packages/agent/PROTOCOL.md).
 * Pure: no I/O. Everything read from the agent is untrusted and bounds-checked.
 */
import { WardenError } from '@warden/protocol';

export const HEADER_BYTES = 9;
export const MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;

export const FrameType = {
  START: 0x01,
  STDIN: 0x02,
  SIGNAL: 0x03,
  PING: 0x04,
  RESIZE: 0x05,
  HELLO: 0x80,
  STARTED: 0x81,
  STDOUT: 0x82,
  STDERR: 0x83,
  EXIT: 0x84,
  ERROR: 0x85,
  PONG: 0x86,
} as const;

export const AgentErrorCode = {
  MALFORMED: 1,
  START_FAILED: 2,
  UNKNOWN_TYPE: 3,
  UNKNOWN_ID: 4,
  TOO_LARGE: 5,
  DUPLICATE_ID: 6,
  STDIN_OVERFLOW: 7,
  NOT_A_TTY: 8,
} as const;

/** Who a SIGNAL reaches: DESCENDANTS is the tree without the process itself. */
export const SignalScope = { PROCESS: 0, GROUP: 1, TREE: 2, DESCENDANTS: 3 } as const;
export type SignalScope = (typeof SignalScope)[keyof typeof SignalScope];

export interface Frame {
  readonly type: number;
  readonly id: number;
  readonly payload: Buffer;
}

export function encodeFrame(type: number, id: number, payload: Uint8Array = EMPTY): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  out.writeUInt32LE(5 + payload.length, 0);
  out.writeUInt8(type, 4);
  out.writeUInt32LE(id >>> 0, 5);
  out.set(payload, HEADER_BYTES);
  return out;
}

const EMPTY = Buffer.alloc(0);

function strBytes(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  const out = Buffer.allocUnsafe(4 + b.length);
  out.writeUInt32LE(b.length, 0);
  b.copy(out, 4);
  return out;
}

/** A terminal size in character cells; the agent takes 1..65535 for each. */
export interface TerminalSize {
  readonly cols: number;
  readonly rows: number;
}

export interface StartRequest {
  readonly argv: readonly string[];
  readonly env: readonly string[];
  readonly cwd: string;
  readonly stdin: boolean;
  /** Run on a new pseudo-terminal of this size (START flags bit 1). */
  readonly pty?: TerminalSize;
}

const START_STDIN = 1;
const START_PTY = 2;

function sizeBytes(size: TerminalSize): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt16LE(size.cols, 0);
  b.writeUInt16LE(size.rows, 2);
  return b;
}

export function encodeStart(id: number, req: StartRequest): Buffer {
  const flags = (req.stdin ? START_STDIN : 0) | (req.pty ? START_PTY : 0);
  const parts: Buffer[] = [Buffer.from([flags]), strBytes(req.cwd)];
  const count = Buffer.allocUnsafe(4);
  count.writeUInt32LE(req.argv.length, 0);
  parts.push(count, ...req.argv.map(strBytes));
  const envCount = Buffer.allocUnsafe(4);
  envCount.writeUInt32LE(req.env.length, 0);
  parts.push(envCount, ...req.env.map(strBytes));
  if (req.pty) parts.push(sizeBytes(req.pty));
  return encodeFrame(FrameType.START, id, Buffer.concat(parts));
}

export function encodeSignal(id: number, signo: number, scope: SignalScope): Buffer {
  return encodeFrame(FrameType.SIGNAL, id, Buffer.from([signo, scope]));
}

/** RESIZE: a new size for a process's terminal (writeUInt16LE throws outside 0..65535). */
export function encodeResize(id: number, size: TerminalSize): Buffer {
  return encodeFrame(FrameType.RESIZE, id, sizeBytes(size));
}

export interface ExitInfo {
  readonly kind: 'exited' | 'signaled';
  readonly value: number;
  readonly userUs: number;
  readonly sysUs: number;
  readonly maxRssKb: number;
}

function protocolError(what: string): WardenError {
  return new WardenError('E_AGENT_PROTOCOL', `The sandbox agent sent a malformed ${what} frame; the sandbox was stopped. This is a bug or a compromised sandbox: report it with the sandbox id.`);
}

export function decodeExit(p: Buffer): ExitInfo {
  if (p.length !== 29) throw protocolError('EXIT');
  return {
    kind: p[0] === 1 ? 'signaled' : 'exited',
    value: p.readInt32LE(1),
    userUs: Number(p.readBigUInt64LE(5)),
    sysUs: Number(p.readBigUInt64LE(13)),
    maxRssKb: Number(p.readBigUInt64LE(21)),
  };
}

export function decodeError(p: Buffer): { code: number; message: string } {
  if (p.length < 6) throw protocolError('ERROR');
  const len = p.readUInt32LE(2);
  if (len !== p.length - 6) throw protocolError('ERROR');
  return { code: p.readUInt16LE(0), message: p.subarray(6).toString('utf8') };
}

export function decodeHello(p: Buffer): { protocolVersion: number; agentPid: number; agentVersion: string } {
  if (p.length < 10 || p.readUInt32LE(6) !== p.length - 10) throw protocolError('HELLO');
  return { protocolVersion: p.readUInt16LE(0), agentPid: p.readUInt32LE(2), agentVersion: p.subarray(10).toString('utf8') };
}

export function decodeStarted(p: Buffer): number {
  if (p.length !== 4) throw protocolError('STARTED');
  return p.readUInt32LE(0);
}

/**
 * Reassembles frames from arbitrary chunks. Throws E_AGENT_PROTOCOL on a frame
 * that is impossible (too short or too large): the stream cannot be trusted.
 */
export class FrameDecoder {
  /** Bytes of an incomplete frame, kept as chunks: joined once the frame is whole, so reassembly stays linear. */
  #parts: Buffer[] = [];
  #partsBytes = 0;
  /** Total size (header included) of the frame being collected, once known. */
  #need = 0;

  push(chunk: Buffer, onFrame: (f: Frame) => void): void {
    if (this.#partsBytes > 0) {
      this.#parts.push(chunk);
      this.#partsBytes += chunk.length;
      if (this.#need === 0 && this.#partsBytes >= 4) this.#need = 4 + checkLength(Buffer.concat(this.#parts).readUInt32LE(0));
      if (this.#need === 0 || this.#partsBytes < this.#need) return;
      chunk = Buffer.concat(this.#parts);
      this.#parts = [];
      this.#partsBytes = 0;
      this.#need = 0;
    }
    let off = 0;
    while (chunk.length - off >= 4) {
      const len = checkLength(chunk.readUInt32LE(off));
      if (chunk.length - off < 4 + len) {
        this.#need = 4 + len;
        break;
      }
      const type = chunk.readUInt8(off + 4);
      const id = chunk.readUInt32LE(off + 5);
      const payload = chunk.subarray(off + HEADER_BYTES, off + 4 + len);
      off += 4 + len;
      onFrame({ type, id, payload });
    }
    if (off < chunk.length) {
      // Copy: the rest of a big read buffer must not be kept alive by a small tail.
      this.#parts = [Buffer.from(chunk.subarray(off))];
      this.#partsBytes = chunk.length - off;
    }
  }

  get pendingBytes(): number {
    return this.#partsBytes;
  }
}

function checkLength(len: number): number {
  if (len < 5 || len > 5 + MAX_PAYLOAD_BYTES) throw protocolError('oversized or truncated');
  return len;
}
