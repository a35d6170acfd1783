/**
 * envd's `process.Process` service over Warden commands. Start runs the
 * command through the command registry — the guard, approvals, audit, limits
 * and process-tree ownership of every Warden command apply — and streams its
 * output; the process outlives the stream (E2B's background commands), and
 * Connect, SendInput, SendSignal, CloseStdin and Update reach it by pid. As
 * in envd, a process is killed at the caller's deadline (Connect-Timeout-Ms,
 * the SDK's timeoutMs; none when 0), and an ended process is gone from the table.
 */
import { WardenError, type ErrorCode, type RunCommandBody } from '@warden/protocol';
import type { Command, CommandRegistry } from '../../services/commands.js';
import type { RpcRouter, RpcStream } from '../connect/rpc.js';
import { ConnectFailure } from '../errors.js';
import { sandboxPath } from '../paths.js';
import { dataOf, endOf } from './process-events.js';
import type { E2bProcesses } from './processes.js';
import { CloseStdinRequest, ConnectRequest, ListRequest, SendInputRequest, SendSignalRequest, StartRequest, UpdateRequest } from './schemas.js';

export interface ProcessDeps {
  readonly commands: CommandRegistry;
  readonly processes: E2bProcesses;
}

/** "No deadline" (timeoutMs 0) is the longest a Warden command may run; the sandbox's TTL still bounds it. */
const MAX_COMMAND_MS = 86_400_000;
/** A command's output is capped (limits.maxOutputBytes, at most 64 MiB over the API); its stream holds no more than that, base64'd. */
const MAX_BUFFERED_BYTES = 128 * 1024 * 1024;
const KEEPALIVE = { event: { keepalive: {} } };
const PTY_DEFAULT = { cols: 80, rows: 24 };

const SIGNALS: Readonly<Record<string, string>> = { SIGNAL_SIGKILL: 'SIGKILL', SIGNAL_SIGTERM: 'SIGTERM', '9': 'SIGKILL', '15': 'SIGTERM' };

/**
 * Streams a command's output and end to `out`. `replay`: from its start (Start,
 * Connect with replay), else from now on; its end is sent either way.
 */
function follow(cmd: Command, out: RpcStream, replay: boolean, timeoutMs: number): void {
  let live = replay;
  const unsubscribe = cmd.subscribe(-1, (e) => {
    switch (e.type) {
      case 'stdout':
      case 'stderr':
        if (live) out.send({ event: dataOf(e, cmd.pty) });
        return;
      case 'end': {
        const end = endOf(e.result, timeoutMs);
        if (end instanceof ConnectFailure) return out.end(end);
        out.send({ event: { end } });
        return out.end();
      }
      case 'error':
        return out.end(new WardenError(e.code as ErrorCode, e.message));
      case 'start':
        return;
    }
  });
  live = true;
  out.onClose(unsubscribe);
}

export function processService(rpc: RpcRouter, deps: ProcessDeps): void {
  const { commands, processes } = deps;

  rpc.stream('Start', StartRequest, { keepalive: KEEPALIVE, enforceDeadline: false, maxBufferedBytes: MAX_BUFFERED_BYTES }, async (input, ctx, out) => {
    const { cmd: program, args = [], envs = {}, cwd } = input.process;
    const size = input.pty ? { cols: input.pty.size?.cols ?? PTY_DEFAULT.cols, rows: input.pty.size?.rows ?? PTY_DEFAULT.rows } : undefined;
    const timeoutMs = Math.min(ctx.timeoutMs ?? MAX_COMMAND_MS, MAX_COMMAND_MS);
    const body: RunCommandBody = {
      argv: [program, ...args],
      ...(cwd !== undefined && cwd !== '' ? { cwd: sandboxPath(cwd) } : {}),
      env: { ...envs },
      timeoutMs,
      // Not tied to this request: like envd, the process lives on when the caller goes away.
      background: true,
      ...(input.stdin === true ? { stdin: true } : {}),
      ...(size ? { pty: size } : {}),
    };
    const cmd = await commands.start(ctx.target.sandbox, body, ctx.target.actor);
    await cmd.started();
    processes.track(cmd, { cmd: program, args, envs, cwd, tag: input.tag, stdin: input.stdin === true, timeoutMs });
    out.send({ event: { start: { pid: cmd.process.pid } } });
    follow(cmd, out, true, timeoutMs);
  });

  rpc.stream('Connect', ConnectRequest, { keepalive: KEEPALIVE, maxBufferedBytes: MAX_BUFFERED_BYTES }, async (input, ctx, out) => {
    const cmd = processes.find(ctx.target.sandbox.id, input.process);
    out.send({ event: { start: { pid: cmd.process.pid } } });
    follow(cmd, out, input.replay === true, processes.meta(cmd)?.timeoutMs ?? MAX_COMMAND_MS);
  });

  rpc.unary('List', ListRequest, async (_input, ctx) => ({ processes: processes.running(ctx.target.sandbox.id).map((c) => processes.info(c)) }));

  rpc.unary('SendInput', SendInputRequest, async (input, ctx) => {
    const cmd = processes.find(ctx.target.sandbox.id, input.process);
    const data = input.input.pty ?? input.input.stdin;
    if (data === undefined) return {};
    if (input.input.pty !== undefined && !cmd.pty) {
      throw new WardenError('E_INVALID_ARGUMENT', `Process ${cmd.process.pid} has no terminal; send its input as stdin (commands.sendStdin).`);
    }
    if (!cmd.pty && processes.meta(cmd)?.stdin === false) {
      throw new WardenError('E_INVALID_ARGUMENT', `Process ${cmd.process.pid} was started without stdin. Start it with commands.run(cmd, { background: true, stdin: true }) to write to it.`);
    }
    await cmd.process.write(Buffer.from(data, 'base64'));
    return {};
  });

  rpc.unary('SendSignal', SendSignalRequest, async (input, ctx) => {
    const cmd = processes.find(ctx.target.sandbox.id, input.process);
    const signal = SIGNALS[String(input.signal ?? '')];
    if (signal === undefined) {
      throw new WardenError('E_INVALID_ARGUMENT', `signal must be SIGNAL_SIGKILL or SIGNAL_SIGTERM, got ${JSON.stringify(input.signal ?? null)}.`);
    }
    // The whole tree, as every Warden kill: nothing the process started outlives it.
    cmd.process.kill(signal, 'tree');
    return {};
  });

  rpc.unary('CloseStdin', CloseStdinRequest, async (input, ctx) => {
    await processes.find(ctx.target.sandbox.id, input.process).process.end();
    return {};
  });

  rpc.unary('Update', UpdateRequest, async (input, ctx) => {
    const cmd = processes.find(ctx.target.sandbox.id, input.process);
    const size = input.pty?.size;
    if (size) cmd.process.resize(size.cols ?? 0, size.rows ?? 0);
    return {};
  });

  rpc.unsupported('StreamInput', 'process.Process/StreamInput (client streaming) is not supported; send input with SendInput (commands.sendStdin, pty.sendInput).');
}
