/**
 * Top-level await for JavaScript cells. A script cannot `await` at its top
 * level, so a cell that does is rewritten, on the host, into an async
 * function whose declarations still land in the global scope (the Node.js
 * REPL does the same):
 *
 *   const { a } = await f(); function g() {} class K {} a + 1
 *   →  let a, K; var g; (async () => { globalThis["g"] = g; void (({ a } = await f())); function g() {} K = class K {}; return { value: (a + 1) };
 *   })()
 *
 * - `let`/`const`/`class` names are declared with `let` before the function
 *   (so `const` becomes `let`), `var` and function names with `var`; the
 *   declarations inside become assignments. Functions stay hoisted inside.
 * - The value of a last expression statement is returned in a box, so a
 *   cell ending in an expression still has a main result.
 * - The prefix holds no newline: line numbers in stacks stay the cell's.
 *
 * The tree comes from the guard's tree-sitter grammar (already loaded for
 * the guard; ~0.1 ms per cell). Cells without `await`, and cells that do not
 * parse, are sent as they are (V8 then reports the syntax error).
 */
import type { Node, Tree } from 'web-tree-sitter';
import { Parsers } from '../guard/analysis/parsers.js';

export interface PreparedCode {
  readonly code: string;
  /** The code evaluates to a promise of `{ value }` (or undefined), which the server awaits. */
  readonly async: boolean;
}

export interface JsAsync {
  prepare(code: string): PreparedCode;
  /** Frees the parser. Idempotent. */
  close(): void;
}

/** Nodes that start a new function: an await inside one is not top-level. */
const FUNCTIONS = new Set(['function_declaration', 'generator_function_declaration', 'function_expression', 'function', 'generator_function', 'arrow_function', 'method_definition', 'class_static_block']);

function hasTopLevelAwait(root: Node): boolean {
  const stack: Node[] = [root];
  for (let node = stack.pop(); node; node = stack.pop()) {
    if (node.type === 'await_expression') return true;
    if (node.type === 'for_in_statement' && node.children.some((c) => c?.type === 'await')) return true;
    for (const child of node.namedChildren) if (child && !FUNCTIONS.has(child.type)) stack.push(child);
  }
  return false;
}

/** The names a declaration pattern binds: `{ a, b: [c], ...d }` → a, c, d. */
function boundNames(pattern: Node | null, out: string[]): void {
  if (!pattern) return;
  switch (pattern.type) {
    case 'identifier':
    case 'shorthand_property_identifier_pattern':
      out.push(pattern.text);
      return;
    case 'pair_pattern':
      boundNames(pattern.childForFieldName('value'), out);
      return;
    case 'assignment_pattern':
    case 'object_assignment_pattern':
      boundNames(pattern.childForFieldName('left'), out);
      return;
    default:
      // object_pattern, array_pattern, rest_pattern: their named children are patterns.
      for (const child of pattern.namedChildren) if (child) boundNames(child, out);
  }
}

interface Edit {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/** Rewrites a cell with top-level await (see above); returns it unchanged otherwise. Pure. */
export function rewriteTopLevelAwait(code: string, tree: Tree): PreparedCode {
  const root = tree.rootNode;
  if (root.hasError || !hasTopLevelAwait(root)) return { code, async: false };
  const lets: string[] = [];
  const vars: string[] = [];
  const functions: string[] = [];
  const edits: Edit[] = [];
  const statements = root.namedChildren.filter((n): n is Node => n !== null && n.type !== 'comment');
  for (const s of statements) {
    switch (s.type) {
      case 'lexical_declaration':
      case 'variable_declaration': {
        const assignments: string[] = [];
        for (const d of s.namedChildren) {
          if (d?.type !== 'variable_declarator') continue;
          const name = d.childForFieldName('name');
          const value = d.childForFieldName('value');
          boundNames(name, s.type === 'variable_declaration' ? vars : lets);
          if (name && value) assignments.push(`(${name.text} = ${value.text})`);
        }
        edits.push({ start: s.startIndex, end: s.endIndex, text: assignments.length > 0 ? `void (${assignments.join(', ')});` : ';' });
        break;
      }
      case 'function_declaration':
      case 'generator_function_declaration': {
        const name = s.childForFieldName('name')?.text;
        if (name) {
          vars.push(name);
          functions.push(name);
        }
        break;
      }
      case 'class_declaration': {
        const name = s.childForFieldName('name')?.text;
        if (name) {
          lets.push(name);
          edits.push({ start: s.startIndex, end: s.endIndex, text: `${name} = ${s.text};` });
        }
        break;
      }
      default:
        break;
    }
  }
  const last = statements.at(-1);
  const expression = last?.type === 'expression_statement' ? last.namedChildren.find((c) => c !== null && c.type !== 'comment') : undefined;
  if (last && expression) edits.push({ start: last.startIndex, end: last.endIndex, text: `return { value: (${expression.text}) };` });

  edits.sort((a, b) => a.start - b.start);
  let body = '';
  let at = 0;
  for (const e of edits) {
    body += code.slice(at, e.start) + e.text;
    at = e.end;
  }
  body += code.slice(at);
  const unique = (names: string[]): string => [...new Set(names)].join(', ');
  const prefix = `${lets.length > 0 ? `let ${unique(lets)}; ` : ''}${vars.length > 0 ? `var ${unique(vars)}; ` : ''}(async () => { ${functions.map((f) => `globalThis[${JSON.stringify(f)}] = ${f}; `).join('')}`;
  return { code: `${prefix}${body}\n})()`, async: true };
}

/** A rewriter with its own parser. */
export async function createJsAsync(): Promise<JsAsync> {
  const parsers = await Parsers.create();
  return {
    prepare(code: string): PreparedCode {
      if (parsers.closed || !code.includes('await')) return { code, async: false };
      const tree = parsers.parse('javascript', code);
      if (!tree) return { code, async: false };
      try {
        return rewriteTopLevelAwait(code, tree);
      } finally {
        tree.delete();
      }
    },
    close: () => parsers.close(),
  };
}
