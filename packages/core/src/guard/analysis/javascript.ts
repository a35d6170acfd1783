import type { Node } from 'web-tree-sitter';
import type { GuardLanguage } from '../types.js';
import { type Frame, type Run, type Word, pushString, toTop } from './context.js';
import { JsScope, moduleName } from './js-values.js';
import type { Grammar } from './parsers.js';
import { unwrap } from './unwrap.js';

/** Calls that evaluate a string as JavaScript (for `Function`, the last argument is the body). */
const EVAL = new Set(['eval', 'Function', 'vm.runInNewContext', 'vm.runInThisContext', 'vm.runInContext', 'vm.compileFunction', 'vm.Script', 'setTimeout', 'setInterval', 'execScript']);
const SHELL = new Set(['child_process.exec', 'child_process.execSync']);
const SPAWN = new Set(['child_process.spawn', 'child_process.spawnSync', 'child_process.execFile', 'child_process.execFileSync']);
/** The nodes the walker looks at, found in one pass inside wasm (only these become JS objects). */
const KINDS = ['import_statement', 'call_expression', 'new_expression', 'variable_declarator', 'assignment_expression', 'string', 'template_string'];

class JsWalker {
  readonly #run: Run;
  readonly #frame: Frame;
  readonly #lang: GuardLanguage;
  readonly #s: JsScope;
  readonly #calls: Node[] = [];
  readonly #patterns: [Node, Node][] = [];

  constructor(run: Run, frame: Frame, grammar: Grammar) {
    this.#run = run;
    this.#frame = frame;
    this.#lang = frame.language;
    this.#s = new JsScope(frame.code, grammar, run.maxBytes);
  }

  /** One pass over the nodes that matter, in document order; names resolve after it, so order of definitions does not matter. */
  walk(root: Node): void {
    const s = this.#s;
    const nodes = root.descendantsOfType(KINDS);
    this.#run.check();
    for (const n of nodes) {
      if (!n) continue;
      switch (s.type(n)) {
        case 'import_statement':
          this.#import(n);
          break;
        case 'call_expression':
        case 'new_expression':
          this.#calls.push(n);
          break;
        case 'variable_declarator':
        case 'assignment_expression':
          this.#declarator(n);
          break;
        case 'string':
        case 'template_string': {
          const l = s.string(n);
          pushString(this.#run.facts, this.#frame, l ? l.text : s.src(n), n.startIndex, n.endIndex);
          break;
        }
        default:
      }
    }
    // Destructuring binds names to members of whatever the value resolves to, so it waits for all aliases.
    for (const [pattern, value] of this.#patterns) this.#destructure(pattern, value);
    this.#calls.forEach((c, i) => {
      if ((i & 63) === 63) this.#run.check();
      this.#call(c);
    });
  }

  #importFact(module: string, n: Node): void {
    this.#run.facts.imports.push({ module, span: toTop(this.#frame, n.startIndex, n.endIndex), language: this.#lang });
  }

  #import(n: Node): void {
    const s = this.#s;
    const source = n.childForFieldName('source');
    const lit = source ? s.lit(source) : null;
    if (!lit) return;
    const m = moduleName(lit.text);
    this.#importFact(m, n);
    for (const clause of n.namedChildren) {
      if (!clause || s.type(clause) !== 'import_clause') continue;
      for (const c of clause.namedChildren) {
        if (!c) continue;
        const t = s.type(c);
        if (t === 'identifier') s.aliases.set(s.src(c), m);
        else if (t === 'namespace_import') {
          const id = c.lastNamedChild;
          if (id) s.aliases.set(s.src(id), m);
        } else if (t === 'named_imports') {
          for (const spec of c.namedChildren) {
            if (!spec || s.type(spec) !== 'import_specifier') continue;
            const name = spec.childForFieldName('name');
            const alias = spec.childForFieldName('alias') ?? name;
            if (name && alias) s.aliases.set(s.src(alias), `${m}.${s.lit(name)?.text ?? s.src(name)}`);
          }
        }
      }
    }
  }

  #declarator(n: Node): void {
    const s = this.#s;
    // `let x;` and `let x: T;` bind nothing: the value follows a `=`.
    const kids = n.children;
    const left = kids[0];
    const right = kids[kids.length - 1];
    const eq = kids[kids.length - 2];
    if (!left || !right || !eq || s.type(eq) !== '=') return;
    const lt = s.type(left);
    if (lt === 'identifier') {
      const name = s.src(left);
      const list = s.assigns.get(name);
      if (list) list.push(right);
      else s.assigns.set(name, [right]);
    } else if (lt === 'object_pattern') this.#patterns.push([left, right]);
  }

  /** `const { exec: run, spawn } = require('child_process')` binds run → child_process.exec. */
  #destructure(pattern: Node, value: Node): void {
    const s = this.#s;
    const base = s.qualify(value);
    if (!base) return;
    for (const p of pattern.namedChildren) {
      if (!p) continue;
      const t = s.type(p);
      if (t === 'shorthand_property_identifier_pattern') s.aliases.set(s.src(p), `${base}.${s.src(p)}`);
      else if (t === 'object_assignment_pattern') {
        const id = p.firstNamedChild;
        if (id) s.aliases.set(s.src(id), `${base}.${s.src(id)}`);
      } else if (t === 'pair_pattern') {
        const key = p.childForFieldName('key');
        let target = p.childForFieldName('value');
        if (target && s.type(target) === 'assignment_pattern') target = target.childForFieldName('left');
        const k = key ? (s.type(key) === 'string' ? s.lit(key)?.text : s.src(key)) : undefined;
        if (k !== undefined && target && s.type(target) === 'identifier') s.aliases.set(s.src(target), `${base}.${k}`);
      }
    }
  }

  #call(n: Node): void {
    const s = this.#s;
    const list = n.childForFieldName('arguments');
    const name = s.callNameOf(n, list);
    const args = s.argsOf(list);
    const lits: (string | null)[] = [];
    for (const a of args) lits.push(this.#s.literal(a));
    const span = toTop(this.#frame, n.startIndex, n.endIndex);
    const last = args[args.length - 1];
    const kwargs = last ? s.kwargs(last) : null;
    this.#run.facts.calls.push(kwargs ? { name, args: lits, kwargs, span, language: this.#lang } : { name, args: lits, span, language: this.#lang });
    this.#effects(n, name, args);
  }

  #code(language: GuardLanguage, node: Node | undefined, via: string): void {
    if (!node) return;
    const w = this.#s.word(node);
    if (w.dynamic) return;
    this.#run.nest(this.#frame, language, w.value, w, [...this.#frame.via, via, ...w.decoders]);
  }

  #argv(call: Node, words: Word[], via: string): void {
    if (words.length === 0) return;
    unwrap(this.#run, this.#frame, words, { language: this.#lang, start: call.startIndex, end: call.endIndex, via: [...this.#frame.via, via] });
  }

  #list(n: Node | null | undefined): Word[] | null {
    const els = n ? this.#s.elements(n) : null;
    return els ? els.map((e) => this.#s.word(e)) : null;
  }

  #effects(n: Node, name: string, a: Node[]): void {
    const s = this.#s;
    if (name === 'require' || name === 'import' || name === 'module.require') {
      const m = a[0] ? s.lit(a[0])?.text : undefined;
      if (m !== undefined) this.#importFact(moduleName(m), n);
      return;
    }
    if (EVAL.has(name)) {
      const body = name === 'Function' ? a[a.length - 1] : a[0];
      if ((name === 'setTimeout' || name === 'setInterval') && body && !s.lit(body)) return;
      return this.#code('javascript', body, name);
    }
    if (SHELL.has(name)) return this.#code('bash', a[0], name);
    if (SPAWN.has(name)) {
      const list = this.#list(a[1]);
      const opts = list ? a[2] : a[1];
      const shell = s.prop(opts, 'shell');
      const words = [...(a[0] ? [s.word(a[0])] : []), ...(list ?? [])];
      if (shell && s.src(shell) !== 'false') {
        const line = words.map((w) => w.value).join(' ');
        if (words.length === 1 && a[0]) return this.#code('bash', a[0], name);
        if (words.every((w) => !w.dynamic) && a[0]) this.#run.nest(this.#frame, 'bash', line, { start: a[0].startIndex, end: n.endIndex, raw: -1 }, [...this.#frame.via, name]);
        return;
      }
      return this.#argv(n, words, name);
    }
    if (name === 'Bun.spawn' || name === 'Bun.spawnSync') return this.#argv(n, this.#list(a[0]) ?? this.#list(s.prop(a[0], 'cmd')) ?? [], name);
    if (name === 'Deno.Command') return this.#argv(n, [...(a[0] ? [s.word(a[0])] : []), ...(this.#list(s.prop(a[1], 'args')) ?? [])], name);
    if (name === 'Deno.run') this.#argv(n, this.#list(s.prop(a[0], 'cmd')) ?? [], name);
  }
}

/** Records imports, calls, strings and what the code would run, for one JavaScript or TypeScript tree. */
export function walkJavaScript(run: Run, frame: Frame, root: Node, grammar: Grammar): void {
  new JsWalker(run, frame, grammar).walk(root);
}
