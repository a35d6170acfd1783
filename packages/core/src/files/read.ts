/**
 * Reading a file as a stream. The agent protocol has no flow control of its
 * own (the agent forwards output as fast as it comes), so the helper paces
 * itself: it may run CREDITS windows ahead of what the caller has consumed,
 * and each byte we write to its stdin grants one more window. Host memory
 * stays at CREDITS × WINDOW_BYTES per read, however slow the caller.
 */
import { WardenError } from '@warden/protocol';
import { FsHelper, type FilesContext } from './helper.js';
import { helperProtocolError } from './lines.js';
import type { OpLimits } from './options.js';
import { pathArg } from './paths.js';

const WINDOW_BYTES = 1024 * 1024;
const CREDITS = 4;

export async function* readStream(ctx: FilesContext, path: string, limits: OpLimits): AsyncGenerator<Uint8Array, void, undefined> {
  const queue: Buffer[] = [];
  let received = 0;
  let consumed = 0;
  let granted = 0;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const helper = new FsHelper(ctx, {
    op: 'read',
    path,
    args: ['read', pathArg(path), String(WINDOW_BYTES), String(CREDITS)],
    stdin: true,
    ...limits,
    onStdout: (d) => {
      received += d.length;
      if (received > (CREDITS + granted) * WINDOW_BYTES) throw helperProtocolError('more bytes than it was granted');
      queue.push(d);
      notify();
    },
  });
  let finished = false;
  void helper.settled.then(() => {
    finished = true;
    notify();
  });
  try {
    for (;;) {
      const chunk = queue.shift();
      if (chunk !== undefined) {
        yield chunk;
        consumed += chunk.length;
        const due = Math.floor(consumed / WINDOW_BYTES) - granted;
        if (due > 0) {
          granted += due;
          void helper.write(Buffer.alloc(due, 0x2b));
        }
        continue;
      }
      // EXIT comes after the last STDOUT: once settled, the queue is complete.
      if (finished) return await helper.done;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    if (!finished) {
      helper.stop(new WardenError('E_FILE_OPERATION_FAILED', 'The read was abandoned by its caller.'));
      await helper.settled;
    }
  }
}
