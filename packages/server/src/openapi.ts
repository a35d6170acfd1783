/**
 * The generated OpenAPI document, made valid OpenAPI 3.0. The shared TypeBox
 * schemas carry Warden's own keywords (`expects`, `hint`) for error messages;
 * OpenAPI 3.0 allows only `x-` extensions in a Schema Object, so they are
 * renamed. A `default` that its own schema rejects (an object default missing
 * required keys, as on a response's `limits`) is dropped.
 */

const OWN_KEYWORDS: Readonly<Record<string, string>> = { expects: 'x-expects', hint: 'x-hint' };

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isObject(v: unknown): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fix(node: Json): Json {
  if (Array.isArray(node)) return node.map(fix);
  if (!isObject(node)) return node;
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(node)) {
    // Only string values are keywords: a property *named* hint has a schema (an object) as its value.
    const renamed = typeof v === 'string' ? OWN_KEYWORDS[k] : undefined;
    out[renamed ?? k] = fix(v);
  }
  const required = out.required;
  const dflt = out.default;
  if (out.type === 'object' && Array.isArray(required) && isObject(dflt) && required.some((r) => typeof r === 'string' && !(r in dflt))) {
    delete out.default;
  }
  return out;
}

/** A copy of `doc` that OpenAPI 3.0 validators accept. Pure. */
export function strictOpenApi30<T>(doc: T): T {
  return fix(JSON.parse(JSON.stringify(doc)) as Json) as T;
}
