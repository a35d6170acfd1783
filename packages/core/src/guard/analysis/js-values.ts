import type { Node } from 'web-tree-sitter';
import { firstOf, lastOf } from './context.js';
import { decodeJsEscapes, decompress, fromBase64, fromHex } from './decode.js';
import type { Grammar } from './parsers.js';
import { LiteralScope, type Lit } from './node-reader.js';

const MAX_DEPTH = 24;
/** Expressions that only wrap another (TypeScript assertions, await, parentheses). */
const WRAPPING = new Set(['parenthesized_expression', 'await_expression', 'as_expression', 'non_null_expression', 'satisfies_expression', 'type_assertion']);
const GLOBALS = /^(globalThis|global|window|self)\./;
/** A member chain written plainly (`fs.promises.rm`): no spaces, comments, calls, `?.` or `#private`. */
const DOTTED = /^[A-Za-z_$][A-Za-z0-9_$]*(?:\.[A-Za-z_$][A-Za-z0-9_$]*)+$/;
/** Words that start a chain but are not identifiers, so qualify() does not resolve them. */
const NOT_NAMES = new Set(['this', 'super', 'import', 'new', 'null', 'true', 'false', 'typeof', 'void', 'await', 'yield', 'delete', 'in', 'of', 'instanceof']);
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const NEW = /^new\s+/;

/** A name or member chain written plainly (`require`, `fs.promises.rm`), which qualify() can read as text. */
function plainName(text: string): boolean {
  const dot = text.indexOf('.');
  return (dot < 0 ? IDENTIFIER.test(text) : DOTTED.test(text)) && !NOT_NAMES.has(dot < 0 ? text : text.slice(0, dot));
}
const INFLATE = new Set(['zlib.inflateSync', 'zlib.gunzipSync', 'zlib.unzipSync', 'zlib.inflateRawSync']);

function text(t: string, bytes: Buffer | null = null, decoders: readonly string[] = []): Lit {
  return { text: t, bytes, decoders };
}

function bin(bytes: Buffer | null, from: Lit, layer: string, encoding: BufferEncoding = 'utf8'): Lit | null {
  return bytes ? { text: bytes.toString(encoding), bytes, decoders: [...from.decoders, layer] } : null;
}

/** `node:fs` → `fs`. */
export function moduleName(m: string): string {
  return m.startsWith('node:') ? m.slice(5) : m;
}

/** Name and value resolution for one JS/TS frame (imports, requires, destructuring, simple consts). */
export class JsScope extends LiteralScope {
  readonly aliases = new Map<string, string>();
  readonly assigns = new Map<string, Node[]>();
  readonly #maxBytes: number;
  readonly #visiting = new Set<string>();
  #budget = 20_000;

  constructor(code: string, grammar: Grammar, maxBytes: number) {
    super(code, grammar);
    this.#maxBytes = maxBytes;
  }


  #via<T>(name: string, f: (right: Node) => T): T | null {
    const rs = this.assigns.get(name);
    const right = rs?.length === 1 && !this.#visiting.has(name) ? rs[0] : undefined;
    if (!right) return null;
    this.#visiting.add(name);
    try {
      return f(right);
    } finally {
      this.#visiting.delete(name);
    }
  }

  /** Callee and arguments of a call or `new`. */
  parts(n: Node): { fn: Node | null; args: Node[] } {
    const head = firstOf(n);
    const fn = head && this.type(head) === 'new' ? n.childForFieldName('constructor') : head;
    const tail = lastOf(n);
    const args = tail && this.type(tail) === 'arguments' ? tail.namedChildren.filter((c): c is Node => c !== null && this.type(c) !== 'comment') : [];
    return { fn, args };
  }

  /** Qualified name (`cp.execSync` → `child_process.execSync`), or null. */
  qualify(n: Node, d = 0): string | null {
    if (d > MAX_DEPTH || --this.#budget < 0) return null;
    const t = this.type(n);
    if (WRAPPING.has(t)) return n.firstNamedChild ? this.qualify(n.firstNamedChild, d + 1) : null;
    switch (t) {
      case 'identifier':
        return this.#qualifyName(this.src(n), d);
      case 'member_expression': {
        // `fs.promises.rm` as text: the names, without building a node for every part.
        const text = this.src(n);
        if (plainName(text)) return this.#qualifyText(text, d + 1);
        const obj = firstOf(n);
        const prop = lastOf(n);
        const q = obj ? this.qualify(obj, d + 1) : null;
        return q && prop ? `${q}.${this.src(prop)}`.replace(GLOBALS, '') : null;
      }
      case 'subscript_expression': {
        const obj = firstOf(n);
        const index = n.childForFieldName('index');
        const q = obj ? this.qualify(obj, d + 1) : null;
        const k = index ? this.lit(index, d + 1)?.text : undefined;
        return q && k !== undefined ? `${q}.${k}`.replace(GLOBALS, '') : null;
      }
      case 'call_expression': {
        const { fn, args } = this.parts(n);
        if (!fn || !args[0]) return null;
        const f = this.type(fn) === 'import' ? 'import' : this.qualify(fn, d + 1);
        if (f !== 'require' && f !== 'import' && f !== 'module.require' && f !== 'process.mainModule.require') return null;
        const m = this.lit(args[0], d + 1)?.text;
        return m === undefined ? null : moduleName(m);
      }
      default:
        return null;
    }
  }

  /** qualify() of a plain (dotted) name given as text: `fs.promises.rm`. */
  #qualifyText(text: string, d: number): string | null {
    const parts = text.split('.');
    let q = this.#qualifyName(parts[0] as string, d);
    for (let i = 1; q !== null && i < parts.length; i++) q = `${q}.${parts[i] as string}`.replace(GLOBALS, '');
    return q;
  }

  /**
   * callName() of a call's callee, read from the text before its arguments
   * when that is a plain name (`cp.execSync`, `new vm.Script`): most calls
   * then need no node for the callee at all.
   */
  callNameOf(call: Node, list: Node | null): string {
    if (list) {
      let text = this.code.slice(call.startIndex, list.startIndex).trimEnd();
      if (this.type(call) === 'new_expression') text = text.replace(NEW, '');
      if (plainName(text) && --this.#budget >= 0) {
        const q = this.#qualifyText(text, 0);
        if (q) return q;
      }
    }
    const { fn } = this.parts(call);
    return fn ? this.callName(fn) : '?';
  }

  /** A call's argument nodes, comments left out; none for a tagged template. */
  argsOf(list: Node | null): Node[] {
    const out: Node[] = [];
    if (!list || this.type(list) !== 'arguments') return out;
    for (const c of list.namedChildren) if (c && this.type(c) !== 'comment') out.push(c);
    return out;
  }

  /** What a bare name stands for: an import alias, a name bound once, or itself. */
  #qualifyName(name: string, d: number): string | null {
    const alias = this.aliases.get(name);
    if (alias !== undefined) return alias;
    return this.#via(name, (right) => (this.type(right) === 'string' ? null : this.qualify(right, d + 1))) ?? name;
  }

  callName(fn: Node): string {
    if (this.type(fn) === 'import') return 'import';
    const q = this.qualify(fn);
    if (q) return q;
    if (this.type(fn) === 'member_expression') {
      const obj = firstOf(fn);
      const prop = lastOf(fn);
      const inner = obj && this.type(obj) === 'call_expression' ? firstOf(obj) : null;
      const base = inner ? `${this.callName(inner)}()` : '?';
      return prop ? `${base}.${this.src(prop)}` : base;
    }
    return '?';
  }

  elements(n: Node, d = 0): Node[] | null {
    if (d > MAX_DEPTH || --this.#budget < 0) return null;
    const t = this.type(n);
    if (t === 'array') return n.namedChildren.filter((c): c is Node => c !== null && this.type(c) !== 'comment');
    if (WRAPPING.has(t)) return n.firstNamedChild ? this.elements(n.firstNamedChild, d + 1) : null;
    if (t === 'identifier') return this.#via(this.src(n), (right) => this.elements(right, d + 1));
    return null;
  }

  /** Value node of `key` in an object literal (`{ shell: true }`). */
  prop(obj: Node | undefined, key: string): Node | null {
    if (!obj || this.type(obj) !== 'object') return null;
    for (const p of obj.namedChildren) {
      if (!p) continue;
      const t = this.type(p);
      if (t === 'pair') {
        const k = firstOf(p);
        const kt = k ? this.type(k) : '';
        const name = k ? (kt === 'string' ? this.lit(k)?.text : this.src(k)) : undefined;
        if (name === key) return lastOf(p);
      } else if (t === 'shorthand_property_identifier' && this.src(p) === key) return p;
    }
    return null;
  }

  /**
   * The properties of an object literal as Call.kwargs (`{ recursive: true }`
   * → recursive: 'true'), or null when `obj` is not one. Only plain keys;
   * a value is its literal string, `true`/`false`, else null.
   */
  kwargs(obj: Node): Readonly<Record<string, string | null>> | null {
    if (this.type(obj) !== 'object') return null;
    const out: [string, string | null][] = [];
    for (const p of obj.namedChildren) {
      if (!p) continue;
      const t = this.type(p);
      if (t === 'shorthand_property_identifier') out.push([this.src(p), null]);
      if (t !== 'pair') continue;
      const k = firstOf(p);
      const v = lastOf(p);
      const kt = k ? this.type(k) : '';
      const key = !k ? undefined : kt === 'property_identifier' || kt === 'number' ? this.src(k) : kt === 'string' ? this.lit(k)?.text : undefined;
      if (key === undefined || !v) continue;
      const vt = this.type(v);
      out.push([key, vt === 'true' || vt === 'false' ? vt : (this.lit(v)?.text ?? null)]);
    }
    return out.length > 0 ? Object.freeze(Object.fromEntries(out)) : null;
  }

  /** A string or template literal's value, from its text (null with `${…}`). */
  string(n: Node): Lit | null {
    const src = this.src(n);
    const q = src[0];
    if (q !== '"' && q !== "'" && q !== '`') return null;
    const body = src.slice(1, src.length > 1 && src.endsWith(q) ? -1 : undefined);
    if (q === '`' && /(^|[^\\])(\\\\)*\$\{/.test(body)) return null;
    return text(body.includes('\\') ? decodeJsEscapes(body) : body);
  }

  lit(n: Node, d = 0): Lit | null {
    if (d > MAX_DEPTH || --this.#budget < 0) return null;
    const t = this.type(n);
    if (WRAPPING.has(t)) return n.firstNamedChild ? this.lit(n.firstNamedChild, d + 1) : null;
    switch (t) {
      case 'string':
      case 'template_string':
        return this.string(n);
      case 'binary_expression': {
        if (n.childForFieldName('operator')?.type !== '+') return null;
        const left = firstOf(n);
        const right = lastOf(n);
        const l = left ? this.lit(left, d + 1) : null;
        const r = l && right ? this.lit(right, d + 1) : null;
        return l && r ? text(l.text + r.text, null, [...l.decoders, ...r.decoders]) : null;
      }
      case 'identifier':
        return this.#via(this.src(n), (right) => this.lit(right, d + 1));
      case 'call_expression':
      case 'new_expression':
        return this.#litCall(n, d);
      default:
        return null;
    }
  }

  #litCall(n: Node, d: number): Lit | null {
    const { fn, args } = this.parts(n);
    if (!fn) return null;
    const arg = (i: number): Lit | null => {
      const x = args[i];
      return x ? this.lit(x, d + 1) : null;
    };
    if (this.type(fn) === 'member_expression') {
      const obj = firstOf(fn);
      const prop = lastOf(fn);
      const method = prop ? this.src(prop) : '';
      if (obj && method === 'join') {
        const els = this.elements(obj, d + 1);
        const parts = els?.map((e) => this.lit(e, d + 1));
        const sep = args[0] ? arg(0) : text(',');
        if (parts && sep && parts.every((p) => p)) return text((parts as Lit[]).map((p) => p.text).join(sep.text));
      }
      const self = obj && (method === 'toString' || method === 'trim' || method === 'replace' || method === 'concat') ? this.lit(obj, d + 1) : null;
      if (self) {
        if (method === 'toString') {
          const enc = arg(0)?.text ?? 'utf8';
          return self.bytes && enc !== 'base64' && enc !== 'hex' ? text(self.bytes.toString(enc === 'latin1' || enc === 'binary' ? 'latin1' : 'utf8'), null, self.decoders) : self;
        }
        if (method === 'trim') return text(self.text.trim(), null, self.decoders);
        if (method === 'concat') {
          const rest = args.map((_, i) => arg(i));
          return rest.every((r) => r) ? text(self.text + rest.map((r) => r?.text).join(''), null, self.decoders) : null;
        }
        const from = arg(0);
        const to = arg(1);
        return from && to && args[0] && this.type(args[0]) !== 'regex' ? text(self.text.replace(from.text, to.text), null, self.decoders) : null;
      }
    }
    const name = this.qualify(fn, d + 1);
    if (name === 'String.fromCharCode' || name === 'String.fromCodePoint') {
      const codes = args.map((a) => (this.type(a) === 'number' ? Number(this.src(a)) : NaN));
      return codes.every((c) => Number.isInteger(c) && c >= 0 && c <= 0x10ffff) ? text(String.fromCodePoint(...codes)) : null;
    }
    const first = arg(0);
    if (!first || !name) return null;
    if (name === 'String') return first;
    if (name === 'atob') return bin(fromBase64(first.text), first, 'base64', 'latin1');
    if (name === 'Buffer.from' || name === 'Buffer') {
      const enc = arg(1)?.text ?? 'utf8';
      if (enc === 'base64' || enc === 'base64url') return bin(fromBase64(first.text), first, 'base64');
      if (enc === 'hex') return bin(fromHex(first.text), first, 'hex');
      return text(first.text, Buffer.from(first.text, enc === 'latin1' || enc === 'binary' ? 'latin1' : 'utf8'), first.decoders);
    }
    if (name === 'decodeURIComponent' || name === 'decodeURI' || name === 'unescape') {
      try {
        return text(name === 'unescape' ? unescape(first.text) : decodeURIComponent(first.text), null, [...first.decoders, 'uri']);
      } catch {
        return null;
      }
    }
    if (INFLATE.has(name)) return bin(decompress(first.bytes ?? Buffer.from(first.text, 'utf8'), this.#maxBytes), first, 'zlib');
    return null;
  }
}
