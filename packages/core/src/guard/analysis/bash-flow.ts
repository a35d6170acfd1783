import type { GuardLanguage } from '../types.js';
import type { Data } from './bash-words.js';
import { type Word, basename } from './context.js';
import { decodeEchoEscapes, decompress, fromBase64, fromHex } from './decode.js';

/*
 * Literal data flow through a pipeline, for `echo … | base64 -d | sh` and
 * `bash -c "$(printf … | xxd -r -p)"`: what each stage would print, when
 * that is knowable from literals alone. Nothing here runs anything.
 */

const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'ash', 'mksh', 'rbash', 'posh', 'yash', 'fish']);
const PYTHON = /^(python(\d+(\.\d+)*)?|pypy\d*)$/;
const JS = new Set(['node', 'nodejs', 'bun']);

function literal(words: readonly Word[]): boolean {
  return words.every((w) => !w.dynamic);
}

function make(bytes: Buffer, from: Data | Word, decoders: readonly string[], dynamic = false): Data {
  const src = 'bytes' in from ? from : { start: from.start, end: from.end, raw: from.raw };
  return { bytes, decoders, dynamic, start: src.start, end: src.end, raw: decoders.length > 0 ? -1 : src.raw };
}

function echo(words: readonly Word[]): Data | null {
  let i = 1;
  let newline = true;
  let escapes = false;
  for (; i < words.length && /^-[neE]+$/.test(words[i]?.value ?? ''); i++) {
    const v = words[i]?.value ?? '';
    if (v.includes('n')) newline = false;
    if (v.includes('e')) escapes = true;
  }
  const args = words.slice(i);
  const first = args[0];
  if (!first || !literal(args)) return null;
  let s = args.map((w) => w.value).join(' ');
  if (escapes) s = decodeEchoEscapes(s);
  const data = make(Buffer.from(newline ? `${s}\n` : s, 'utf8'), first, []);
  // The code is the word itself when echo printed it unchanged.
  return args.length === 1 && !escapes ? data : { ...data, raw: -1 };
}

function printf(words: readonly Word[]): Data | null {
  const rest = words[1]?.value === '--' ? words.slice(2) : words.slice(1);
  const fmt = rest[0];
  if (!fmt || !literal(rest) || /%[^%sb]/.test(fmt.value)) return null;
  const args = rest.slice(1).map((w) => w.value);
  const format = decodeEchoEscapes(fmt.value);
  let out = '';
  let k = 0;
  // printf reuses its format while arguments remain.
  for (let round = 0; round < 64; round++) {
    const before = k;
    out += format.replace(/%(%|s|b)/g, (_m, d: string) => {
      if (d === '%') return '%';
      const a = args[k++] ?? '';
      return d === 'b' ? decodeEchoEscapes(a) : a;
    });
    if (k >= args.length || k === before) break;
  }
  const data = make(Buffer.from(out, 'utf8'), fmt, []);
  return rest.length === 1 && out === fmt.value ? data : { ...data, raw: -1 };
}

function hasFlag(words: readonly Word[], short: string, long: string): boolean {
  return words.some((w, i) => i > 0 && (w.value === long || (/^-[a-zA-Z]+$/.test(w.value) && w.value.includes(short))));
}

function noFileArgs(words: readonly Word[]): boolean {
  return words.slice(1).every((w) => w.value.startsWith('-'));
}

/** What the (innermost, unwrapped) command prints given `input` on stdin; null when not literal. */
export function stdoutOf(words: readonly Word[], input: Data | null, maxBytes: number): Data | null {
  const w0 = words[0];
  if (!w0 || w0.dynamic) return null;
  const prog = basename(w0.value);
  switch (prog) {
    case 'echo':
      return echo(words);
    case 'printf':
      return printf(words);
    case 'cat':
    case 'tee':
      return input && (prog === 'tee' || noFileArgs(words) || words[1]?.value === '-') ? input : null;
    case 'base64':
    case 'base32':
      if (!input || input.dynamic || prog === 'base32' || !(hasFlag(words, 'd', '--decode') || hasFlag(words, 'D', '--decode'))) return null;
      return decoded(fromBase64(input.bytes.toString('latin1')), input, 'base64');
    case 'xxd':
      if (!input || input.dynamic || !hasFlag(words, 'r', '--revert')) return null;
      return decoded(fromHex(input.bytes.toString('latin1')), input, 'xxd');
    case 'gunzip':
    case 'zcat':
    case 'gzip':
    case 'zlib-flate':
      if (!input || input.dynamic || (prog === 'gzip' && !hasFlag(words, 'd', '--decompress'))) return null;
      return decoded(decompress(input.bytes, maxBytes), input, prog === 'zlib-flate' ? 'zlib' : 'gunzip');
    case 'rev':
      if (!input || input.dynamic || !noFileArgs(words)) return null;
      return decoded(Buffer.from(input.bytes.toString('utf8').split('\n').map((l) => [...l].reverse().join('')).join('\n')), input, 'rev');
    default:
      return null;
  }
}

function decoded(bytes: Buffer | null, from: Data, layer: string): Data | null {
  return bytes ? make(bytes, from, [...from.decoders, layer]) : null;
}

/**
 * The language an interpreter reads from stdin (`sh`, `python3 -`, `node`),
 * or null when it runs something else (`sh -c …`, `python3 script.py`).
 */
export function readsStdinAs(words: readonly Word[]): GuardLanguage | null {
  const w0 = words[0];
  if (!w0) return null;
  const prog = basename(w0.value);
  const lang: GuardLanguage | null = SHELLS.has(prog) ? 'bash' : PYTHON.test(prog) ? 'python' : JS.has(prog) ? 'javascript' : null;
  if (!lang) return null;
  for (let i = 1; i < words.length; i++) {
    const v = words[i]?.value ?? '';
    if (v === '-' || v === '--') return lang;
    if (!v.startsWith('-') && !v.startsWith('+')) return null; // a script file
    if (lang === 'bash' && /^-[a-zA-Z]*c/.test(v)) return null;
    if (lang === 'python' && /^-[a-zA-Z]*[cm]/.test(v)) return null;
    if (lang === 'javascript' && (/^-[a-zA-Z]*[ep]/.test(v) || v.startsWith('--eval') || v.startsWith('--print'))) return null;
    if ((lang === 'bash' && /^[-+]o$|^[-+]O$|^--(rcfile|init-file)$/.test(v)) || (lang === 'python' && /^-[WX]$/.test(v))) i++;
  }
  return lang;
}
