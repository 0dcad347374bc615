/**
 * The three-way merge `kubectl apply` performs (client-side apply): from the last-applied
 * configuration (what the user applied before), the modified configuration (the new manifest)
 * and the live object:
 *
 *  - fields in the manifest overwrite live;
 *  - fields that were in last-applied but are gone from the manifest are deleted from live;
 *  - fields never in last-applied (set by controllers, defaulting, other clients, status) stay;
 *  - lists with a patch strategy (see strategies.ts) merge item by item on their merge key with
 *    the same three rules, set-lists as sets; other lists are replaced whole;
 *  - `retainKeys` maps (Deployment spec.strategy, each volume) that change keep only the
 *    manifest's keys, so switching `type: RollingUpdate` → `Recreate` drops `rollingUpdate`;
 *  - `null` in the manifest deletes the field.
 *
 * This is what apimachinery's CreateThreeWayMergePatch followed by StrategicMergePatch computes,
 * done in one pass over the three documents instead of building and applying a patch.
 */
import { cloneJson, getOwn, hasOwn, isObject, jsonEqual, setOwn, type JsonObject } from './json.ts';
import { hasMergeKey, mergeSorted, sameItem } from './lists.ts';
import { childPath, strategiesFor, type Strategy } from './strategies.ts';

export interface ThreeWayResult<T> {
  /** The object to write: live with the manifest's changes. */
  patched: T;
  /** Whether `patched` differs from live. */
  changed: boolean;
}

export function threeWayMerge<T extends object>(lastApplied: unknown, modified: T, live: T, kind: string): ThreeWayResult<T> {
  const rules = strategiesFor(kind);
  const patched = cloneJson(merge3(rules, '', lastApplied, modified, live)) as T;
  return { patched, changed: !jsonEqual(patched, live) };
}

type Rules = ReadonlyMap<string, Strategy>;

function merge3(rules: Rules, path: string, orig: unknown, mod: unknown, live: unknown): unknown {
  if (isObject(mod)) return isObject(live) ? mergeMaps(rules, path, orig, mod, live) : withoutNulls(mod);
  if (Array.isArray(mod)) {
    const s = rules.get(path);
    if (!s || !Array.isArray(live)) return mod;
    if (s.mergeKeys) return mergeKeyedLists(rules, path, s, orig, mod, live);
    if (s.set) return mergeSets(s, orig, mod, live);
  }
  return mod;
}

function mergeMaps(rules: Rules, path: string, orig: unknown, mod: JsonObject, live: JsonObject): JsonObject {
  const out: JsonObject = { ...live };
  const o = isObject(orig) ? orig : {};
  for (const key of Object.keys(mod)) {
    const value = mod[key];
    if (value === null) delete out[key];
    else setOwn(out, key, merge3(rules, childPath(path, key), getOwn(o, key), value, getOwn(live, key)));
  }
  for (const key of Object.keys(o)) if (!hasOwn(mod, key)) delete out[key];
  if (retainsKeys(rules, path) && !jsonEqual(out, live)) {
    for (const key of Object.keys(out)) if (!hasOwn(mod, key)) delete out[key];
  }
  return out;
}

function retainsKeys(rules: Rules, path: string): boolean {
  if (path.endsWith('[]')) return !!rules.get(path.slice(0, -2))?.retainKeys;
  const s = rules.get(path);
  return !!s?.retainKeys && !s.mergeKeys && !s.set;
}

function mergeKeyedLists(rules: Rules, path: string, s: Strategy, orig: unknown, mod: unknown[], live: unknown[]): unknown[] {
  const o = Array.isArray(orig) ? orig : [];
  const patched = mod.map((m) => {
    if (!hasMergeKey(s, m)) return m; // no identity: kept as a new item (validation will name it)
    const l = live.find((x) => sameItem(s, x, m));
    return l === undefined ? withoutNulls(m) : merge3(rules, `${path}[]`, o.find((x) => sameItem(s, x, m)), m, l);
  });
  const deleted = o.filter((x) => hasMergeKey(s, x) && !mod.some((m) => sameItem(s, x, m)));
  const serverOnly = live.filter((l) => !mod.some((m) => sameItem(s, l, m)) && !deleted.some((d) => sameItem(s, l, d)));
  return mergeSorted(s, serverOnly, patched, live);
}

function mergeSets(s: Strategy, orig: unknown, mod: unknown[], live: unknown[]): unknown[] {
  const o = Array.isArray(orig) ? orig : [];
  const patched = mod.filter((m, i) => mod.findIndex((x) => jsonEqual(x, m)) === i);
  const has = (list: unknown[], v: unknown) => list.some((x) => jsonEqual(x, v));
  const deleted = o.filter((x) => !has(mod, x));
  const serverOnly = live.filter((l) => !has(mod, l) && !has(deleted, l));
  return mergeSorted(s, serverOnly, patched, live);
}

/** A value as written to a field that did not exist: `null` members mean "absent". */
export function withoutNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (!isObject(v)) return v;
  const out: JsonObject = {};
  for (const key of Object.keys(v)) if (v[key] !== null) setOwn(out, key, withoutNulls(v[key]));
  return out;
}
