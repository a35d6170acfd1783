import type { Node } from 'web-tree-sitter';
import { type Word, knownOf, verbatimAt } from './context.js';
import { decodeAnsiC } from './decode.js';

/** The literal output of a command substitution, when it can be computed without running anything. */
export interface Data {
  readonly bytes: Buffer;
  readonly decoders: readonly string[];
  readonly dynamic: boolean;
  /** Where the data came from in the frame (the word or heredoc that held it). */
  readonly start: number;
  readonly end: number;
  readonly raw: number;
}

export interface WordEnv {
  readonly code: string;
  /** Node type (cached by the walker). */
  type(node: Node): string;
  /** Output of `$(…)`, or null when it is not a literal. */
  substitute(node: Node): Data | null;
  /** The literal last assigned to a shell variable earlier in this code, if any. */
  variable(name: string): string | undefined;
}

interface Piece {
  value: string;
  dynamic: boolean;
  decoders: readonly string[];
  /** Trailing characters of value that are known (see Word.known). */
  known: number;
}

const lit = (value: string): Piece => ({ value, dynamic: false, decoders: [], known: value.length });
const unknown = (value: string): Piece => ({ value, dynamic: true, decoders: [], known: 0 });

const VARIABLE = /^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$/;
/** Unquoted `$IFS` splits words (`rm${IFS}-rf${IFS}/`). */
const IFS = /\$\{IFS\}|\$IFS(?![A-Za-z0-9_])/;
const BRACE = /^[^'"$`\\\s{}]*\{[^'"$`\\\s]*,[^'"$`\\\s]*\}[^'"$`\\\s]*$/;
const MAX_BRACE_WORDS = 64;

/** Unquoted word: a backslash quotes the next character; backslash-newline disappears. */
function unescapeBare(s: string): string {
  return s.includes('\\') ? s.replace(/\\(\n|.)/gs, (_m, c: string) => (c === '\n' ? '' : c)) : s;
}

/** Inside double quotes a backslash only quotes $ ` " \ and newline. */
function unescapeDouble(s: string): string {
  return s.includes('\\') ? s.replace(/\\([$`"\\\n])/g, (_m, c: string) => (c === '\n' ? '' : c)) : s;
}

function substitution(node: Node, env: WordEnv): Piece {
  const data = env.substitute(node);
  if (!data || data.dynamic) return unknown(env.code.slice(node.startIndex, node.endIndex));
  // Bash strips trailing newlines from $(…).
  const value = data.bytes.toString('utf8').replace(/\n+$/, '');
  return { value, dynamic: false, decoders: data.decoders, known: value.length };
}

function piece(node: Node, env: WordEnv): Piece {
  const { code } = env;
  const text = code.slice(node.startIndex, node.endIndex);
  switch (env.type(node)) {
    case 'word':
      return lit(unescapeBare(text));
    case 'number':
    case 'variable_name':
    case 'string_content':
      return lit(text);
    case 'raw_string':
      return lit(text.slice(1, -1));
    case 'ansi_c_string':
      return lit(decodeAnsiC(text.slice(2, -1)));
    case 'translated_string':
    case 'string':
    case 'concatenation':
      return join(node, env);
    case 'command_substitution':
      return substitution(node, env);
    case 'simple_expansion':
    case 'expansion': {
      // `x=rm; $x -rf /`: use the value assigned earlier, still marked dynamic.
      const name = VARIABLE.exec(text)?.[1];
      const value = name === undefined ? undefined : env.variable(name);
      return value === undefined ? unknown(text) : { value, dynamic: true, decoders: [], known: value.length };
    }
    default:
      return unknown(text);
  }
}

function join(node: Node, env: WordEnv): Piece {
  const outer = env.type(node);
  const inString = outer === 'string';
  let value = '';
  let dynamic = false;
  let decoders: readonly string[] = [];
  let known = 0;
  for (const c of node.children) {
    if (!c) continue;
    const t = env.type(c);
    if (inString && t === '"') continue;
    if (t === '$' && outer === 'translated_string') continue;
    const p = inString && t === 'string_content' ? lit(unescapeDouble(env.code.slice(c.startIndex, c.endIndex))) : piece(c, env);
    value += p.value;
    dynamic ||= p.dynamic;
    known = p.known === p.value.length ? known + p.known : p.known;
    if (p.decoders.length > 0) decoders = [...decoders, ...p.decoders];
  }
  return { value, dynamic, decoders, known };
}

/** Brace expansion of a plain word (`{rm,-rf}` → two words), bounded. */
function expandBraces(s: string): string[] {
  const open = s.indexOf('{');
  let depth = 0;
  const commas: number[] = [];
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (c === '{') depth++;
    else if (c === '}' && --depth === 0) {
      if (commas.length === 0) return [s];
      const parts: string[] = [];
      let from = open + 1;
      for (const k of [...commas, i]) {
        parts.push(s.slice(from, k));
        from = k + 1;
      }
      const pre = s.slice(0, open);
      const post = s.slice(i + 1);
      const out: string[] = [];
      for (const p of parts) {
        for (const e of expandBraces(pre + p + post)) {
          if (out.length >= MAX_BRACE_WORDS) return out;
          out.push(e);
        }
      }
      return out;
    } else if (c === ',' && depth === 1) commas.push(i);
  }
  return [s];
}

/**
 * The words one argument node stands for after quote removal. Usually one; an
 * unquoted `$(…)` with a literal output splits on whitespace and a brace
 * expression expands, as bash would.
 */
export function wordsOf(node: Node, env: WordEnv): Word[] {
  const { code } = env;
  const start = node.startIndex;
  const end = node.endIndex;
  const type = env.type(node);
  if (type === 'command_substitution') {
    const p = substitution(node, env);
    if (p.dynamic) return [{ value: p.value, dynamic: true, start, end, raw: start, decoders: [] }];
    return p.value
      .split(/[ \t\n]+/)
      .filter((v) => v !== '')
      .map((value) => ({ value, dynamic: false, start, end, raw: -1, decoders: p.decoders }));
  }
  if ((type === 'word' || type === 'concatenation') && code.charCodeAt(start) !== 0x24 /* $ */) {
    const text = code.slice(start, end);
    if (text.includes('{') && BRACE.test(text)) {
      const expanded = expandBraces(text);
      if (expanded.length > 1) return expanded.map((value) => ({ value, dynamic: false, start, end, raw: -1, decoders: [] }));
    }
  }
  const p = piece(node, env);
  // Unquoted expansions are split into words by the shell.
  const split = type === 'simple_expansion' || type === 'expansion' ? /[ \t\n]+/ : type === 'concatenation' && p.dynamic && IFS.test(p.value) ? IFS : null;
  if (split) {
    const parts = p.value.split(split).filter((v) => v !== '');
    // A part is known when it is a resolved value or literal text between two `$IFS`.
    const all = p.known === p.value.length;
    if (parts.length > 1) return parts.map((value) => ({ value, dynamic: true, start, end, raw: -1, decoders: p.decoders, known: all || !/[$`]/.test(value) ? value.length : 0 }));
  }
  const w: Word = { value: p.value, dynamic: p.dynamic, start, end, raw: verbatimAt(code, p.value, start, end), decoders: p.decoders };
  return [p.dynamic ? { ...w, known: p.known } : w];
}

/** Joins two words that touch (`r''m`, `$"x"`, or split by backslash-newline, which tree-sitter mis-parses). */
export function glue(a: Word, b: Word, code: string): Word {
  const value = a.value + b.value;
  const w: Word = {
    value,
    dynamic: a.dynamic || b.dynamic,
    start: a.start,
    end: b.end,
    raw: verbatimAt(code, value, a.start, b.end),
    decoders: a.decoders.length === 0 ? b.decoders : [...a.decoders, ...b.decoders],
  };
  const kb = knownOf(b);
  return w.dynamic ? { ...w, known: kb === b.value.length ? knownOf(a) + kb : kb } : w;
}
