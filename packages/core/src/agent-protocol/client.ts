/**
 * Host side of the agent protocol: multiplexes many processes over one agent
 * connection. Knows nothing about runtimes; it gets the agent's pipes.
 */
import type { Readable, Writable } from 'node:stream';
import { WardenError } from '@warden/protocol';
import {
  AgentErrorCode,
  FrameDecoder,
  HEADER_BYTES,
  MAX_PAYLOAD_BYTES,
  FrameType,
  decodeError,
  decodeExit,
  decodeHello,
  decodeStarted,
  encodeFrame,
  encodeResize,
  encodeSignal,
  encodeStart,
  type ExitInfo,
  type Frame,
  type SignalScope,
  type StartRequest,
  type TerminalSize,
} from './codec.js';

export interface ProcessHandlers {
  onStarted(pid: number): void;
  onStdout(data: Buffer): void;
  onStderr(data: Buffer): void;
  onExit(info: ExitInfo): void;
  /** The agent could not start the process (code 2) or refused a frame. */
  onAgentError(code: number, message: string): void;
  /** The connection ended before the process exited. */
  onClosed(): void;
}

export interface Hello {
  readonly protocolVersion: number;
  readonly agentPid: number;
  readonly agentVersion: string;
}

export const PROTOCOL_VERSION = 1;
const STDIN_CHUNK_BYTES = 1024 * 1024;

export class AgentClient {
  readonly #in: Writable;
  readonly #decoder = new FrameDecoder();
  readonly #procs = new Map<number, ProcessHandlers>();
  /** Ids whose STARTED arrived: an error about them concerns a later frame, not the START. */
  readonly #running = new Set<number>();
  readonly #pings = new Map<number, (err?: Error) => void>();
  #nextId = 1;
  #closed = false;
  #closeError: Error | undefined;
  readonly ready: Promise<Hello>;
  #resolveReady!: (h: Hello) => void;
  #rejectReady!: (e: Error) => void;
  readonly #onFatal: (err: Error) => void;

  constructor(input: Writable, output: Readable, onFatal: (err: Error) => void) {
    this.#in = input;
    this.#onFatal = onFatal;
    this.ready = new Promise<Hello>((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    // Callers attach their own handling; avoid an unhandled rejection when nobody awaits.
    this.ready.catch(() => undefined);
    output.on('data', (chunk: Buffer) => {
      try {
        this.#decoder.push(chunk, (f) => this.#dispatch(f));
      } catch (err) {
        this.#fail(err as Error);
      }
    });
    output.on('close', () => this.close(new WardenError('E_SANDBOX_CLOSED', 'The sandbox agent exited; the sandbox is gone. Create a new sandbox.')));
    input.on('error', () => undefined); // EPIPE when the agent is gone: surfaced through 'close' above.
  }

  get activeProcesses(): number {
    return this.#procs.size;
  }

  get closed(): boolean {
    return this.#closed;
  }

  #fail(err: Error): void {
    if (this.#closed) return;
    this.close(err);
    this.#onFatal(err);
  }

  #dispatch(f: Frame): void {
    if (f.type === FrameType.HELLO) {
      const hello = decodeHello(f.payload);
      if (hello.protocolVersion !== PROTOCOL_VERSION) {
        throw new WardenError('E_AGENT_PROTOCOL', `The sandbox agent speaks protocol ${hello.protocolVersion}, this host speaks ${PROTOCOL_VERSION}. Rebuild the agent: npm run build.`);
      }
      this.#resolveReady(hello);
      return;
    }
    if (f.type === FrameType.PONG) {
      this.#pings.get(f.id)?.();
      this.#pings.delete(f.id);
      return;
    }
    const h = this.#procs.get(f.id);
    if (f.type === FrameType.ERROR) {
      const { code, message } = decodeError(f.payload);
      if (!h) return;
      // Before STARTED these mean the process never started: forget the id.
      const refused = code === AgentErrorCode.START_FAILED || code === AgentErrorCode.MALFORMED || code === AgentErrorCode.DUPLICATE_ID;
      if (refused && !this.#running.has(f.id)) this.#procs.delete(f.id);
      h.onAgentError(code, message);
      return;
    }
    if (!h) return; // late output for a process we already gave up on
    switch (f.type) {
      case FrameType.STARTED:
        this.#running.add(f.id);
        h.onStarted(decodeStarted(f.payload));
        break;
      case FrameType.STDOUT:
        h.onStdout(f.payload);
        break;
      case FrameType.STDERR:
        h.onStderr(f.payload);
        break;
      case FrameType.EXIT:
        this.#procs.delete(f.id);
        this.#running.delete(f.id);
        h.onExit(decodeExit(f.payload));
        break;
      default:
        throw new WardenError('E_AGENT_PROTOCOL', `The sandbox agent sent unknown frame type 0x${f.type.toString(16)}; the sandbox was stopped.`);
    }
  }

  #send(buf: Buffer): boolean {
    if (this.#closed) throw this.#closeError ?? new WardenError('E_SANDBOX_CLOSED', 'The sandbox is closed. Create a new sandbox.');
    return this.#in.write(buf);
  }

  /** Starts a process; returns its channel id. */
  start(req: StartRequest, handlers: ProcessHandlers): number {
    const frame = encodeStart(0, req);
    if (frame.length - HEADER_BYTES > MAX_PAYLOAD_BYTES) {
      throw new WardenError('E_INVALID_ARGUMENT', `argv, env and cwd together take ${frame.length - HEADER_BYTES} bytes; the most a command can take is ${MAX_PAYLOAD_BYTES} (16 MiB). Pass large data through stdin or a file instead.`);
    }
    const id = this.#nextId++;
    if (this.#nextId > 0xffff_fff0) this.#nextId = 1;
    this.#procs.set(id, handlers);
    try {
      frame.writeUInt32LE(id, 5);
      this.#send(frame);
    } catch (err) {
      this.#procs.delete(id);
      throw err;
    }
    return id;
  }

  /** Queues stdin bytes; an empty chunk closes stdin. Resolves when the pipe can take more. */
  async writeStdin(id: number, data: Uint8Array): Promise<void> {
    if (data.length === 0) {
      this.#send(encodeFrame(FrameType.STDIN, id));
      return;
    }
    for (let off = 0; off < data.length; off += STDIN_CHUNK_BYTES) {
      if (!this.#send(encodeFrame(FrameType.STDIN, id, data.subarray(off, off + STDIN_CHUNK_BYTES)))) {
        await drained(this.#in);
      }
    }
  }

  signal(id: number, signo: number, scope: SignalScope): void {
    if (this.#closed || !this.#procs.has(id)) return;
    this.#send(encodeSignal(id, signo, scope));
  }

  /** Resizes the terminal of a process started with `pty`; a no-op once it has ended. */
  resize(id: number, size: TerminalSize): void {
    if (this.#closed || !this.#procs.has(id)) return;
    this.#send(encodeResize(id, size));
  }

  /** Round trip to the agent; rejects if the sandbox closes first. */
  async ping(timeoutMs = 5000): Promise<void> {
    const id = this.#nextId++;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pings.delete(id);
        reject(new WardenError('E_SANDBOX_CLOSED', `The sandbox agent did not answer a ping within ${timeoutMs} ms.`));
      }, timeoutMs);
      this.#pings.set(id, (err) => {
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      });
      this.#send(encodeFrame(FrameType.PING, id));
    });
  }

  close(reason?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeError = reason;
    this.#rejectReady(reason ?? new WardenError('E_SANDBOX_CLOSED', 'The sandbox closed before its agent was ready.'));
    const procs = [...this.#procs.values()];
    this.#procs.clear();
    this.#running.clear();
    for (const h of procs) h.onClosed();
    const closedError = reason ?? new WardenError('E_SANDBOX_CLOSED', 'The sandbox is closed. Create a new sandbox.');
    for (const settle of this.#pings.values()) settle(closedError);
    this.#pings.clear();
    this.#in.end();
  }
}

/**
 * Resolves on 'drain' or 'close' and removes both listeners: racing two
 * `once()` calls would leave the loser's listeners behind on every wait
 * (a leak, and a MaxListeners warning, for every large stdin stream).
 */
function drained(stream: Writable): Promise<void> {
  if (stream.destroyed || stream.writableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}
