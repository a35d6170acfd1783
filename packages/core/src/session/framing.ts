/**
 * The framing between a session and its shell. Pure: no I/O.
 *
 * A command travels as one line that the shell reads from its stdin:
 *
 *   \:; for __warden_cmd in 1; do \command eval "$({ \command printf '<command>'; } 2>/dev/null)" </dev/null; done;
 *   { \command printf '<token>%d %s\000' "$?" "${PWD-}"; \command unset -v __warden_cmd; \command printf '<token>\000' >&3; } 3>&2 2>/dev/null
 *
 * - The command is a printf format in which every byte that could end the
 *   quotes or mean something to printf is an octal escape, so no command text
 *   can break out of the frame, and eval parses it as a whole: an unbalanced
 *   quote is a syntax error of that command, not of the next line.
 * - printf and eval are shell builtins: the frame works after the command
 *   changed PATH or deleted files. `\command` skips aliases (the leading
 *   backslash) and user functions named like the builtins.
 * - The command runs in a one-pass `for` loop, so that the interrupt trap
 *   (INTERRUPT_TRAP) can stop it with `break` and the shell lives on.
 * - The command's stdin is /dev/null (or the bytes given with `stdin`), never
 *   the control stream that carries the next commands.
 * - After the command, a marker goes to stdout (with `$?` and the working
 *   directory) and another to stderr: the run is over only when both arrived,
 *   so no output of either stream is left behind. A marker starts with a token
 *   holding a fresh 128-bit nonce, written as octal escapes too so that `set
 *   -v` echoes of the frame never contain it. Output that merely
 *   looks like a marker (an old nonce, a printed log of a session) is output.
 *   A command that reads the shell's memory could still learn the nonce and
 *   forge an end: the frame keeps honest output exact, it is not a security
 *   boundary (the sandbox is).
 */
import { randomBytes } from 'node:crypto';

/** A fresh random nonce for one command (128 bits, hex). */
export function newNonce(): string {
  return randomBytes(16).toString('hex');
}

/** The bytes that start both end markers of the command with this nonce. */
export function markerToken(nonce: string): Buffer {
  return Buffer.from(`__warden_end_${nonce}__`, 'latin1');
}

/** Bytes that stand for themselves inside a single-quoted printf format. */
function isPlain(b: number): boolean {
  // printable ASCII except ' (ends the quotes), % (printf directive) and \ (printf escape)
  return b >= 0x20 && b <= 0x7e && b !== 0x27 && b !== 0x25 && b !== 0x5c;
}

/** `bytes` as the body of a single-quoted printf format that prints exactly them. */
export function printfLiteral(bytes: Uint8Array, escapeAll = false): string {
  let s = '';
  for (const b of bytes) s += !escapeAll && isPlain(b) ? String.fromCharCode(b) : `\\${b.toString(8).padStart(3, '0')}`;
  return s;
}

export interface CommandFrame {
  readonly nonce: string;
  readonly command: Uint8Array;
  /** Bytes for the command's stdin (bash only: a process substitution); default /dev/null. */
  readonly stdin?: Uint8Array | undefined;
}

/**
 * The loop the command runs in, so that the interrupt trap can leave it with
 * `break`: set while a command runs, unset before the stderr marker.
 */
const LOOP_VAR = '__warden_cmd';

/** The signal that asks the shell to stop the running command. Its default action is to ignore it, so it is harmless if the trap is gone. */
export const INTERRUPT_SIGNAL = 'SIGURG';

/**
 * Installed once per shell: on INTERRUPT_SIGNAL, leave every loop up to the
 * frame's, which stops the rest of a command line (`sleep 600; echo more`)
 * and a loop of builtins at its top level (`while :; do :; done`) without
 * losing the shell. A shell runs the trap once the foreground child it waits
 * for has died, and (bash and dash alike) before it runs the next line when
 * the signal arrives while it waits for input, where the trap does nothing.
 * `break` in a function only leaves the function's loops: a command stuck
 * there is stopped by replacing the shell.
 */
export const INTERRUPT_TRAP = `trap '{ [ -z "\${${LOOP_VAR}-}" ] || break 1000; } 2>/dev/null' URG`;

/** The line that runs one command in the shell and reports its end (see the file comment). */
export function commandLine(frame: CommandFrame): string {
  const token = printfLiteral(markerToken(frame.nonce), true);
  const stdin = frame.stdin === undefined ? '</dev/null' : `< <({ \\command printf '${printfLiteral(frame.stdin)}'; } 2>/dev/null)`;
  // The frame's own commands run with stderr on /dev/null (the stderr marker goes out through fd 3, a
  // copy of the real stderr made for that group only), so a `set -x` trace shows the user's command only.
  // `$?` after the loop is the command's status. The leading `\:` is there because bash 5.2, after an eval
  // that ended inside an open quote, does not take the next line's first word as a reserved word (`for`).
  return (
    `\\:; for ${LOOP_VAR} in 1; do \\command eval "$({ \\command printf '${printfLiteral(frame.command)}'; } 2>/dev/null)" ${stdin}; done; ` +
    `{ \\command printf '${token}%d %s\\000' "$?" "\${PWD-}"; \\command unset -v ${LOOP_VAR}; \\command printf '${token}\\000' >&3; } 3>&2 2>/dev/null\n`
  );
}

/** What follows the token on stdout: `$?`, a space, the working directory. */
export function parseStdoutTrailer(trailer: Buffer): { exitCode: number | null; cwd: string | undefined } {
  const text = trailer.toString('utf8');
  const m = /^(\d{1,3}) ([^]*)$/.exec(text);
  if (!m) return { exitCode: null, cwd: undefined };
  return { exitCode: Number(m[1]), cwd: m[2] === '' ? undefined : m[2] };
}

/** A marker's trailer longer than this is not ours (a working directory is at most PATH_MAX). */
const MAX_TRAILER_BYTES = 16 * 1024;

/**
 * Finds the end marker in one output stream, across chunk boundaries, and
 * passes every byte before it on unchanged. Holds back only a tail that could
 * be the start of the token.
 */
export class MarkerScanner {
  readonly #token: Buffer;
  #held: Buffer = Buffer.alloc(0);
  #trailer: Buffer[] | undefined;
  #trailerBytes = 0;
  /** Set once the marker and its NUL terminator were seen. */
  #result: Buffer | undefined;

  constructor(token: Buffer) {
    this.#token = token;
  }

  /** True once the marker and its NUL terminator were seen. */
  get done(): boolean {
    return this.#result !== undefined;
  }

  /** The bytes between the token and its NUL, once done. */
  get trailer(): Buffer | undefined {
    return this.#result;
  }

  /** Feeds a chunk; returns the output bytes it frees (possibly empty). Bytes after the marker are dropped. */
  push(chunk: Buffer): Buffer {
    if (this.#result) return EMPTY;
    if (this.#trailer) {
      this.#takeTrailer(chunk);
      return EMPTY;
    }
    const data = this.#held.length === 0 ? chunk : Buffer.concat([this.#held, chunk]);
    const at = data.indexOf(this.#token);
    if (at >= 0) {
      this.#held = EMPTY;
      this.#trailer = [];
      this.#takeTrailer(data.subarray(at + this.#token.length));
      return data.subarray(0, at);
    }
    const keep = this.#partialTail(data);
    this.#held = Buffer.from(data.subarray(data.length - keep));
    return data.subarray(0, data.length - keep);
  }

  /** The stream ended without a marker: the held-back tail was output after all. */
  flush(): Buffer {
    if (this.#trailer || this.#result) return EMPTY;
    const rest = this.#held;
    this.#held = EMPTY;
    return rest;
  }

  #takeTrailer(data: Buffer): void {
    const trailer = this.#trailer ?? [];
    const nul = data.indexOf(0);
    const piece = nul >= 0 ? data.subarray(0, nul) : data;
    const room = MAX_TRAILER_BYTES - this.#trailerBytes;
    trailer.push(piece.subarray(0, Math.max(0, room)));
    this.#trailerBytes += piece.length;
    if (nul >= 0 || this.#trailerBytes >= MAX_TRAILER_BYTES) {
      this.#result = Buffer.concat(trailer);
      this.#trailer = undefined;
    }
  }

  /** Length of the longest tail of `data` that is a proper prefix of the token. */
  #partialTail(data: Buffer): number {
    const max = Math.min(this.#token.length - 1, data.length);
    for (let k = max; k > 0; k--) {
      if (data.compare(this.#token, 0, k, data.length - k, data.length) === 0) return k;
    }
    return 0;
  }
}

const EMPTY = Buffer.alloc(0);
