/**
 * Canonical JSON, after RFC 8785 (JCS): object keys sorted by UTF-16 code
 * units, no whitespace, strings as JSON.stringify writes them, numbers as
 * ECMAScript writes them (which is what JCS specifies), properties whose value
 * is undefined left out. The same value always gives the same bytes, so a
 * hash over it is a hash over the meaning, not over how it was typed.
 *
 * Stricter than JSON.stringify where it would silently lose data: NaN,
 * Infinity, bigint, functions, symbols, undefined in arrays, class instances
 * (Date, Map, Buffer …), cycles and lone UTF-16 surrogates (they cannot be
 * stored as UTF-8, so they would not survive a round trip) are refused.
 */

export class CanonicalJsonError extends Error {
  override readonly name = 'CanonicalJsonError';
  /** Where in the value: `$`, `$.a[2].b`. */
  readonly path: string;

  constructor(path: string, what: string) {
    super(`${path} ${what}`);
    this.path = path;
  }
}

/** Deeper nesting is refused (it is never an audit record, and recursion must stay bounded). */
export const MAX_DEPTH = 32;

const LONE_SURROGATE = /\p{Cs}/u;
/** String.prototype.isWellFormed (Node 20+; V8 11.x), faster than the regex. */
const nativeWellFormed = (String.prototype as { isWellFormed?: (this: string) => boolean }).isWellFormed;

/** Whether a string is valid Unicode (no lone surrogates), so that UTF-8 storage keeps it exactly. */
export const isWellFormed: (s: string) => boolean = nativeWellFormed ? (s) => nativeWellFormed.call(s) : (s) => !LONE_SURROGATE.test(s);

const IDENT = /^[A-Za-z_$][\w$]*$/;
const child = (path: string, key: string): string => (IDENT.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`);

function isPlainObject(v: object): boolean {
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * The canonical JSON text of a JSON-safe value. Throws CanonicalJsonError
 * naming the first offending place otherwise. `mapString`, if given, rewrites
 * every string value (not object keys) on the way out.
 *
 * @example
 * canonicalJson({ b: [1, 'x'], a: null, c: undefined }) // '{"a":null,"b":[1,"x"]}'
 */
export function canonicalJson(value: unknown, mapString?: (s: string) => string): string {
  return write(value, '$', 0, mapString);
}

function write(v: unknown, path: string, depth: number, map: ((s: string) => string) | undefined): string {
  switch (typeof v) {
    case 'string':
      if (!isWellFormed(v)) throw new CanonicalJsonError(path, 'contains a lone UTF-16 surrogate, which is not valid Unicode');
      return JSON.stringify(map ? map(v) : v);
    case 'number':
      if (!Number.isFinite(v)) throw new CanonicalJsonError(path, `must be a finite number, got ${String(v)}`);
      return JSON.stringify(v); // -0 is written 0, as JCS says
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object': {
      if (v === null) return 'null';
      if (depth >= MAX_DEPTH) throw new CanonicalJsonError(path, `is nested deeper than ${MAX_DEPTH} levels (or is a cycle)`);
      if (Array.isArray(v)) {
        const items = v as readonly unknown[];
        let s = '[';
        for (let i = 0; i < items.length; i++) {
          const item = items[i];
          if (item === undefined) throw new CanonicalJsonError(`${path}[${i}]`, 'is undefined (or a hole); JSON arrays have no undefined');
          s += (i === 0 ? '' : ',') + write(item, `${path}[${i}]`, depth + 1, map);
        }
        return `${s}]`;
      }
      if (!isPlainObject(v)) throw new CanonicalJsonError(path, `is a ${v.constructor?.name ?? 'non-plain'} object; only plain objects and arrays are JSON`);
      const rec = v as Record<string, unknown>;
      // Default sort compares UTF-16 code units, which is the order JCS specifies.
      const keys = Object.keys(rec).sort();
      let s = '{';
      let first = true;
      for (const k of keys) {
        const item = rec[k];
        if (item === undefined) continue;
        if (!isWellFormed(k)) throw new CanonicalJsonError(path, `has a key with a lone UTF-16 surrogate: ${JSON.stringify(k)}`);
        s += `${first ? '' : ','}${JSON.stringify(k)}:${write(item, child(path, k), depth + 1, map)}`;
        first = false;
      }
      return `${s}}`;
    }
    case 'undefined':
      throw new CanonicalJsonError(path, 'is undefined');
    case 'bigint':
    case 'function':
    case 'symbol':
      throw new CanonicalJsonError(path, `is a ${typeof v}, which JSON cannot represent`);
  }
}
