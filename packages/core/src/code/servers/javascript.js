// Warden's JavaScript code server: runs the cells of one code context, one
// after another, in one Node.js realm whose globals persist between them.
//
// Started by the host as `sh -c 'exec node -e "$1" 3<&0 4>&1 0</dev/null 1>&2'`:
// requests arrive on fd 3 and events leave on fd 4, one JSON object per line
// (see packages/core/src/code/framing.ts); fd 0 is /dev/null and fd 1 goes to
// stderr, so neither user code nor the programs it starts can read the
// requests or corrupt the events. The loader reads this source from fd 3 (a
// decimal length line, then the bytes) and calls the function it evaluates to.
//
// A cell is a vm.Script run in this realm, so `let`, `const` and `class`
// declarations persist like in the REPL. The host rewrites cells that use
// top-level await into an async function (`async: true` in the request).
// The host interrupts a cell with SIGINT: synchronous code stops through
// vm's breakOnSigint, an awaiting cell is abandoned (its callbacks may still
// run later).
(function wardenCodeServer(require) {
  'use strict';
  const fs = require('fs');
  const net = require('net');
  const path = require('path');
  const util = require('util');
  const vm = require('vm');
  const { createRequire } = require('module');
  const { StringDecoder } = require('string_decoder');

  const IN_FD = 3;
  const OUT_FD = 4;
  const CHUNK_CHARS = 1024 * 1024;
  const FLUSH_CHARS = 64 * 1024;
  const LINGER_MS = 2;
  const DISPLAY = Symbol.for('warden.display');
  const RESULT_KEYS = ['text', 'html', 'markdown', 'svg', 'png', 'jpeg', 'pdf', 'latex', 'javascript'];
  const importModuleDynamically = vm.constants && vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER;

  // ------------------------------------------------------------ events

  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  function writeAll(buf) {
    let off = 0;
    while (off < buf.length) {
      try {
        off += fs.writeSync(OUT_FD, buf, off, buf.length - off);
      } catch (err) {
        if (err.code !== 'EAGAIN') throw err;
        Atomics.wait(sleeper, 0, 0, 1);
      }
    }
  }

  let pending = [];
  let pendingChars = 0;
  let lastFlush = 0;
  let timer;

  /** Text goes raw after a header line: no JSON escaping of megabytes of output. */
  function textFrames(type, text, frames) {
    let i = 0;
    while (i < text.length) {
      let end = Math.min(i + CHUNK_CHARS, text.length);
      // Never split a surrogate pair between two events.
      if (end < text.length && (text.charCodeAt(end - 1) & 0xfc00) === 0xd800) end--;
      const data = Buffer.from(text.slice(i, end), 'utf8');
      frames.push(Buffer.from(`{"type":"${type}","bytes":${data.length}}\n`, 'latin1'), data);
      i = end;
    }
  }

  /** Writes pending text, then `events`, in one write. */
  function flush(events) {
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
    const frames = [];
    for (const [type, parts] of pending) textFrames(type, parts.join(''), frames);
    pending = [];
    pendingChars = 0;
    lastFlush = performance.now();
    if (events) for (const e of events) frames.push(Buffer.from(JSON.stringify(e) + '\n', 'utf8'));
    if (frames.length > 0) writeAll(frames.length === 1 ? frames[0] : Buffer.concat(frames));
  }

  function add(type, text) {
    if (!text) return;
    const last = pending[pending.length - 1];
    if (last && last[0] === type) last[1].push(text);
    else pending.push([type, [text]]);
    pendingChars += text.length;
    const now = performance.now();
    if (pendingChars >= FLUSH_CHARS || (now - lastFlush >= LINGER_MS && text.endsWith('\n'))) flush();
    else if (timer === undefined) timer = setTimeout(() => flush(), LINGER_MS);
  }

  function writer(type) {
    const decoder = new StringDecoder('utf8');
    return function write(chunk, encoding, callback) {
      if (typeof encoding === 'function') callback = encoding;
      if (typeof chunk === 'string') add(type, chunk);
      else if (chunk instanceof Uint8Array) add(type, decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
      else throw new TypeError(`The "chunk" argument must be of type string or an instance of Buffer or Uint8Array. Received ${util.inspect(chunk)}`);
      if (typeof callback === 'function') process.nextTick(callback);
      return true;
    };
  }
  process.stdout.write = writer('stdout');
  process.stderr.write = writer('stderr');

  // ------------------------------------------------------------ results

  function toJson(value) {
    try {
      const text = JSON.stringify(value);
      return text === undefined ? undefined : JSON.parse(text);
    } catch {
      return undefined;
    }
  }

  function isPlain(value) {
    if (Array.isArray(value)) return true;
    if (value === null || typeof value !== 'object') return false;
    const proto = Object.getPrototypeOf(value);
    return proto === Object.prototype || proto === null;
  }

  /** text from util.inspect; json for plain objects and arrays; an object's [Symbol.for('warden.display')]() may give html, png, ... */
  function format(value, main) {
    const result = {};
    const hook = value !== null && (typeof value === 'object' || typeof value === 'function') ? value[DISPLAY] : undefined;
    if (typeof hook === 'function') {
      const data = hook.call(value);
      if (data !== null && typeof data === 'object') {
        for (const key of RESULT_KEYS) if (typeof data[key] === 'string') result[key] = data[key];
        if (data.json !== undefined) {
          const json = toJson(data.json);
          if (json !== undefined) result.json = json;
        }
      }
    }
    if (result.text === undefined) result.text = util.inspect(value, { depth: 4, maxArrayLength: 200, maxStringLength: 100_000, breakLength: 100 });
    if (typeof hook !== 'function' && isPlain(value)) {
      const json = toJson(value);
      if (json !== undefined) result.json = json;
    }
    result.isMainResult = main;
    return result;
  }

  globalThis.display = function display(...values) {
    flush(values.map((v) => ({ type: 'result', result: format(v, false) })));
  };

  // ------------------------------------------------------------ errors

  class Interrupted extends Error {}
  Object.defineProperty(Interrupted.prototype, 'name', { value: 'Interrupted' });

  /** The stack without the frames of this server and of vm (they come after the cell's). */
  function cleanStack(stack) {
    const lines = stack.split('\n');
    const cut = lines.findIndex((l) => /^\s+at /.test(l) && /warden-code-server\.js|node:vm|\[eval\]/.test(l));
    return (cut < 0 ? lines : lines.slice(0, cut)).join('\n');
  }

  function errorEvent(err) {
    if (err !== null && typeof err === 'object' && typeof err.stack === 'string') {
      const interrupted = err instanceof Interrupted || err.code === 'ERR_SCRIPT_EXECUTION_INTERRUPTED';
      return {
        type: 'error',
        name: interrupted ? 'Interrupted' : String(err.name ?? 'Error'),
        value: interrupted ? 'The cell was interrupted.' : String(err.message ?? ''),
        traceback: cleanStack(err.stack),
      };
    }
    const text = util.inspect(err);
    return { type: 'error', name: 'Uncaught', value: text, traceback: `Uncaught ${text}` };
  }

  process.on('uncaughtException', (err) => add('stderr', `Uncaught ${util.inspect(err)}\n`));
  // process.exit() in a cell: what it printed last still goes out.
  process.on('exit', () => flush());
  process.on('unhandledRejection', (reason) => add('stderr', `Unhandled promise rejection: ${util.inspect(reason)}\n`));

  // ------------------------------------------------------------ cells

  let count = 0;
  /** Rejects the awaiting cell, if any. */
  let interruptAwait;
  process.on('SIGINT', () => interruptAwait?.(new Interrupted('The cell was interrupted.')));

  function awaitInterruptibly(promise) {
    return new Promise((resolve, reject) => {
      interruptAwait = reject;
      Promise.resolve(promise).then(resolve, reject);
    }).finally(() => {
      interruptAwait = undefined;
    });
  }

  globalThis.require = createRequire(path.join(process.cwd(), '[warden-cell]'));

  async function run(request) {
    count++;
    const filename = `<cell-${count}>`;
    let value;
    let error;
    let failed = false;
    try {
      const script = new vm.Script(request.code, { filename, ...(importModuleDynamically ? { importModuleDynamically } : {}) });
      value = script.runInThisContext({ breakOnSigint: true, displayErrors: false });
      if (request.async) {
        const box = await awaitInterruptibly(value);
        value = box === undefined ? undefined : box.value;
      }
    } catch (err) {
      failed = true;
      error = err;
    }
    const events = [];
    if (!failed && value !== undefined) {
      try {
        events.push({ type: 'result', result: format(value, true) });
      } catch (err) {
        add('stderr', `Formatting the result failed: ${util.inspect(err)}\n`);
      }
    }
    if (failed) events.push(errorEvent(error));
    events.push({ type: 'done', id: request.id, executionCount: count });
    flush(events);
  }

  // ------------------------------------------------------------ requests

  const queue = [];
  let busy = false;
  async function serve() {
    if (busy) return;
    busy = true;
    while (queue.length > 0) {
      const request = JSON.parse(queue.shift());
      if (request.op === 'run') await run(request);
    }
    busy = false;
  }

  const input = new net.Socket({ fd: IN_FD, readable: true, writable: false });
  input.setEncoding('utf8');
  let buffered = '';
  input.on('data', (data) => {
    let from = buffered.length;
    buffered += data;
    let nl;
    while ((nl = buffered.indexOf('\n', from)) >= 0) {
      queue.push(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
      from = 0;
    }
    void serve();
  });
  // The host went away: nothing will read the results.
  input.on('end', () => process.exit(0));
  input.on('error', () => process.exit(0));

  flush([{ type: 'ready', language: 'javascript', version: process.version.replace(/^v/, ''), pid: process.pid }]);
});
