/** Small helpers for defaulting plain JSON objects the way Go's pointer/zero-value defaulting does. */

export type Obj = Record<string, any>;

/** `x` when it is a plain object. */
export function isObj(x: unknown): x is Obj {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

/** Set `o[k]` to `v` when it is unset (undefined or null): a Go pointer field. */
export function def(o: Obj, k: string, v: unknown): void {
  if (o[k] === undefined || o[k] === null) o[k] = v;
}

/** Set `o[k]` to `v` when it is unset or the zero value ('' / 0): a Go value field. */
export function defZero(o: Obj, k: string, v: unknown): void {
  if (o[k] === undefined || o[k] === null || o[k] === '' || o[k] === 0) o[k] = v;
}

/** `o[k]`, made a plain object first when it is unset. Returns undefined when it holds a non-object. */
export function child(o: Obj, k: string): Obj | undefined {
  if (o[k] === undefined || o[k] === null) o[k] = {};
  return isObj(o[k]) ? o[k] : undefined;
}

/** The plain-object items of a list field. */
export function items(x: unknown): Obj[] {
  return Array.isArray(x) ? x.filter(isObj) : [];
}
