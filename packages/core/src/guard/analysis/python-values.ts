import type { Node } from 'web-tree-sitter';
import { firstOf, lastOf } from './context.js';
import { decodePythonEscapes, decompress, fromBase64, fromHex, rot13 } from './decode.js';
import type { Grammar } from './parsers.js';
import { LiteralScope, type Lit } from './node-reader.js';


const MAX_DEPTH = 24;
/** An attribute chain written plainly (`os.path.join`): no spaces, comments, calls or subscripts. */
const DOTTED = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+$/;
/** Keywords that can start an attribute chain but are not identifiers. */
const NOT_NAMES = new Set(['True', 'False', 'None']);
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A name or attribute chain written plainly (`print`, `os.path.join`), which qualify() can read as text. */
function plainName(text: string): boolean {
  const dot = text.indexOf('.');
  return (dot < 0 ? IDENTIFIER.test(text) : DOTTED.test(text)) && !NOT_NAMES.has(dot < 0 ? text : text.slice(0, dot));
}
/** Prefix and opening quote of a Python string literal. */
const STRING = /^([a-zA-Z]*)('''|"""|'|")/;

const BUILTINS = new Set(
  (
    'abs all any ascii bin bool breakpoint bytearray bytes callable chr classmethod compile complex delattr dict dir divmod enumerate ' +
    'eval exec filter float format frozenset getattr globals hasattr hash help hex id input int isinstance issubclass iter len list ' +
    'locals map max memoryview min next object oct open ord pow print property range repr reversed round set setattr slice sorted ' +
    'staticmethod str sum super tuple type vars zip __import__ Exception ValueError TypeError KeyError OSError RuntimeError'
  ).split(' '),
);

/** What `from M import *` binds, for the modules whose names matter to the guard. */
const STAR_EXPORTS: Record<string, ReadonlySet<string>> = {
  os: new Set(
    (
      'system popen remove unlink rmdir removedirs rename renames replace chmod chown lchown kill killpg fork forkpty putenv unsetenv ' +
      'setuid setgid symlink link makedirs mkdir open walk listdir scandir getenv chdir chroot truncate ' +
      'execl execle execlp execlpe execv execve execvp execvpe spawnl spawnle spawnlp spawnlpe spawnv spawnve spawnvp spawnvpe posix_spawn posix_spawnp'
    ).split(' '),
  ),
  subprocess: new Set('run call check_call check_output Popen getoutput getstatusoutput'.split(' ')),
  shutil: new Set('rmtree move copy copy2 copyfile copytree chown which make_archive unpack_archive disk_usage'.split(' ')),
  pty: new Set(['spawn', 'fork', 'openpty']),
};

const B64 = new Set(['base64.b64decode', 'base64.decodebytes', 'base64.decodestring', 'base64.standard_b64decode', 'base64.urlsafe_b64decode', 'binascii.a2b_base64']);
const HEX = new Set(['base64.b16decode', 'binascii.unhexlify', 'binascii.a2b_hex', 'bytes.fromhex', 'bytearray.fromhex']);
const INFLATE = new Set(['zlib.decompress', 'gzip.decompress']);
/** Methods of a literal whose result lit() computes. */
const STR_METHODS = new Set(['decode', 'encode', 'strip', 'replace', 'join']);
/** Calls whose value lit() can compute from literal arguments. */
const LIT_CALLS = new Set(['chr', 'str', 'bytes', 'codecs.decode', ...B64, ...HEX, ...INFLATE]);

function text(t: string, bytes: Buffer | null = null, decoders: readonly string[] = []): Lit {
  return { text: t, bytes, decoders };
}

function bin(bytes: Buffer | null, from: Lit, layer: string): Lit | null {
  return bytes ? { text: bytes.toString('utf8'), bytes, decoders: [...from.decoders, layer] } : null;
}

function asBytes(l: Lit): Buffer {
  return l.bytes ?? Buffer.from(l.text, 'utf8');
}

/**
 * Name and value resolution for one Python frame: import aliases, simple
 * assignments (`s = os.system`, `cmd = 'rm -rf /'`) and star imports,
 * applied after the walk so the order of definitions does not matter.
 */
export class PyScope extends LiteralScope {
  readonly aliases = new Map<string, string>();
  readonly assigns = new Map<string, Node[]>();
  readonly defined = new Set<string>();
  readonly stars: string[] = [];
  readonly #maxBytes: number;
  /** Names being resolved right now: `a = a + a` must not loop or explode. */
  readonly #visiting = new Set<string>();
  #budget = 20_000;

  constructor(code: string, grammar: Grammar, maxBytes: number) {
    super(code, grammar);
    this.#maxBytes = maxBytes;
  }


  #single(name: string): Node | undefined {
    const rs = this.assigns.get(name);
    return rs?.length === 1 && !this.#visiting.has(name) ? rs[0] : undefined;
  }

  /** Resolves `name`'s single assignment with `f`, guarding against cycles. */
  #via<T>(name: string, f: (right: Node) => T): T | null {
    const right = this.#single(name);
    if (!right) return null;
    this.#visiting.add(name);
    try {
      return f(right);
    } finally {
      this.#visiting.delete(name);
    }
  }

  #star(name: string): string | null {
    if (this.defined.has(name) || this.stars.length === 0) return null;
    if (BUILTINS.has(name) && !this.stars.some((m) => STAR_EXPORTS[m]?.has(name))) return null;
    // The last star import wins; modules whose exports we know only claim their own names.
    for (let i = this.stars.length - 1; i >= 0; i--) {
      const m = this.stars[i] as string;
      const known = Object.hasOwn(STAR_EXPORTS, m) ? STAR_EXPORTS[m] : undefined;
      if (!known || known.has(name)) return `${m}.${name}`;
    }
    return null;
  }

  /** Qualified name of an expression that names a module member (`o.system` → `os.system`), or null. */
  qualify(n: Node, d = 0): string | null {
    if (d > MAX_DEPTH || --this.#budget < 0) return null;
    switch (this.type(n)) {
      case 'identifier':
        return this.#qualifyName(this.src(n), d);
      case 'attribute': {
        // `os.path.join` as text: the names, without building a node for every part.
        const text = this.src(n);
        if (plainName(text)) return this.#qualifyText(text, d + 1);
        const obj = firstOf(n);
        const attr = lastOf(n);
        const q = obj ? this.qualify(obj, d + 1) : null;
        return q && attr ? `${q}.${this.src(attr)}` : null;
      }
      case 'call': {
        const fn = firstOf(n);
        const f = fn ? strip(this.qualify(fn, d + 1)) : null;
        const args = this.args(n).positional;
        if (f === '__import__' || f === 'importlib.import_module' || f === 'importlib.__import__') {
          const m = args[0] ? this.lit(args[0], d + 1)?.text : undefined;
          if (m === undefined) return null;
          return f === 'importlib.import_module' ? m : (m.split('.')[0] ?? m);
        }
        if (f === 'getattr' && args[0] && args[1]) {
          const o = this.qualify(args[0], d + 1);
          const a = this.lit(args[1], d + 1)?.text;
          return o && a !== undefined ? `${o}.${a}` : null;
        }
        return null;
      }
      case 'subscript': {
        // os.__dict__['system'], __builtins__['eval']
        const obj = firstOf(n);
        const key = n.namedChildren[1];
        const o = obj ? this.qualify(obj, d + 1) : null;
        const k = key ? this.lit(key, d + 1)?.text : undefined;
        if (o === 'sys.modules') return k ?? null;
        return o && k !== undefined ? `${o.replace(/\.__dict__$/, '')}.${k}` : null;
      }
      case 'parenthesized_expression': {
        const inner = n.firstNamedChild;
        return inner ? this.qualify(inner, d + 1) : null;
      }
      default:
        return null;
    }
  }

  /** qualify() of a plain (dotted) name given as text: `os.path.join`. */
  #qualifyText(text: string, d: number): string | null {
    const parts = text.split('.');
    let q = this.#qualifyName(parts[0] as string, d);
    for (let i = 1; q !== null && i < parts.length; i++) q = `${q}.${parts[i] as string}`;
    return q;
  }

  /** What a bare name stands for: an import alias, a name assigned once, a star import, or itself. */
  #qualifyName(name: string, d: number): string | null {
    const alias = this.aliases.get(name);
    if (alias !== undefined) return alias;
    if (this.assigns.has(name)) {
      const q = this.#via(name, (right) => {
        const t = this.type(right);
        return t === 'identifier' || t === 'attribute' || t === 'call' || t === 'subscript' ? this.qualify(right, d + 1) : null;
      });
      return q ?? name;
    }
    return this.#star(name) ?? name;
  }

  /**
   * callName() of a call's callee, read from the text before its argument
   * list when that is a plain name (`subprocess.run`): most calls then need
   * no node for the callee at all.
   */
  callNameOf(call: Node, list: Node | null): string {
    if (list) {
      const text = this.code.slice(call.startIndex, list.startIndex).trimEnd();
      if (plainName(text) && --this.#budget >= 0) {
        const q = strip(this.#qualifyText(text, 0));
        if (q) return q;
      }
    }
    const fn = firstOf(call);
    return fn ? this.callName(fn) : '?';
  }

  /** The name a call is reported under: qualified where possible, `f()`-style otherwise. */
  callName(fn: Node): string {
    const q = strip(this.qualify(fn));
    if (q) return q;
    const t = this.type(fn);
    if (t === 'attribute') {
      const obj = firstOf(fn);
      const attr = lastOf(fn);
      const inner = obj && this.type(obj) === 'call' ? firstOf(obj) : null;
      const base = inner ? `${this.callName(inner)}()` : '?';
      return attr ? `${base}.${this.src(attr)}` : base;
    }
    return '?';
  }

  args(call: Node): { positional: Node[]; keywords: Map<string, Node> } {
    return this.argsOf(lastOf(call));
  }

  /** Positional and keyword arguments in a call's argument list (none for a generator argument). */
  argsOf(list: Node | null): { positional: Node[]; keywords: Map<string, Node> } {
    const positional: Node[] = [];
    const keywords = new Map<string, Node>();
    if (!list || this.type(list) !== 'argument_list') return { positional, keywords };
    for (const c of list.namedChildren) {
      if (!c) continue;
      const t = this.type(c);
      if (t === 'keyword_argument') {
        const k = firstOf(c);
        const v = lastOf(c);
        if (k && v) keywords.set(this.src(k), v);
      } else if (t !== 'comment' && t !== 'list_splat' && t !== 'dictionary_splat') positional.push(c);
    }
    return { positional, keywords };
  }

  /** Literal values of keyword arguments (Call.kwargs): strings, `True`/`False`, else null. */
  kwargs(keywords: ReadonlyMap<string, Node>): Readonly<Record<string, string | null>> {
    const out: [string, string | null][] = [];
    for (const [k, v] of keywords) {
      const t = this.type(v);
      out.push([k, t === 'true' || t === 'false' ? this.src(v) : (this.lit(v)?.text ?? null)]);
    }
    // fromEntries defines own properties: a `__proto__` key stays a key.
    return Object.freeze(Object.fromEntries(out));
  }

  /** Elements of a literal list/tuple (or a name bound once to one). */
  elements(n: Node, d = 0): Node[] | null {
    if (d > MAX_DEPTH || --this.#budget < 0) return null;
    const t = this.type(n);
    if (t === 'list' || t === 'tuple') return n.namedChildren.filter((c): c is Node => c !== null && this.type(c) !== 'comment');
    if (t === 'parenthesized_expression' && n.firstNamedChild) return this.elements(n.firstNamedChild, d + 1);
    if (t === 'identifier') return this.#via(this.src(n), (right) => this.elements(right, d + 1));
    return null;
  }

  /** A string literal's value (from its text: cheaper than visiting its children); null with interpolations. */
  string(n: Node): Lit | null {
    const src = this.src(n);
    const m = STRING.exec(src);
    if (!m) return null;
    const prefix = (m[1] ?? '').toLowerCase();
    const quote = m[2] ?? '';
    let body = src.slice(m[0].length, src.endsWith(quote) && src.length >= m[0].length + quote.length ? src.length - quote.length : src.length);
    if (prefix.includes('f') || prefix.includes('t')) {
      if (/\{(?!\{)/.test(body.replace(/\{\{/g, ''))) return null;
      body = body.replace(/\{\{/g, '{').replace(/\}\}/g, '}');
    }
    if (!prefix.includes('r')) body = decodePythonEscapes(body, prefix.includes('b'));
    return prefix.includes('b') ? text(body, Buffer.from(body, 'latin1')) : text(body);
  }

  /** Value of an expression built from literals (and decoders applied to literals), or null. */
  lit(n: Node, d = 0): Lit | null {
    if (d > MAX_DEPTH || --this.#budget < 0) return null;
    switch (this.type(n)) {
      case 'string':
        return this.string(n);
      case 'concatenated_string':
      case 'binary_operator': {
        const kids = n.namedChildren;
        if (this.type(n) === 'binary_operator' && n.child(1)?.type !== '+') return null;
        let out = '';
        let decoders: readonly string[] = [];
        for (const k of kids) {
          const l = k ? this.lit(k, d + 1) : null;
          if (!l) return null;
          out += l.text;
          if (l.decoders.length > 0) decoders = [...decoders, ...l.decoders];
        }
        return text(out, null, decoders);
      }
      case 'parenthesized_expression':
        return n.firstNamedChild ? this.lit(n.firstNamedChild, d + 1) : null;
      case 'identifier':
        return this.#via(this.src(n), (right) => this.lit(right, d + 1));
      case 'subscript': {
        const obj = firstOf(n);
        const sl = n.namedChildren[1];
        if (!obj || !sl || this.src(sl).replace(/\s/g, '') !== '::-1') return null;
        const l = this.lit(obj, d + 1);
        return l ? text([...l.text].reverse().join(''), null, [...l.decoders, 'reverse']) : null;
      }
      case 'call':
        return this.#litCall(n, d);
      default:
        return null;
    }
  }

  #litCall(n: Node, d: number): Lit | null {
    const fn = firstOf(n);
    if (!fn) return null;
    // Most calls are not decoders: look at the arguments only for those that are.
    let positional: Node[] | undefined;
    const args = (): Node[] => (positional ??= this.args(n).positional);
    const arg = (i: number): Lit | null => {
      const x = args()[i];
      return x ? this.lit(x, d + 1) : null;
    };
    if (this.type(fn) === 'attribute') {
      const obj = firstOf(fn);
      const prop = lastOf(fn);
      const method = prop ? this.src(prop) : '';
      const self = obj && STR_METHODS.has(method) ? this.lit(obj, d + 1) : null;
      if (self) {
        if (method === 'decode') return self.bytes ? text(self.bytes.toString('utf8'), null, self.decoders) : self;
        if (method === 'encode') return text(self.text, Buffer.from(self.text, 'utf8'), self.decoders);
        if (method === 'strip') return text(self.text.trim(), self.bytes, self.decoders);
        if (method === 'replace') {
          const from = arg(0);
          const to = arg(1);
          return from && to ? text(self.text.split(from.text).join(to.text), null, self.decoders) : null;
        }
        if (method === 'join') {
          const a0 = args()[0];
          const els = a0 ? this.elements(a0, d + 1) : null;
          const parts = els?.map((e) => this.lit(e, d + 1));
          if (!parts || parts.some((p) => !p)) return null;
          return text((parts as Lit[]).map((p) => p.text).join(self.text), null, self.decoders);
        }
      }
    }
    const name = strip(this.qualify(fn, d + 1));
    if (!name || !LIT_CALLS.has(name)) return null;
    const first = arg(0);
    if (name === 'chr') {
      const x = args()[0];
      const code = x && this.type(x) === 'integer' ? Number(this.src(x)) : NaN;
      return Number.isInteger(code) && code >= 0 && code <= 0x10ffff ? text(String.fromCodePoint(code)) : null;
    }
    if (!first) return null;
    if (name === 'str' || name === 'bytes') return first;
    if (B64.has(name)) return bin(fromBase64(first.text), first, 'base64');
    if (HEX.has(name)) return bin(fromHex(first.text), first, 'hex');
    if (INFLATE.has(name)) return bin(decompress(asBytes(first), this.#maxBytes), first, 'zlib');
    if (name === 'codecs.decode') {
      const enc = (arg(1)?.text ?? 'utf-8').toLowerCase().replace(/[-_]/g, '');
      if (enc === 'rot13') return text(rot13(first.text), null, [...first.decoders, 'rot13']);
      if (enc === 'base64') return bin(fromBase64(first.text), first, 'base64');
      if (enc === 'hex') return bin(fromHex(first.text), first, 'hex');
      if (enc === 'zlib' || enc === 'zip') return bin(decompress(asBytes(first), this.#maxBytes), first, 'zlib');
      return first.bytes ? text(first.bytes.toString('utf8'), null, first.decoders) : first;
    }
    return null;
  }
}

/** `builtins.exec` and `__builtins__.exec` are `exec`. */
export function strip(name: string | null): string | null {
  if (!name) return name;
  if (name.startsWith('builtins.')) return name.slice(9);
  if (name.startsWith('__builtins__.')) return name.slice(13);
  return name;
}
