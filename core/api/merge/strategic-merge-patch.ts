/**
 * Strategic merge patch (`application/strategic-merge-patch+json`) as kube-apiserver applies it:
 * a JSON merge patch whose lists follow the kind's patch strategies (strategies.ts), plus the
 * directives kubectl sends:
 *
 *  - `$patch: replace` (map: replace it whole; list item: replace the whole list with the other items)
 *  - `$patch: delete`  (map: delete it; list item: delete the item with that merge key)
 *  - `$patch: merge`   (the default)
 *  - `$retainKeys: [k…]`                      clear every other key of the map first
 *  - `$deleteFromPrimitiveList/<field>: [v…]` remove values from a primitive list
 *  - `$setElementOrder/<field>: [item…]`      the order of the merged list
 *  - `null`                                   delete the field
 */
import { cloneJson, getOwn, isObject, jsonEqual, setOwn, type JsonObject } from './json.ts';
import { PatchError } from './json-patch.ts';
import { hasMergeKey, indexOfItem, mergeSorted, sortByOrder } from './lists.ts';
import { childPath, strategiesFor, type Strategy } from './strategies.ts';

const DELETE = Symbol('delete');
type Rules = ReadonlyMap<string, Strategy>;

const RETAIN = '$retainKeys';
const PATCH = '$patch';
const DELETE_FROM = '$deleteFromPrimitiveList/';
const ORDER = '$setElementOrder/';

/** `original` with `patch` applied; `kind` selects the list strategies. Neither input is modified. */
export function strategicMergePatch(original: unknown, patch: unknown, kind: string): unknown {
  if (!isObject(patch)) throw new PatchError('a strategic merge patch must be a JSON object');
  const out = applyMap(strategiesFor(kind), '', isObject(original) ? original : {}, patch);
  if (out === DELETE) throw new PatchError('"$patch: delete" cannot delete the whole object');
  return cloneJson(out);
}

function where(path: string): string {
  return path ? `${path.replace(/\[\]/g, '[*]')}: ` : '';
}

function applyMap(rules: Rules, path: string, orig: JsonObject, patch: JsonObject): JsonObject | typeof DELETE {
  const directive = getOwn(patch, PATCH);
  if (directive === 'delete') return DELETE;
  if (directive === 'replace') return stripDirectives(patch) as JsonObject;
  if (directive !== undefined && directive !== 'merge') {
    throw new PatchError(`${where(path)}unknown $patch directive ${JSON.stringify(directive)} (replace, delete or merge)`);
  }
  const out: JsonObject = { ...orig };
  const retain = getOwn(patch, RETAIN);
  if (retain !== undefined) {
    if (!Array.isArray(retain)) throw new PatchError(`${where(path)}$retainKeys must be a list of field names`);
    for (const key of Object.keys(out)) if (!retain.includes(key)) delete out[key];
  }
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(DELETE_FROM)) continue;
    const field = key.slice(DELETE_FROM.length);
    const values = patch[key];
    if (!Array.isArray(values)) throw new PatchError(`${where(path)}${key} must be a list`);
    const cur = getOwn(out, field);
    if (Array.isArray(cur)) setOwn(out, field, cur.filter((x) => !values.some((v) => jsonEqual(v, x))));
  }
  for (const key of Object.keys(patch)) {
    if (key.startsWith('$')) {
      if (key === PATCH || key === RETAIN || key.startsWith(DELETE_FROM) || key.startsWith(ORDER)) continue;
      throw new PatchError(`${where(path)}unknown patch directive "${key}"`);
    }
    const value = patch[key];
    const child = childPath(path, key);
    const cur = getOwn(out, key);
    if (value === null) delete out[key];
    else if (isObject(value)) {
      const r = applyMap(rules, child, isObject(cur) ? cur : {}, value);
      if (r === DELETE) delete out[key];
      else setOwn(out, key, r);
    } else if (Array.isArray(value)) {
      const order = getOwn(patch, ORDER + key);
      setOwn(out, key, applyList(rules, child, Array.isArray(cur) ? cur : [], value, order));
    } else setOwn(out, key, value);
  }
  // `$setElementOrder` for a list the patch does not otherwise touch.
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(ORDER)) continue;
    const field = key.slice(ORDER.length);
    const cur = getOwn(out, field);
    if (getOwn(patch, field) === undefined && Array.isArray(cur)) {
      setOwn(out, field, applyList(rules, childPath(path, field), cur, [], patch[key]));
    }
  }
  return out;
}

function applyList(rules: Rules, path: string, orig: unknown[], patch: unknown[], order: unknown): unknown[] {
  const s = rules.get(path);
  if (!s || (!s.mergeKeys && !s.set)) return stripDirectives(patch) as unknown[];
  if (order !== undefined && !Array.isArray(order)) throw new PatchError(`${where(path)}$setElementOrder must be a list`);
  if (patch.some((x) => isObject(x) && getOwn(x, PATCH) === 'replace')) {
    return stripDirectives(patch.filter((x) => !(isObject(x) && getOwn(x, PATCH) !== undefined))) as unknown[];
  }
  let out = orig.slice();
  const patched: unknown[] = [];
  for (const item of patch) {
    if (s.set) {
      if (isObject(item)) throw new PatchError(`${where(path)}a list of values cannot hold an object`);
      if (!out.some((x) => jsonEqual(x, item))) out.push(item);
      patched.push(item);
      continue;
    }
    if (!isObject(item)) throw new PatchError(`${where(path)}items of this list must be objects (merged by ${s.mergeKeys!.join('+')})`);
    const directive = getOwn(item, PATCH);
    if (!hasMergeKey(s, item)) throw new PatchError(`${where(path)}an item has no merge key "${s.mergeKeys![0]}"`);
    if (directive === 'delete') {
      out = out.filter((x) => indexOfItem(s, [x], item) < 0);
      continue;
    }
    const i = indexOfItem(s, out, item);
    const merged = applyMap(rules, `${path}[]`, i >= 0 && isObject(out[i]) ? (out[i] as JsonObject) : {}, item);
    if (merged === DELETE) continue; // unreachable: handled above
    if (i >= 0) out[i] = merged;
    else out.push(merged);
    patched.push(merged);
  }
  const wanted = Array.isArray(order) ? order : patched;
  const patchSide = sortByOrder(s, out.filter((x) => indexOfItem(s, wanted, x) >= 0), wanted);
  const serverOnly = out.filter((x) => indexOfItem(s, wanted, x) < 0);
  return mergeSorted(s, serverOnly, patchSide, orig);
}

/** A patch value as stored: directives removed. */
function stripDirectives(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObject(v)) return v;
  const out: JsonObject = {};
  for (const key of Object.keys(v)) {
    if (key === PATCH || key === RETAIN || key.startsWith(DELETE_FROM) || key.startsWith(ORDER)) continue;
    if (v[key] === null) continue;
    setOwn(out, key, stripDirectives(v[key]));
  }
  return out;
}
