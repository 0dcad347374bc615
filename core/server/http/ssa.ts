/**
 * Field ownership for server-side apply, enough for its most visible rule: a field that a
 * manager applied before and leaves out of its next apply is removed. Each apply records the
 * fields it set in `metadata.managedFields` (FieldsV1, operation Apply, as Kubernetes does:
 * `f:<field>`, `k:{"name":"web"}` for items of lists merged by key, atomic lists whole).
 * Not done: conflicts with other managers (an apply always wins, as with `--force-conflicts`),
 * and ownership of fields written by Update operations.
 */
import type { KubeObject } from '../../api/types.ts';
import { childPath, strategiesFor } from '../../api/merge/strategies.ts';

type FieldSet = Record<string, any>;

const isObj = (v: unknown): v is Record<string, any> => !!v && typeof v === 'object' && !Array.isArray(v);
const SERVER_META = new Set(['resourceVersion', 'uid', 'creationTimestamp', 'generation', 'managedFields', 'selfLink', 'deletionTimestamp', 'deletionGracePeriodSeconds']);

/** The FieldsV1 set of an applied configuration. */
export function fieldSet(kind: string, applied: Record<string, any>): FieldSet {
  const rules = strategiesFor(kind);
  const walk = (v: Record<string, any>, path: string, top: boolean): FieldSet => {
    const out: FieldSet = {};
    for (const [k, x] of Object.entries(v)) {
      if (top && (k === 'apiVersion' || k === 'kind')) continue;
      if (path === 'metadata' && (SERVER_META.has(k) || k === 'name' || k === 'namespace')) continue;
      const p = childPath(path, k);
      const keys = rules.get(p)?.mergeKeys;
      if (isObj(x)) out[`f:${k}`] = walk(x, p, false);
      else if (Array.isArray(x) && keys?.length && x.every(isObj)) {
        const items: FieldSet = {};
        for (const item of x) {
          const id = Object.fromEntries(keys.filter((kk) => item[kk] !== undefined).map((kk) => [kk, item[kk]]));
          items[`k:${JSON.stringify(id)}`] = { '.': {}, ...walk(item, `${p}[]`, false) };
        }
        out[`f:${k}`] = items;
      } else out[`f:${k}`] = {};
    }
    return out;
  };
  return walk(applied, '', true);
}

/** Removes from `obj` the fields in `before` that `after` no longer has. */
export function removeDropped(obj: Record<string, any>, before: FieldSet, after: FieldSet): void {
  for (const [key, sub] of Object.entries(before)) {
    if (key === '.') continue;
    const now = after[key];
    if (key.startsWith('f:')) {
      const field = key.slice(2);
      const leaf = !Object.keys(sub).some((k) => k !== '.');
      if (now === undefined && leaf) {
        delete obj[field];
        continue;
      }
      // Only the owned children go; the map or list itself stays while others' entries remain.
      const next = now ?? {};
      if (isObj(obj[field])) {
        removeDropped(obj[field], sub, next);
        if (now === undefined && !Object.keys(obj[field]).length) delete obj[field];
      } else if (Array.isArray(obj[field]) && Object.keys(sub).some((k) => k.startsWith('k:'))) {
        removeItems(obj[field], sub, next);
        if (now === undefined && !obj[field].length) delete obj[field];
      } else if (now === undefined) delete obj[field];
    }
  }
}

function removeItems(list: any[], before: FieldSet, after: FieldSet): void {
  for (const [key, sub] of Object.entries(before)) {
    if (!key.startsWith('k:')) continue;
    const id = JSON.parse(key.slice(2)) as Record<string, unknown>;
    const idx = list.findIndex((item) => isObj(item) && Object.entries(id).every(([k, v]) => item[k] === v));
    if (idx < 0) continue;
    if (after[key] === undefined) list.splice(idx, 1);
    else removeDropped(list[idx], sub, after[key]);
  }
}

/** managedFields with `manager`'s Apply entry replaced by `fields`. */
export function withApplyEntry(obj: KubeObject, manager: string, apiVersion: string, fields: FieldSet, now: Date): unknown[] {
  const others = (obj.metadata.managedFields ?? []).filter((e: any) => !(e.manager === manager && e.operation === 'Apply'));
  return [
    ...others,
    { manager, operation: 'Apply', apiVersion, time: now.toISOString().replace(/\.\d+Z$/, 'Z'), fieldsType: 'FieldsV1', fieldsV1: fields },
  ];
}

/** The fields `manager` applied last time (empty when it never applied). */
export function appliedBefore(obj: KubeObject, manager: string): FieldSet {
  const e = (obj.metadata.managedFields ?? []).find((x: any) => x.manager === manager && x.operation === 'Apply');
  return (e?.fieldsV1 as FieldSet) ?? {};
}
