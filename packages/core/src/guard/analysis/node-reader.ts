/**
 * Reading tree-sitter nodes of one tree: type names and namedness by type id
 * (asked of the WASM side once per node — the walkers look at a node several
 * times, and every property read is a call into WebAssembly) and source text.
 */
import type { Node } from 'web-tree-sitter';
import type { Grammar } from './parsers.js';

export class NodeReader {
  /** The text the tree was parsed from. */
  readonly code: string;
  readonly #g: Grammar;
  /** Type ids by node id (unique within the one tree a reader reads). */
  readonly #ids = new Map<number, number>();

  constructor(code: string, grammar: Grammar) {
    this.code = code;
    this.#g = grammar;
  }

  type(n: Node): string {
    return this.#g.types[this.#id(n)] ?? 'ERROR';
  }

  named(n: Node): boolean {
    return this.#g.anonymous[this.#id(n)] !== true;
  }

  src(n: Node): string {
    return this.code.slice(n.startIndex, n.endIndex);
  }

  #id(n: Node): number {
    let id = this.#ids.get(n.id);
    if (id === undefined) {
      id = n.typeId;
      this.#ids.set(n.id, id);
    }
    return id;
  }
}
