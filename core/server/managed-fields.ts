/**
 * `metadata.managedFields` for Update operations (create, update, non-apply patch over HTTP), as
 * kube-apiserver's field manager keeps them: the writer's entry (manager, operation Update,
 * apiVersion, subresource) gains the fields the write added or changed, and every other entry
 * loses them — an update never conflicts, it takes ownership. Removed fields leave every entry;
 * an entry left with no field goes.
 *
 * Only HTTP writes are tracked (the API layer does this when a write carries a `FieldOwner`);
 * controllers and the UI write in-process without it.
 */
import { isDeepStrictEqual } from 'node:util';
import type { KindInfo } from '../api/kinds.ts';
import type { KubeObject } from '../api/types.ts';
import { changedFields, fieldSet, isEmptySet, subtractSets, unionSets, type FieldSet } from './field-set.ts';

export interface ManagedFieldsEntry {
  manager?: string;
  operation?: 'Apply' | 'Update';
  apiVersion?: string;
  time?: string;
  fieldsType?: 'FieldsV1';
  fieldsV1?: FieldSet;
  subresource?: string;
}

/** Who an HTTP write is recorded for. */
export interface FieldOwner {
  manager: string;
  /** The subresource written through (`status`, `scale`); recorded on the entry. */
  subresource?: 'status' | 'scale';
}

const isObj = (v: unknown): v is Record<string, any> => !!v && typeof v === 'object' && !Array.isArray(v);

/** The well-formed entries of a managedFields value (anything else — `[{}]` included — is dropped). */
export function managedEntries(v: unknown): ManagedFieldsEntry[] {
  if (!Array.isArray(v)) return [];
  return v.filter((e): e is ManagedFieldsEntry =>
    isObj(e) && (e.operation === 'Apply' || e.operation === 'Update') && isObj(e.fieldsV1) && Object.keys(e.fieldsV1).length > 0 &&
    (e.manager === undefined || typeof e.manager === 'string'));
}

export const managedTime = (d: Date): string => d.toISOString().replace(/\.\d+Z$/, 'Z');

/** An entry's identity, as Kubernetes keys them: manager, operation, subresource, and apiVersion for Update. */
export function sameManager(e: ManagedFieldsEntry, manager: string, operation: 'Apply' | 'Update', subresource: string, apiVersion: string): boolean {
  return (e.manager ?? '') === manager && e.operation === operation && (e.subresource ?? '') === subresource &&
    (operation === 'Apply' || e.apiVersion === apiVersion);
}

export function makeEntry(manager: string, operation: 'Apply' | 'Update', apiVersion: string, fields: FieldSet, now: Date, subresource = ''): ManagedFieldsEntry {
  return { manager, operation, apiVersion, time: managedTime(now), fieldsType: 'FieldsV1', fieldsV1: fields, ...(subresource ? { subresource } : {}) };
}

/**
 * Sets `obj.metadata.managedFields` for an Update-operation write of `obj` over `old` (undefined
 * for a create). managedFields the client sent that differ from the live ones are taken as the
 * new starting point (that is how clients reset or migrate them); otherwise the live ones are kept.
 */
export function recordUpdate(info: KindInfo, obj: KubeObject, old: KubeObject | undefined, owner: FieldOwner, apiVersion: string, now: Date): void {
  const statusScope = owner.subresource === 'status' ? 'only' : info.subresources.includes('status') ? 'without' : 'with';
  const sent = obj.metadata.managedFields as unknown;
  const live = old?.metadata.managedFields as unknown;
  const takeSent = owner.subresource !== 'status' && Array.isArray(sent) && sent.length > 0 && !isDeepStrictEqual(sent, live);
  const base = managedEntries(takeSent ? sent : live);
  let changed: FieldSet;
  let removed: FieldSet = {};
  if (old) ({ changed, removed } = changedFields(info.kind, old, obj, statusScope));
  else changed = fieldSet(info.kind, obj, statusScope);
  const subresource = owner.subresource ?? '';
  const drop = unionSets(changed, removed);
  const out: ManagedFieldsEntry[] = [];
  let mine = -1;
  for (const e of base) {
    if (sameManager(e, owner.manager, 'Update', subresource, apiVersion)) {
      mine = out.length;
      out.push(e);
      continue;
    }
    if (isEmptySet(changed) && isEmptySet(removed)) {
      out.push(e);
      continue;
    }
    const left = subtractSets(e.fieldsV1!, drop);
    if (!isEmptySet(left)) out.push(isDeepStrictEqual(left, e.fieldsV1) ? e : { ...e, fieldsV1: left });
  }
  if (!isEmptySet(changed) || (mine >= 0 && !isEmptySet(removed))) {
    const before = mine >= 0 ? subtractSets(out[mine]!.fieldsV1!, removed) : {};
    const fields = unionSets(before, changed);
    const entry = isEmptySet(changed) && mine >= 0 ? { ...out[mine]!, fieldsV1: fields } : makeEntry(owner.manager, 'Update', apiVersion, fields, now, subresource);
    if (mine >= 0) {
      if (isEmptySet(fields)) out.splice(mine, 1);
      else out[mine] = entry;
    } else if (!isEmptySet(fields)) out.push(entry);
  }
  if (out.length) obj.metadata.managedFields = out as any;
  else delete obj.metadata.managedFields;
}
