import type { Node } from 'web-tree-sitter';
import { readsStdinAs, stdoutOf } from './bash-flow.js';
import { type Data, type WordEnv, glue, wordsOf } from './bash-words.js';
import { type Frame, type Run, type Word, basename, pushString, toTop, verbatimAt } from './context.js';
import type { Grammar } from './parsers.js';
import { NodeReader } from './node-reader.js';
import { type Site, unwrap } from './unwrap.js';

type Pipe = { readonly id: number; readonly stage: number };

const WORDISH = new Set(['word', 'string', 'raw_string', 'ansi_c_string', 'concatenation', 'translated_string']);
const REDIRECTS = new Set(['file_redirect', 'heredoc_redirect', 'herestring_redirect']);
const SUBSTITUTIONS = new Set(['command_substitution', 'process_substitution']);
/** Named nodes that never contain a command. */
const INERT = new Set(['comment', 'variable_name', 'number', 'special_variable_name', 'file_descriptor', 'heredoc_start', 'heredoc_end', 'heredoc_content', 'regex', 'test_operator']);
const LEAVES = new Set(['word', 'string_content', 'variable_name', 'raw_string', 'ansi_c_string', 'number', 'heredoc_content']);
const FD_TARGET = /^(\d+|-)$/;
/** `$( $( … ) )` deeper than this is not evaluated as a literal (it is dynamic). */
const MAX_SUBSTITUTION_DEPTH = 8;

/** What a command (or redirected statement) contributes to a pipeline. */
interface Effect {
  /** Innermost argv after unwrapping wrappers. */
  readonly argv: readonly Word[];
  readonly via: readonly string[];
  /** Its own stdin from a heredoc or here-string, if any. */
  readonly input: Data | null;
  /** A `cmd <<EOF | next` tail that tree-sitter nests inside the heredoc. */
  readonly tail: readonly Node[];
}

/** One stage of a pipeline as bash sees it (see #stages). */
interface Stage {
  readonly node: Node;
  /** Redirects written after a group of stages that belong to this one. */
  readonly redirects: Node[];
  /** Statements that run before the pipeline (`a` in `a && b | c`). */
  readonly lead: readonly Node[];
}

interface Redirects {
  input: Data | null;
  /** Extra words tree-sitter hangs on a redirect (`rm >/dev/null -rf /`). */
  extra: Word[];
  tail: Node[];
  after: Node[];
}

class BashWalker extends NodeReader implements WordEnv {
  readonly #run: Run;
  readonly #frame: Frame;
  /** Literal values of variables assigned so far (source order; a good guess, not a proof). */
  readonly #vars = new Map<string, string>();
  readonly #outputs = new WeakMap<Node, Data | null>();
  #depth = 0;
  #visits = 0;

  constructor(run: Run, frame: Frame, grammar: Grammar) {
    super(frame.code, grammar);
    this.#run = run;
    this.#frame = frame;
  }

  variable(name: string): string | undefined {
    return this.#vars.get(name);
  }

  /** Statement level: finds commands anywhere (lists, bodies, substitutions, ERROR nodes). */
  walk(n: Node): void {
    if ((++this.#visits & 127) === 0) this.#run.check();
    const t = this.type(n);
    switch (t) {
      case 'command':
        this.#stage(n, undefined, null);
        return;
      case 'redirected_statement':
        // `a | b > f` is a redirected pipeline: its stages are a pipeline's.
        if (this.#redirectedPipeline(n)) this.#pipeline([n]);
        else this.#stage(n, undefined, null);
        return;
      case 'pipeline':
        this.#pipeline(n.children);
        return;
      case 'variable_assignment':
        this.#assignment(n);
        return;
      case 'declaration_command':
      case 'unset_command':
        this.#declaration(n);
        return;
      case 'file_redirect':
      case 'heredoc_redirect':
      case 'herestring_redirect': {
        const r = this.#redirects([n]);
        for (const a of r.after) this.walk(a);
        if (r.tail.length > 0) this.#pipeline(r.tail);
        return;
      }
      default:
    }
    if (INERT.has(t)) return;
    if (WORDISH.has(t)) {
      for (const w of wordsOf(n, this)) pushString(this.#run.facts, this.#frame, w.value, w.start, w.end);
      this.#inside(n);
      return;
    }
    for (const c of n.children) if (c && this.named(c)) this.walk(c);
  }

  /** Walks command substitutions nested in a word, heredoc body or expansion. */
  #inside(n: Node): void {
    const stack: Node[] = [n];
    while (stack.length > 0) {
      const x = stack.pop() as Node;
      const t = this.type(x);
      if (SUBSTITUTIONS.has(t)) this.walk(x);
      else if (!LEAVES.has(t)) for (const c of x.children) if (c && this.named(c)) stack.push(c);
    }
  }

  #pipeline(children: readonly (Node | null)[], first?: { pipe: Pipe; data: Data | null }): void {
    const id = first?.pipe.id ?? this.#run.nextPipelineId();
    let stage = first ? first.pipe.stage + 1 : 0;
    let data = first?.data ?? null;
    for (const s of this.#stages(children)) {
      for (const l of s.lead) this.walk(l);
      data = this.#stage(s.node, { id, stage: stage++ }, data, s.redirects);
    }
  }

  /** The body of `a | b > f`, which tree-sitter parses as a redirected statement around a pipeline. */
  #redirectedPipeline(n: Node): Node | null {
    const body = n.children[0];
    return body && this.type(body) === 'pipeline' ? body : null;
  }

  /**
   * The stages of a pipeline in order. tree-sitter nests `a | b 2>&1 | c` as
   * ((a | b) 2>&1) | c, and `a && b <f | c` as ((a && b) <f) | c. bash
   * applies a redirect to the command before it alone and binds `|` tighter
   * than `&&`: a, b and c are one pipeline in the first, and a runs first,
   * then b | c, in the second. So nested pipelines are flattened, a redirect
   * around several commands goes to the last, and the commands of a list
   * before its last one are `lead`: statements of their own.
   */
  #stages(children: readonly (Node | null)[], out: Stage[] = [], lead: Node[] = []): Stage[] {
    for (const c of children) {
      if (!c || !this.named(c)) continue;
      const t = this.type(c);
      if (t === 'comment') continue;
      if (t === 'pipeline') {
        this.#stages(c.children, out, lead);
        continue;
      }
      if (t === 'list') {
        const parts = c.children.filter((k): k is Node => k !== null && this.named(k) && this.type(k) !== 'comment');
        const last = parts.pop();
        lead.push(...parts);
        if (last) this.#stages([last], out, lead);
        continue;
      }
      const body = t === 'redirected_statement' ? c.children[0] : undefined;
      const bt = body ? this.type(body) : '';
      if (body && (bt === 'pipeline' || bt === 'list')) {
        const before = out.length;
        this.#stages([body], out, lead);
        const last = out[out.length - 1];
        const redirects = c.children.slice(1).filter((k): k is Node => k !== null);
        if (last && out.length > before) last.redirects.push(...redirects);
        continue;
      }
      out.push({ node: c, redirects: [], lead: lead.splice(0) });
    }
    return out;
  }

  /**
   * Handles one command-like node; returns what it prints when that is
   * literal. `extra` are redirects that belong to it from around a pipeline.
   */
  #stage(n: Node, pipe: Pipe | undefined, input: Data | null, extra: readonly Node[] = []): Data | null {
    const t = this.type(n);
    if (t !== 'command' && t !== 'redirected_statement' && extra.length === 0) {
      this.walk(n);
      return null;
    }
    const kids = t === 'redirected_statement' ? n.children : null;
    let body: Node | null = kids ? (kids[0] ?? null) : n;
    let red: Redirects | null = null;
    const redirects = kids ? [...kids.slice(1), ...extra] : extra;
    if (redirects.length > 0) {
      red = this.#redirects(redirects);
      // tree-sitter-bash drops a lone `-` just before a heredoc (`python3 - <<EOF`); recover such words.
      const next = kids?.[1];
      if (body && next && this.type(body) === 'command') red.extra.unshift(...this.#gapWords(body.endIndex, next.startIndex));
      if (red.tail.length > 0 && !pipe) pipe = { id: this.#run.nextPipelineId(), stage: 0 };
    }
    if (body && this.type(body) !== 'command') {
      this.walk(body);
      body = null;
    }
    const s = body ? this.#command(body, pipe, red) : null;
    const stdin = s?.input ?? red?.input ?? input;
    let out: Data | null = null;
    if (s) {
      const lang = readsStdinAs(s.argv);
      const w0 = s.argv[0];
      if (lang && stdin && w0) {
        const label = `${basename(w0.value)} ${lang === 'bash' ? '-s' : '-'}`;
        this.#run.nest(this.#frame, lang, stdin.bytes.toString('utf8'), stdin, [...s.via, label, ...stdin.decoders]);
      }
      out = stdoutOf(s.argv, stdin, this.#run.maxBytes);
    }
    const tail = [...(s?.tail ?? []), ...(red?.tail ?? [])];
    if (tail.length > 0) {
      this.#pipeline(tail, { pipe: pipe ?? { id: this.#run.nextPipelineId(), stage: 0 }, data: out });
      out = null;
    }
    for (const a of red?.after ?? []) this.walk(a);
    return out;
  }

  #command(n: Node, pipe: Pipe | undefined, outer: Redirects | null): Effect | null {
    const { facts } = this.#run;
    const words: Word[] = [];
    const own: Node[] = [];
    let dollar = -1;
    for (const c of n.children) {
      if (!c) continue;
      const t = this.type(c);
      if (t === 'variable_assignment') {
        this.#assignment(c, false); // `A=1 cmd` sets A for cmd only
        continue;
      }
      if (REDIRECTS.has(t)) {
        own.push(c);
        continue;
      }
      if (t === '$') {
        dollar = c.endIndex; // `$"…"` is a translated string: the `$` is not part of the value
        continue;
      }
      if (!this.named(c) || t === 'comment') continue;
      const arg = t === 'command_name' ? (c.children[0] ?? null) : c;
      if (!arg) continue;
      if (!LEAVES.has(this.type(arg))) this.#inside(arg);
      for (const w of wordsOf(arg, this)) this.#append(words, w, dollar);
      dollar = -1;
    }
    this.#dropDescriptors(words);
    const red = own.length > 0 ? this.#redirects(own) : null;
    for (const w of [...(red?.extra ?? []), ...(outer?.extra ?? [])]) words.push(w);
    for (const w of words) pushString(facts, this.#frame, w.value, w.start, w.end);
    const last = words[words.length - 1];
    if (!last) return null;
    const site: Site = { language: 'bash', end: last.end, via: this.#frame.via, ...(pipe ? { pipeline: pipe } : {}) };
    const inner = unwrap(this.#run, this.#frame, words, site);
    for (const a of red?.after ?? []) this.walk(a);
    return { argv: inner.words, via: inner.via, input: red?.input ?? null, tail: red?.tail ?? [] };
  }

  /**
   * Removes the `0` of `nc h p 0</tmp/f`: digits written right before `<` or
   * `>` are the redirect's file descriptor in bash, but tree-sitter-bash
   * sometimes parses them as an argument of the command.
   */
  #dropDescriptors(words: Word[]): void {
    for (let i = words.length - 1; i > 0; i--) {
      const w = words[i] as Word;
      const next = this.code[w.end];
      if ((next === '<' || next === '>') && this.code[w.end + 1] !== '(' && FD_TARGET.test(w.value) && w.value !== '-' && this.code.slice(w.start, w.end) === w.value) words.splice(i, 1);
    }
  }

  /** Adds a word, gluing it to the previous one when only a backslash-newline (or nothing) separates them. */
  #append(words: Word[], w: Word, dollar: number): void {
    const prev = words[words.length - 1];
    if (prev && prev.end !== w.start && dollar !== w.start) {
      const gap = this.code.slice(prev.end, w.start);
      if (gap === '\\\n' || gap === '\\\r\n') {
        words[words.length - 1] = glue(prev, w, this.code);
        return;
      }
    }
    if (prev && prev.end === w.start && dollar !== w.start) {
      words[words.length - 1] = glue(prev, w, this.code);
      return;
    }
    words.push(w);
  }

  #gapWords(from: number, to: number): Word[] {
    const words: Word[] = [];
    const gap = this.code.slice(from, to);
    for (const m of gap.matchAll(/[^\s\\]+/g)) {
      const start = from + m.index;
      words.push({ value: m[0], dynamic: false, start, end: start + m[0].length, raw: start, decoders: [] });
    }
    return words;
  }

  #redirects(nodes: readonly (Node | null)[]): Redirects {
    const r: Redirects = { input: null, extra: [], tail: [], after: [] };
    for (const n of nodes) {
      if (!n) continue;
      const t = this.type(n);
      if (t === 'file_redirect') this.#fileRedirect(n, r);
      else if (t === 'herestring_redirect') {
        const arg = n.children.find((c) => c && this.named(c) && this.type(c) !== 'file_descriptor');
        if (!arg) continue;
        this.#inside(arg);
        const w = wordsOf(arg, this)[0];
        if (!w) continue;
        pushString(this.#run.facts, this.#frame, w.value, w.start, w.end);
        r.input = { bytes: Buffer.from(`${w.value}\n`, 'utf8'), decoders: w.decoders, dynamic: w.dynamic, start: w.start, end: w.end, raw: w.raw };
      } else if (t === 'heredoc_redirect') this.#heredoc(n, r);
      else if (this.named(n)) r.after.push(n);
    }
    return r;
  }

  #fileRedirect(n: Node, r: Redirects): void {
    let op = '';
    let target: Word | null = null;
    for (const c of n.children) {
      if (!c) continue;
      const t = this.type(c);
      if (!this.named(c)) {
        // `<>` was parsed as `>|` (see bash-gaps.ts).
        if (t === '>|' && this.code.startsWith('<>', c.startIndex)) op += '<>';
        else if (t !== '$') op += t;
        continue;
      }
      if (t === 'file_descriptor' || t === 'ERROR') continue;
      // `>& /dev/tcp/h/p 0>&1`: tree-sitter reads the `0` of `0>&1` as a second target; it is the next redirect's descriptor.
      if (target && t === 'number' && /[<>]/.test(this.code[c.endIndex] ?? '')) continue;
      this.#inside(c);
      for (const w of wordsOf(c, this)) {
        if (target) r.extra.push(w);
        else target = w;
      }
    }
    if (!target) return;
    pushString(this.#run.facts, this.#frame, target.value, target.start, target.end);
    if (target.dynamic || ((op === '>&' || op === '<&') && FD_TARGET.test(target.value))) return;
    this.#run.facts.redirects.push({ op, target: target.value, span: toTop(this.#frame, n.startIndex, n.endIndex) });
  }

  #heredoc(n: Node, r: Redirects): void {
    let quoted = false;
    let strip = false;
    for (const c of n.children) {
      if (!c) continue;
      const t = this.type(c);
      if (t === '<<-') strip = true;
      else if (t === 'heredoc_start') quoted = /['"\\]/.test(this.code.slice(c.startIndex, c.endIndex));
      else if (t === 'heredoc_body') {
        const start = c.startIndex;
        const end = c.endIndex;
        let text = this.code.slice(start, end);
        if (strip) text = text.replace(/^\t+/gm, '');
        if (!quoted) this.#inside(c);
        const dynamic = !quoted && /[$`]/.test(text);
        pushString(this.#run.facts, this.#frame, text, start, end);
        r.input = { bytes: Buffer.from(text, 'utf8'), decoders: [], dynamic, start, end, raw: verbatimAt(this.code, text, start, end) };
      } else if (t === 'file_redirect') this.#fileRedirect(c, r);
      else if (t === 'pipeline') r.tail.push(...c.children.filter((k): k is Node => k !== null && this.named(k)));
      else if (this.named(c) && t !== 'heredoc_end' && t !== 'heredoc_content') r.after.push(c);
    }
  }

  #assignment(n: Node, persist = true): void {
    const kids = n.children;
    const name = kids[0];
    const value = kids[2];
    if (!name) return;
    const variable = this.code.slice(name.startIndex, name.endIndex);
    let text = variable;
    let literal: string | undefined;
    if (value && this.type(value) !== 'array') {
      this.#inside(value);
      const w = wordsOf(value, this)[0];
      text += `=${w?.value ?? ''}`;
      if (w && !w.dynamic && kids[1]?.type === '=') literal = w.value;
    } else if (value) {
      this.walk(value);
      text += '=';
    } else literal = '';
    if (persist) {
      if (literal === undefined) this.#vars.delete(variable);
      else this.#vars.set(variable, literal);
    }
    pushString(this.#run.facts, this.#frame, text, n.startIndex, n.endIndex);
  }

  /** `export A=1`, `local x`, `unset -f f`: builtins with assignments as arguments. */
  #declaration(n: Node): void {
    const words: Word[] = [];
    for (const c of n.children) {
      if (!c) continue;
      const t = this.type(c);
      if (!this.named(c)) {
        if (words.length === 0) words.push({ value: t, dynamic: false, start: c.startIndex, end: c.endIndex, raw: c.startIndex, decoders: [] });
        continue;
      }
      if (t === 'variable_assignment') {
        this.#assignment(c);
        const text = this.code.slice(c.startIndex, c.endIndex);
        const eq = text.indexOf('=');
        const value = c.children[2];
        const w = value && this.type(value) !== 'array' ? wordsOf(value, this)[0] : undefined;
        words.push({ value: `${text.slice(0, eq)}=${w?.value ?? ''}`, dynamic: w?.dynamic ?? true, start: c.startIndex, end: c.endIndex, raw: -1, decoders: [] });
        continue;
      }
      this.#inside(c);
      words.push(...wordsOf(c, this));
    }
    const last = words[words.length - 1];
    if (last) unwrap(this.#run, this.#frame, words, { language: 'bash', end: last.end, via: this.#frame.via });
  }

  /** The literal output of `$(…)`, computed without recording facts (the walk records them). */
  substitute(node: Node): Data | null {
    // Each level of `$( $( … ) )` is asked for by every level above it: remember, and stop deep down.
    if (this.#outputs.has(node)) return this.#outputs.get(node) ?? null;
    if (this.#depth >= MAX_SUBSTITUTION_DEPTH) return null;
    this.#run.check();
    this.#depth++;
    try {
      const data = this.#substitute(node);
      this.#outputs.set(node, data);
      return data;
    } finally {
      this.#depth--;
    }
  }

  #substitute(node: Node): Data | null {
    const inner = node.children.filter((c): c is Node => c !== null && this.named(c));
    const only = inner.length === 1 ? inner[0] : undefined;
    if (!only) return null;
    let data: Data | null = null;
    for (const s of this.#stages([only])) {
      if (s.lead.length > 0) return null;
      const q = this.#quiet(s.node, s.redirects);
      if (!q) return null;
      data = stdoutOf(q.argv, q.input ?? data, this.#run.maxBytes);
      if (!data) return null;
    }
    return data;
  }

  /** argv and here-string input of a command, without facts. */
  #quiet(n: Node, extra: readonly Node[]): { argv: Word[]; input: Data | null } | null {
    let cmd: Node | null = n;
    let input: Data | null = null;
    const redirects: Node[] = [...extra];
    if (this.type(n) === 'redirected_statement') {
      const kids = n.children;
      cmd = kids[0] ?? null;
      redirects.push(...kids.slice(1).filter((k): k is Node => k !== null));
    }
    if (!cmd || this.type(cmd) !== 'command') return null;
    const argv: Word[] = [];
    for (const c of cmd.children) {
      if (!c || !this.named(c)) continue;
      const t = this.type(c);
      if (REDIRECTS.has(t)) redirects.push(c);
      else if (t !== 'variable_assignment' && t !== 'comment') {
        const arg = t === 'command_name' ? (c.children[0] ?? null) : c;
        if (arg) for (const w of wordsOf(arg, this)) this.#append(argv, w, -1);
      }
    }
    this.#dropDescriptors(argv);
    for (const r of redirects) {
      if (this.type(r) !== 'herestring_redirect') continue;
      const arg = r.children.find((c) => c && this.named(c));
      const w = arg ? wordsOf(arg, this)[0] : undefined;
      if (w) input = { bytes: Buffer.from(`${w.value}\n`, 'utf8'), decoders: w.decoders, dynamic: w.dynamic, start: w.start, end: w.end, raw: w.raw };
    }
    return { argv, input };
  }
}

/** Records the commands, redirects and words of a bash tree (and analyses code they run). */
export function walkBash(run: Run, frame: Frame, root: Node, grammar: Grammar): void {
  new BashWalker(run, frame, grammar).walk(root);
}
