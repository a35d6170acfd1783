import type { Node } from 'web-tree-sitter';
import { type Frame, type Run, type Word, firstOf, pushString, toTop } from './context.js';
import type { Grammar } from './parsers.js';
import { PyScope } from './python-values.js';
import { unwrap } from './unwrap.js';

/** Calls whose string argument is a shell command line. */
const SHELL = new Set([
  'os.system',
  'os.popen',
  'os.popen2',
  'os.popen3',
  'os.popen4',
  'commands.getoutput',
  'commands.getstatusoutput',
  'subprocess.getoutput',
  'subprocess.getstatusoutput',
  'asyncio.create_subprocess_shell',
  'pexpect.run',
  'pexpect.spawn',
]);
const SUBPROCESS = new Set(['subprocess.run', 'subprocess.call', 'subprocess.check_call', 'subprocess.check_output', 'subprocess.Popen']);
const EVAL = new Set(['eval', 'exec', 'compile']);
const IMPORTERS = new Set(['__import__', 'importlib.import_module', 'importlib.__import__']);
/** The nodes the walker looks at, found in one pass inside wasm (only these become JS objects). */
const KINDS = ['import_statement', 'import_from_statement', 'call', 'assignment', 'function_definition', 'class_definition', 'concatenated_string', 'string'];

function dotted(s: string): string {
  return s.replace(/\s+/g, '');
}

class PyWalker {
  readonly #run: Run;
  readonly #frame: Frame;
  readonly #s: PyScope;
  readonly #calls: Node[] = [];

  constructor(run: Run, frame: Frame, grammar: Grammar) {
    this.#run = run;
    this.#frame = frame;
    this.#s = new PyScope(frame.code, grammar, run.maxBytes);
  }

  /**
   * One pass over the nodes that matter (collected inside wasm: cheaper than
   * a query, and only these become JS objects) finds imports, assignments,
   * definitions, calls and strings, in document order; calls are resolved
   * afterwards, so definition order does not matter.
   */
  walk(root: Node): void {
    const s = this.#s;
    let concatEnd = -1;
    const nodes = root.descendantsOfType(KINDS);
    this.#run.check();
    for (const n of nodes) {
      if (!n) continue;
      switch (s.type(n)) {
        case 'import_statement':
          this.#import(n);
          break;
        case 'import_from_statement':
          this.#importFrom(n);
          break;
        case 'call':
          this.#calls.push(n);
          break;
        case 'assignment':
          this.#assignment(n);
          break;
        case 'function_definition':
        case 'class_definition': {
          const name = n.childForFieldName('name');
          if (name && s.type(name) === 'identifier') s.defined.add(s.src(name));
          break;
        }
        case 'concatenated_string': {
          const l = s.lit(n);
          pushString(this.#run.facts, this.#frame, l ? l.text : s.src(n), n.startIndex, n.endIndex);
          concatEnd = n.endIndex;
          break;
        }
        case 'string': {
          if (n.startIndex < concatEnd) break; // part of a concatenation, reported whole
          const l = s.string(n);
          pushString(this.#run.facts, this.#frame, l ? l.text : s.src(n), n.startIndex, n.endIndex);
          break;
        }
        default:
      }
    }
    this.#calls.forEach((c, i) => {
      if ((i & 63) === 63) this.#run.check();
      this.#call(c);
    });
  }

  #importFact(module: string, n: Node): void {
    this.#run.facts.imports.push({ module, span: toTop(this.#frame, n.startIndex, n.endIndex), language: 'python' });
  }

  #import(n: Node): void {
    const s = this.#s;
    for (const c of n.namedChildren) {
      if (!c) continue;
      const t = s.type(c);
      if (t === 'dotted_name') {
        const m = dotted(s.src(c));
        this.#importFact(m, n);
        const root = m.split('.')[0] ?? m;
        s.aliases.set(root, root);
      } else if (t === 'aliased_import') {
        const name = c.firstNamedChild;
        const alias = c.lastNamedChild;
        if (!name || !alias) continue;
        const m = dotted(s.src(name));
        this.#importFact(m, n);
        s.aliases.set(s.src(alias), m);
      }
    }
  }

  #importFrom(n: Node): void {
    const s = this.#s;
    const mod = n.childForFieldName('module_name');
    if (!mod) return;
    const m = dotted(s.src(mod));
    this.#importFact(m, n);
    for (const c of n.namedChildren) {
      if (!c || c.equals(mod)) continue;
      const t = s.type(c);
      if (t === 'wildcard_import') s.stars.push(m);
      else if (t === 'dotted_name') {
        const name = dotted(s.src(c));
        s.aliases.set(name, `${m}.${name}`);
      } else if (t === 'aliased_import') {
        const name = c.firstNamedChild;
        const alias = c.lastNamedChild;
        if (name && alias) s.aliases.set(s.src(alias), `${m}.${dotted(s.src(name))}`);
      }
    }
  }

  #assignment(n: Node): void {
    const s = this.#s;
    const left = firstOf(n);
    const right = n.childForFieldName('right');
    if (!left || !right || s.type(left) !== 'identifier') return;
    const name = s.src(left);
    const list = s.assigns.get(name);
    if (list) list.push(right);
    else s.assigns.set(name, [right]);
  }

  #call(n: Node): void {
    const s = this.#s;
    const list = n.childForFieldName('arguments');
    const name = s.callNameOf(n, list);
    const { positional, keywords } = s.argsOf(list);
    const args: (string | null)[] = [];
    for (const a of positional) args.push(this.#s.literal(a));
    const span = toTop(this.#frame, n.startIndex, n.endIndex);
    const kwargs = keywords.size > 0 ? s.kwargs(keywords) : undefined;
    this.#run.facts.calls.push(kwargs ? { name, args, kwargs, span, language: 'python' } : { name, args, span, language: 'python' });
    this.#effects(n, name, positional, keywords);
  }

  #code(language: 'bash' | 'python', node: Node | undefined, via: string): void {
    if (!node) return;
    const w = this.#s.word(node);
    if (w.dynamic) return;
    this.#run.nest(this.#frame, language, w.value, w, [...this.#frame.via, via, ...w.decoders]);
  }

  #argv(call: Node, words: Word[], via: string): void {
    if (words.length === 0) return;
    unwrap(this.#run, this.#frame, words, { language: 'python', start: call.startIndex, end: call.endIndex, via: [...this.#frame.via, via] });
  }

  #list(n: Node | undefined): Word[] | null {
    if (!n) return null;
    const els = this.#s.elements(n);
    return els ? els.map((e) => this.#s.word(e)) : null;
  }

  /** What the call runs: nested shell or Python code, or a program with an argv. */
  #effects(n: Node, name: string, a: Node[], kw: Map<string, Node>): void {
    const s = this.#s;
    if (IMPORTERS.has(name)) {
      const m = a[0] ? s.lit(a[0])?.text : undefined;
      if (m !== undefined) this.#importFact(m, n);
      return;
    }
    if (EVAL.has(name)) return this.#code('python', a[0] ?? kw.get('source'), name);
    if (SHELL.has(name)) return this.#code('bash', a[0] ?? kw.get('cmd') ?? kw.get('command'), name);
    if (SUBPROCESS.has(name)) {
      const target = a[0] ?? kw.get('args');
      const shell = kw.get('shell');
      const list = this.#list(target);
      if (!list) return this.#code('bash', target, name);
      if (shell && s.src(shell) !== 'False' && s.src(shell) !== '0') return this.#code('bash', s.elements(target as Node)?.[0], name);
      return this.#argv(n, list, name);
    }
    if (name === 'pty.spawn') return this.#argv(n, this.#list(a[0]) ?? (a[0] ? [s.word(a[0])] : []), name);
    if (name === 'asyncio.create_subprocess_exec') return this.#argv(n, a.map((x) => s.word(x)), name);
    if (!name.startsWith('os.')) return;
    const short = name.slice(3);
    const at = (i: number): Word[] => (a[i] ? [s.word(a[i])] : []);
    if (/^exec[lv]p?e?$/.test(short) || /^posix_spawnp?$/.test(short)) {
      const path = at(0);
      const rest = short[4] === 'l' ? a.slice(2).map((x) => s.word(x)) : (this.#list(a[1])?.slice(1) ?? []);
      if (short.endsWith('e') && short[4] === 'l') rest.pop();
      return this.#argv(n, [...path, ...rest], name);
    }
    if (/^spawn[lv]p?e?$/.test(short)) {
      const path = at(1);
      const rest = short[5] === 'l' ? a.slice(3).map((x) => s.word(x)) : (this.#list(a[2])?.slice(1) ?? []);
      if (short.endsWith('e') && short[5] === 'l') rest.pop();
      return this.#argv(n, [...path, ...rest], name);
    }
  }
}

/** Records imports, calls, strings and what the code would run, for one Python tree. */
export function walkPython(run: Run, frame: Frame, root: Node, grammar: Grammar): void {
  new PyWalker(run, frame, grammar).walk(root);
}

