/**
 * Field ownership for server-side apply, as Kubernetes defines it. Each apply records the fields
 * its configuration sets in `metadata.managedFields` (FieldsV1, operation Apply; see
 * ../field-set.ts), next to the Update entries that create/update/patch over HTTP record
 * (../managed-fields.ts). Then:
 *
 *  - conflicts: an apply that gives a field another value than the live one, while another
 *    manager (Apply or Update) owns it, fails with 409 Conflict — `Apply failed with 1 conflict:
 *    conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas`, one
 *    FieldManagerConflict cause per field — and changes nothing. The same value is no conflict:
 *    the field is then shared. With `force=true` the applier takes the conflicting fields and the
 *    other managers lose them.
 *  - a field the manager applied before and leaves out of its next apply is removed from the
 *    object, unless another manager still owns it (then only the ownership goes).
 *
 * Not done: per-version conversion of field sets (every kind is served at one version here), the
 * cap of ten Update managers, and `v:` sets for primitive lists merged as sets (they are atomic).
 */
import { isDeepStrictEqual } from 'node:util';
import { ApiError } from '../../api/errors.ts';
import { hasPath, isContainer, isEmptySet, leafPaths, pathString, setOfPaths, subtractSets, valueAt, type FieldPath, type FieldSet } from '../field-set.ts';
import { makeEntry, type ManagedFieldsEntry } from '../managed-fields.ts';

export { fieldSet } from '../field-set.ts';

const isObj = (v: unknown): v is Record<string, any> => !!v && typeof v === 'object' && !Array.isArray(v);

function parseKey(key: string): Record<string, unknown> | undefined {
  try {
    const id = JSON.parse(key.slice(2));
    return isObj(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Removes from `obj` the fields in `before` that `after` no longer has — except those `others`
 * (the other managers' fields, together) own.
 */
export function removeDropped(obj: Record<string, any>, before: FieldSet, after: FieldSet, others: FieldSet = {}): void {
  for (const [key, sub] of Object.entries(before)) {
    if (!key.startsWith('f:')) continue;
    const field = key.slice(2);
    if (!Object.hasOwn(obj, field)) continue;
    const now = after[key];
    const theirs = others[key];
    const gone = now === undefined && theirs === undefined;
    const leaf = !isObj(sub) || !Object.keys(sub).some((k) => k !== '.');
    const value = obj[field];
    if (leaf) {
      if (gone) delete obj[field];
    } else if (isObj(value)) {
      // Only the owned children go; the map itself stays while others' entries remain.
      removeDropped(value, sub, now ?? {}, theirs ?? {});
      if (gone && !Object.keys(value).length) delete obj[field];
    } else if (Array.isArray(value) && Object.keys(sub).some((k) => k.startsWith('k:'))) {
      removeItems(value, sub, now ?? {}, theirs ?? {});
      if (gone && !value.length) delete obj[field];
    } else if (gone) delete obj[field];
  }
}

function removeItems(list: any[], before: FieldSet, after: FieldSet, others: FieldSet): void {
  for (const [key, sub] of Object.entries(before)) {
    if (!key.startsWith('k:')) continue;
    const id = parseKey(key);
    if (!id) continue;
    const idx = list.findIndex((item) => isObj(item) && Object.entries(id).every(([k, v]) => item[k] === v));
    if (idx < 0) continue;
    if (after[key] === undefined && others[key] === undefined) {
      list.splice(idx, 1);
      continue;
    }
    const item = list[idx];
    const keys = Object.keys(id).filter((k) => Object.hasOwn(item, k)).map((k) => [k, item[k]] as const);
    removeDropped(item, isObj(sub) ? sub : {}, after[key] ?? {}, others[key] ?? {});
    for (const [k, v] of keys) item[k] = v; // an item that stays keeps its key
  }
}

/** The union of the field sets of all entries but `self`. */
export function othersFields(entries: ManagedFieldsEntry[], self: number): FieldSet {
  let out: FieldSet = {};
  entries.forEach((e, i) => {
    if (i !== self) out = mergeInto(out, e.fieldsV1!);
  });
  return out;
}

function mergeInto(a: FieldSet, b: FieldSet): FieldSet {
  for (const [k, sub] of Object.entries(b)) a[k] = isObj(a[k]) && isObj(sub) ? mergeInto({ ...a[k] }, sub) : sub;
  return a;
}

export interface FieldConflict {
  entry: ManagedFieldsEntry;
  path: FieldPath;
}

/**
 * The applied fields whose value the apply changes (live vs `next`, the object it would write)
 * while another entry owns them.
 */
export function findConflicts(kind: string, live: unknown, next: unknown, applied: FieldSet, entries: ManagedFieldsEntry[], self: number): FieldConflict[] {
  const out: FieldConflict[] = [];
  for (const path of leafPaths(applied)) {
    const was = valueAt(kind, live, path);
    const now = valueAt(kind, next, path);
    if (isDeepStrictEqual(was, now) || (isContainer(kind, path, was) && isContainer(kind, path, now))) continue;
    entries.forEach((entry, i) => {
      if (i !== self && hasPath(entry.fieldsV1!, path)) out.push({ entry, path });
    });
  }
  return out;
}

/** `"kubectl-client-side-apply" using apps/v1`, `"kubectl" with subresource "scale" using apps/v1`, `"helm"`. */
function describeManager(e: ManagedFieldsEntry): string {
  let s = JSON.stringify(e.manager ?? '');
  if (e.subresource) s += ` with subresource ${JSON.stringify(e.subresource)}`;
  if (e.operation === 'Update') s += ` using ${e.apiVersion ?? ''}`;
  return s;
}

/** The entry's identity as Kubernetes encodes it (what conflicts are grouped and sorted by). */
function identity(e: ManagedFieldsEntry): string {
  return JSON.stringify({
    manager: e.manager ?? '',
    operation: e.operation,
    ...(e.operation === 'Update' && e.apiVersion ? { apiVersion: e.apiVersion } : {}),
    ...(e.subresource ? { subresource: e.subresource } : {}),
  });
}

/** 409 Conflict with Kubernetes' message and one FieldManagerConflict cause per conflict. */
export function conflictError(conflicts: FieldConflict[]): ApiError {
  const causes = conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${describeManager(c.entry)}`, field: pathString(c.path) }));
  let message: string;
  if (conflicts.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${describeManager(conflicts[0]!.entry)}: ${pathString(conflicts[0]!.path)}`;
  } else {
    const byManager = new Map<string, { entry: ManagedFieldsEntry; paths: string[] }>();
    for (const c of conflicts) {
      const id = identity(c.entry);
      const g = byManager.get(id) ?? { entry: c.entry, paths: [] };
      g.paths.push(pathString(c.path));
      byManager.set(id, g);
    }
    const lines: string[] = [];
    for (const id of [...byManager.keys()].sort()) {
      const g = byManager.get(id)!;
      lines.push(`conflicts with ${describeManager(g.entry)}:`, ...g.paths.map((p) => `- ${p}`));
    }
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  }
  return new ApiError('Conflict', message, { causes });
}

/**
 * managedFields after an apply: `manager`'s Apply entry replaced by `fields`, and the fields it
 * took by force (`taken`) gone from the other entries (an entry left empty goes).
 */
export function withApplyEntry(
  entries: ManagedFieldsEntry[],
  self: number,
  manager: string,
  apiVersion: string,
  fields: FieldSet,
  now: Date,
  opts: { subresource?: string; taken?: FieldConflict[] } = {},
): ManagedFieldsEntry[] {
  const out: ManagedFieldsEntry[] = [];
  entries.forEach((e, i) => {
    if (i === self) return;
    const taken = (opts.taken ?? []).filter((c) => c.entry === e).map((c) => c.path);
    if (!taken.length) return void out.push(e);
    const left = subtractSets(e.fieldsV1!, setOfPaths(taken));
    if (!isEmptySet(left)) out.push({ ...e, fieldsV1: left });
  });
  out.push(makeEntry(manager, 'Apply', apiVersion, fields, now, opts.subresource));
  return out;
}
