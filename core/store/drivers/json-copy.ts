/**
 * Copies with JSON semantics, without going through text: `jsonCopy(v)` equals
 * `JSON.parse(JSON.stringify(v))` for anything JSON.stringify accepts (toJSON is called,
 * undefined/functions/symbols are dropped from objects and become null in arrays, non-finite
 * numbers become null, only own enumerable keys count), at a fraction of the cost: a 3 KB Pod
 * copies in a few µs where stringify + parse take ~30 µs. `clonePlain` copies a value that is
 * already plain JSON data (what the store holds) and is faster still.
 */
const MAX_DEPTH = 1000;

export function jsonCopy(value: unknown): unknown {
  return copy('', value, 0);
}

function copy(key: string, v: unknown, depth: number): unknown {
  if (v !== null && (typeof v === 'object' || typeof v === 'bigint')) {
    const toJSON = (v as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') v = toJSON.call(v, key);
  }
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      return Number.isFinite(v) ? v : null;
    case 'bigint':
      throw new TypeError('Do not know how to serialize a BigInt');
    case 'object': {
      if (v === null) return null;
      if (depth > MAX_DEPTH) throw new TypeError('value is circular or nested too deeply to store');
      if (Array.isArray(v)) {
        const out = new Array<unknown>(v.length);
        for (let i = 0; i < v.length; i++) {
          const x = copy(String(i), v[i], depth + 1);
          out[i] = x === undefined ? null : x;
        }
        return out;
      }
      if (v instanceof Number || v instanceof String || v instanceof Boolean) return copy(key, v.valueOf(), depth);
      const src = v as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(src)) {
        const x = copy(k, src[k], depth + 1);
        if (x === undefined) continue;
        if (k === '__proto__') Object.defineProperty(out, k, { value: x, enumerable: true, writable: true, configurable: true });
        else out[k] = x;
      }
      return out;
    }
    default:
      return undefined; // undefined, function, symbol
  }
}

/** Deep copy of plain JSON data (objects with Object.prototype, arrays, primitives only). */
export function clonePlain<T>(v: T): T {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) {
    const out = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = clonePlain(v[i]);
    return out as T;
  }
  const src = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  // for-in is the fast path in V8; plain data objects have no inherited enumerable keys.
  for (const k in src) {
    if (k === '__proto__') Object.defineProperty(out, k, { value: clonePlain(src[k]), enumerable: true, writable: true, configurable: true });
    else out[k] = clonePlain(src[k]);
  }
  return out as T;
}
