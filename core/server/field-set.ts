/**
 * FieldsV1 sets, as Kubernetes records them in `metadata.managedFields`: `f:<field>` for a field,
 * `k:{"name":"web"}` for an item of a list merged by key (with `.` for the item itself), a leaf
 * is `{}`. Lists merged by key (core/api/merge/strategies.ts) are walked item by item; every
 * other list is atomic, one leaf. Reading also understands `v:<json>` (an item of a set) and
 * `i:<n>` (an index), which other tools may have written.
 *
 * Pure functions over plain JSON: the set of an object's fields, the fields one write changed,
 * union / difference, and a path's value in an object and its printed form (`.spec.replicas`,
 * `.spec.containers[name="web"].image`) as Kubernetes prints it in conflicts.
 */
import { isDeepStrictEqual } from 'node:util';
import { childPath, strategiesFor, type Strategy } from '../api/merge/strategies.ts';

export type FieldSet = Record<string, any>;
/** One path through a FieldSet: its keys, `['f:spec', 'f:replicas']`. */
export type FieldPath = string[];

type Rules = ReadonlyMap<string, Strategy>;

const isObj = (v: unknown): v is Record<string, any> => !!v && typeof v === 'object' && !Array.isArray(v);

/** Metadata the server keeps: never owned by a manager (nor are apiVersion, kind, name, namespace). */
export const SERVER_META = new Set([
  'resourceVersion', 'uid', 'creationTimestamp', 'generation', 'managedFields', 'selfLink', 'deletionTimestamp', 'deletionGracePeriodSeconds',
  'name', 'namespace',
]);

/** The `k:` key of a list item: its merge-key fields (a missing one takes its API default). */
function itemKey(item: Record<string, any>, st: Strategy): string {
  const id: Record<string, unknown> = {};
  for (const k of st.mergeKeys!) {
    const v = item[k] ?? st.keyDefaults?.[k];
    if (v !== undefined) id[k] = v;
  }
  return `k:${JSON.stringify(id)}`;
}

const keyed = (v: unknown, st: Strategy | undefined): v is Record<string, any>[] => Array.isArray(v) && !!st?.mergeKeys?.length && v.every(isObj);

/** The set of every field in a value: a map's fields, a keyed list's items, else a leaf. */
function valueSet(rules: Rules, v: unknown, path: string): FieldSet {
  if (isObj(v)) return mapSet(rules, v, path);
  const st = rules.get(path);
  if (!keyed(v, st)) return {};
  const out: FieldSet = {};
  for (const item of v) out[itemKey(item, st!)] = { '.': {}, ...mapSet(rules, item, `${path}[]`) };
  return out;
}

function mapSet(rules: Rules, m: Record<string, any>, path: string): FieldSet {
  const out: FieldSet = {};
  for (const [k, x] of Object.entries(m)) out[`f:${k}`] = valueSet(rules, x, childPath(path, k));
  return out;
}

/** Top-level keys a manager can own: not apiVersion/kind, not server metadata, status only when asked. */
function topKeys(obj: Record<string, any>, status: 'with' | 'without' | 'only'): string[] {
  if (status === 'only') return Object.hasOwn(obj, 'status') ? ['status'] : [];
  return Object.keys(obj).filter((k) => k !== 'apiVersion' && k !== 'kind' && !(status === 'without' && k === 'status'));
}

function metaOf(m: unknown): Record<string, any> | undefined {
  if (!isObj(m)) return undefined;
  const out: Record<string, any> = {};
  for (const [k, v] of Object.entries(m)) if (!SERVER_META.has(k)) out[k] = v;
  return out;
}

/**
 * The FieldsV1 set of an object (an applied configuration, or everything a create wrote).
 * `status`: 'without' for a main-resource write of a kind with a status subresource, 'only' for
 * a status write.
 */
export function fieldSet(kind: string, obj: Record<string, any>, status: 'with' | 'without' | 'only' = 'with'): FieldSet {
  const rules = strategiesFor(kind);
  const out: FieldSet = {};
  for (const k of topKeys(obj, status)) {
    if (k === 'metadata') {
      const m = metaOf(obj.metadata);
      if (m && Object.keys(m).length) out['f:metadata'] = mapSet(rules, m, 'metadata');
    } else out[`f:${k}`] = valueSet(rules, obj[k], k);
  }
  return out;
}

export interface FieldChanges {
  /** Fields added or given another value. */
  changed: FieldSet;
  /** Fields that are gone. */
  removed: FieldSet;
}

/**
 * What a write changed, `old` → `next`, as Kubernetes' field manager sees it: the fields added
 * or modified, and those removed. Keyed lists compare item by item (order does not matter);
 * anything else that differs is one changed leaf.
 */
export function changedFields(kind: string, old: Record<string, any>, next: Record<string, any>, status: 'without' | 'only' | 'with' = 'with'): FieldChanges {
  const rules = strategiesFor(kind);
  const out: FieldChanges = { changed: {}, removed: {} };
  const keys = new Set([...topKeys(old, status), ...topKeys(next, status)]);
  for (const k of keys) {
    const d = k === 'metadata'
      ? diffValue(rules, metaOf(old.metadata) ?? {}, metaOf(next.metadata) ?? {}, true, true, 'metadata')
      : diffValue(rules, old[k], next[k], Object.hasOwn(old, k), Object.hasOwn(next, k), k);
    if (d.changed) out.changed[`f:${k}`] = d.changed;
    if (d.removed) out.removed[`f:${k}`] = d.removed;
  }
  return out;
}

interface Diff {
  changed?: FieldSet;
  removed?: FieldSet;
}

function diffValue(rules: Rules, a: unknown, b: unknown, aHas: boolean, bHas: boolean, path: string): Diff {
  if (!bHas) return aHas ? { removed: valueSet(rules, a, path) } : {};
  if (!aHas) return { changed: valueSet(rules, b, path) };
  if (isObj(a) && isObj(b)) return diffMap(rules, a, b, path);
  const st = rules.get(path);
  if (keyed(a, st) && keyed(b, st)) {
    const itemPath = `${path}[]`;
    const before = new Map(a.map((item) => [itemKey(item, st!), item]));
    const after = new Map(b.map((item) => [itemKey(item, st!), item]));
    const changed: FieldSet = {};
    const removed: FieldSet = {};
    for (const [key, item] of after) {
      const was = before.get(key);
      if (!was) changed[key] = { '.': {}, ...mapSet(rules, item, itemPath) };
      else {
        const d = diffMap(rules, was, item, itemPath);
        if (d.changed) changed[key] = d.changed;
        if (d.removed) removed[key] = d.removed;
      }
    }
    for (const [key, item] of before) if (!after.has(key)) removed[key] = { '.': {}, ...mapSet(rules, item, itemPath) };
    return { changed: Object.keys(changed).length ? changed : undefined, removed: Object.keys(removed).length ? removed : undefined };
  }
  return isDeepStrictEqual(a, b) ? {} : { changed: {} };
}

function diffMap(rules: Rules, a: Record<string, any>, b: Record<string, any>, path: string): Diff {
  const changed: FieldSet = {};
  const removed: FieldSet = {};
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const d = diffValue(rules, a[k], b[k], Object.hasOwn(a, k), Object.hasOwn(b, k), childPath(path, k));
    if (d.changed) changed[`f:${k}`] = d.changed;
    if (d.removed) removed[`f:${k}`] = d.removed;
  }
  return { changed: Object.keys(changed).length ? changed : undefined, removed: Object.keys(removed).length ? removed : undefined };
}

/** a ∪ b (a new object; the inputs are not changed). */
export function unionSets(a: FieldSet, b: FieldSet): FieldSet {
  const out: FieldSet = { ...a };
  for (const [k, sub] of Object.entries(b)) out[k] = isObj(out[k]) && isObj(sub) ? unionSets(out[k], sub) : structuredClone(sub);
  return out;
}

/**
 * a − b. A leaf of b takes the whole subtree of a at that key; a node of a that loses all its
 * children goes too (a node of a that was itself a leaf stays: it owns the map, not its keys).
 */
export function subtractSets(a: FieldSet, b: FieldSet): FieldSet {
  const out: FieldSet = {};
  for (const [k, sub] of Object.entries(a)) {
    const r = b[k];
    if (r === undefined) {
      out[k] = sub;
      continue;
    }
    if (!isObj(r) || !Object.keys(r).length) continue;
    if (!isObj(sub) || !Object.keys(sub).length) {
      out[k] = sub;
      continue;
    }
    const left = subtractSets(sub, r);
    if (Object.keys(left).length) out[k] = left;
  }
  return out;
}

export const isEmptySet = (s: FieldSet | undefined): boolean => !s || !Object.keys(s).length;

/** The leaves of a set (nodes with no child but `.`), in order. */
export function leafPaths(set: FieldSet, prefix: FieldPath = []): FieldPath[] {
  const out: FieldPath[] = [];
  for (const [k, sub] of Object.entries(set)) {
    if (k === '.') continue;
    const p = [...prefix, k];
    const kids = isObj(sub) ? Object.keys(sub).filter((x) => x !== '.') : [];
    if (kids.length) out.push(...leafPaths(sub, p));
    else out.push(p);
  }
  return out;
}

/** Whether `set` has the node at `path`. */
export function hasPath(set: FieldSet, path: FieldPath): boolean {
  let cur: unknown = set;
  for (const k of path) {
    if (!isObj(cur) || !Object.hasOwn(cur, k)) return false;
    cur = cur[k];
  }
  return true;
}

/** The set that holds exactly these paths. */
export function setOfPaths(paths: FieldPath[]): FieldSet {
  const out: FieldSet = {};
  for (const p of paths) {
    let cur = out;
    for (const k of p) cur = cur[k] ??= {};
  }
  return out;
}

function parseJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

/** `.spec.containers[name="web"].image`, as Kubernetes prints a field path. */
export function pathString(path: FieldPath): string {
  let s = '';
  for (const k of path) {
    const rest = k.slice(2);
    if (k.startsWith('f:')) s += `.${rest}`;
    else if (k.startsWith('k:')) {
      const id = parseJson(rest);
      s += isObj(id) ? `[${Object.entries(id).map(([f, v]) => `${f}=${JSON.stringify(v)}`).join(',')}]` : `[${rest}]`;
    } else if (k.startsWith('v:')) s += `[=${rest}]`;
    else if (k.startsWith('i:')) s += `[${rest}]`;
  }
  return s;
}

/** The strategy-table path of a field path (`spec.template.spec.containers[].ports`). */
function strategyPath(path: FieldPath): string {
  let sp = '';
  for (const k of path) sp = k.startsWith('f:') ? childPath(sp, k.slice(2)) : `${sp}[]`;
  return sp;
}

/**
 * Whether the value at `path` is a container of other fields — a map, or a list merged by key —
 * rather than one value: its own leaf in a set means "this map/list exists", and changes inside it
 * are its children's.
 */
export function isContainer(kind: string, path: FieldPath, value: unknown): boolean {
  if (isObj(value)) return true;
  return Array.isArray(value) && !!strategiesFor(kind).get(strategyPath(path))?.mergeKeys?.length;
}

/** Returned by valueAt for a path the object does not have. */
export const MISSING: unique symbol = Symbol('missing');

/** The value at `path` in `obj`, or MISSING. */
export function valueAt(kind: string, obj: unknown, path: FieldPath): unknown {
  const rules = strategiesFor(kind);
  let cur: unknown = obj;
  let sp = '';
  for (const k of path) {
    const rest = k.slice(2);
    if (k.startsWith('f:')) {
      if (!isObj(cur) || !Object.hasOwn(cur, rest)) return MISSING;
      cur = cur[rest];
      sp = childPath(sp, rest);
    } else if (k.startsWith('k:')) {
      const id = parseJson(rest);
      const st = rules.get(sp);
      if (!Array.isArray(cur) || !isObj(id)) return MISSING;
      cur = cur.find((item) => isObj(item) && Object.entries(id).every(([f, v]) => (item[f] ?? st?.keyDefaults?.[f]) === v));
      if (cur === undefined) return MISSING;
      sp = `${sp}[]`;
    } else if (k.startsWith('v:')) {
      const v = parseJson(rest);
      if (!Array.isArray(cur) || !cur.some((x) => isDeepStrictEqual(x, v))) return MISSING;
      cur = v;
      sp = `${sp}[]`;
    } else if (k.startsWith('i:')) {
      const i = Number(rest);
      if (!Array.isArray(cur) || !Number.isInteger(i) || i < 0 || i >= cur.length) return MISSING;
      cur = cur[i];
      sp = `${sp}[]`;
    } else return MISSING;
  }
  return cur;
}
