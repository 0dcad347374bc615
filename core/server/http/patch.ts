/**
 * PATCH by content type, as kube-apiserver:
 *
 *  - application/json-patch+json            RFC 6902
 *  - application/merge-patch+json           RFC 7386
 *  - application/strategic-merge-patch+json the built-in kinds' list merge keys
 *  - application/apply-patch+yaml           server-side apply (`kubectl apply --server-side`)
 *
 * The first three are Update operations: the fields they change are recorded for the field
 * manager in metadata.managedFields (the API layer does it, ../managed-fields.ts).
 *
 * Server-side apply (ssa.ts): the object is created when missing, otherwise the applied
 * configuration is strategically merged into it, after removing the fields this field manager
 * applied last time and no longer sets (unless another manager owns them too). A field the apply
 * changes that another manager owns is a conflict (409) unless `force=true`, which takes it.
 * Applying to the status subresource does the same for `.status`.
 */
import { ApiError, badRequest, isApiError } from '../../api/errors.ts';
import { apiVersionOf, lookupKind, type KindInfo } from '../../api/kinds.ts';
import { applyDefaults } from '../../api/defaults.ts';
import type { KubeObject } from '../../api/types.ts';
import type { PatchType } from '../../client/client.ts';
import type { UserInfo } from '../admission/chain.ts';
import type { ApiServer } from '../api-server.ts';
import { checkFields, type FieldValidation } from './field-validation.ts';
import { decodeBody } from './respond.ts';
import { fieldSet } from '../field-set.ts';
import { managedEntries, sameManager } from '../managed-fields.ts';
import { conflictError, findConflicts, othersFields, removeDropped, withApplyEntry } from './ssa.ts';
import { strategicMergePatch } from '../../api/merge.ts';

const TYPES: Record<string, PatchType | 'apply'> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
};

export function patchTypeOf(contentType: string | undefined): PatchType | 'apply' {
  const ct = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const t = TYPES[ct];
  if (!t) {
    throw new ApiError(
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: ${Object.keys(TYPES).join(', ')}`,
    );
  }
  return t;
}

export interface PatchRequest {
  api: ApiServer;
  info: KindInfo;
  namespace?: string;
  name: string;
  subresource: '' | 'status';
  body: Buffer;
  contentType?: string;
  user: UserInfo;
  dryRun: boolean;
  fieldManager?: string;
  /** Who the patch is recorded for (the fieldManager parameter, else from the User-Agent). */
  manager: string;
  /** Apply only: take the fields other managers own (`--force-conflicts`). */
  force?: boolean;
  fieldValidation: FieldValidation;
}

export interface PatchResult {
  object: KubeObject;
  created: boolean;
  warnings: string[];
}

export async function servePatch(p: PatchRequest): Promise<PatchResult> {
  const type = patchTypeOf(p.contentType);
  const apiVersion = apiVersionOf(p.info);
  const ref = { apiVersion, kind: p.info.kind, namespace: p.namespace, name: p.name };
  // Admission warnings (PodSecurity's `would violate …`) are collected here, after the field warnings.
  const admission: string[] = [];
  const opts = {
    dryRun: p.dryRun,
    fieldManager: p.fieldManager,
    warnings: admission,
    fieldOwner: { manager: p.manager, ...(p.subresource ? { subresource: 'status' as const } : {}) },
    ...(p.subresource ? { subresource: 'status' as const } : {}),
  };
  const patch = decodeBody(p.body, type === 'apply' ? 'application/yaml' : 'application/json');
  if (type === 'json') {
    if (!Array.isArray(patch)) throw badRequest('json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp');
    return { object: await p.api.patch(ref, 'json', patch, p.user, opts), created: false, warnings: admission };
  }
  if (!patch || typeof patch !== 'object' || Array.isArray(patch)) throw badRequest('the patch must be a JSON object');
  const warnings = checkFields(patch, apiVersion, p.info.kind, p.fieldValidation, { patch: true });
  if (type !== 'apply') return { object: await p.api.patch(ref, type, patch, p.user, opts), created: false, warnings: [...warnings, ...admission] };
  return { ...(await apply(p, patch as KubeObject, ref, admission)), warnings: [...warnings, ...admission] };
}

async function apply(
  p: PatchRequest,
  applied: KubeObject,
  ref: { apiVersion: string; kind: string; namespace?: string; name: string },
  warnings: string[],
): Promise<Omit<PatchResult, 'warnings'>> {
  const manager = p.fieldManager;
  if (!manager) throw badRequest('PATCH /apply requests require a fieldManager: the fieldManager query parameter is required for apply requests');
  if (!applied.apiVersion || !applied.kind) throw badRequest('invalid object: apiVersion and kind must be set for apply requests');
  const info = lookupKind(applied.apiVersion, applied.kind);
  if (!info || info.kind !== p.info.kind) {
    throw badRequest(`the kind of the applied object (${applied.apiVersion}, Kind=${applied.kind}) does not match the resource ${p.info.plural}`);
  }
  const meta = applied.metadata ?? {};
  if (meta.name && meta.name !== p.name) throw badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${p.name})`);
  if (p.info.namespaced && meta.namespace && meta.namespace !== p.namespace) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  const status = p.subresource === 'status';
  const opts = { dryRun: p.dryRun, fieldManager: manager, warnings };
  // What this manager now owns: its configuration, less what the write path resets (status of a
  // kind with a status subresource on the main resource; everything but status on /status).
  const after = fieldSet(p.info.kind, applied, status ? 'only' : p.info.subresources.includes('status') ? 'without' : 'with');
  const { apiVersion: _a, kind: _k, ...rest } = applied;
  const patch: Record<string, any> = status ? { status: applied.status ?? {} } : { ...rest, metadata: { ...meta } };
  if (!status) {
    delete patch.metadata.resourceVersion;
    delete patch.metadata.managedFields;
  }
  for (let attempt = 0; ; attempt++) {
    let live: KubeObject | undefined;
    try {
      live = await p.api.get(ref);
    } catch (e) {
      if (!isApiError(e, 'NotFound') || status) throw e;
    }
    if (!live) {
      const obj = { ...applied, apiVersion: ref.apiVersion, metadata: { ...meta, name: p.name, ...(p.info.namespaced ? { namespace: p.namespace } : {}) } } as KubeObject;
      delete obj.metadata.resourceVersion;
      obj.metadata.managedFields = withApplyEntry([], -1, manager, ref.apiVersion, after, new Date()) as any;
      try {
        return { object: await p.api.create(obj, p.user, opts), created: true };
      } catch (err) {
        if (isApiError(err, 'AlreadyExists') && attempt < 3) continue; // created meanwhile: apply to it
        throw err;
      }
    }
    const entries = managedEntries(live.metadata.managedFields);
    const sub = status ? 'status' : '';
    const self = entries.findIndex((e) => sameManager(e, manager, 'Apply', sub, ref.apiVersion));
    const base = structuredClone(live);
    removeDropped(base, self >= 0 ? entries[self]!.fieldsV1! : {}, after, othersFields(entries, self));
    let next: KubeObject;
    try {
      next = strategicMergePatch(base, patch, p.info.kind) as KubeObject;
    } catch (e) {
      throw badRequest(`the applied configuration could not be merged: ${(e as Error).message}`);
    }
    const conflicts = findConflicts(p.info.kind, live, applyDefaults(next), after, entries, self);
    if (conflicts.length && !p.force) throw conflictError(conflicts);
    const managedFields = withApplyEntry(entries, self, manager, ref.apiVersion, after, new Date(), { subresource: sub, taken: conflicts });
    next.metadata.resourceVersion = live.metadata.resourceVersion;
    try {
      const write = { ...opts, managedFields };
      return { object: status ? await p.api.updateStatus(next, p.user, write) : await p.api.update(next, p.user, write), created: false };
    } catch (e) {
      if (isApiError(e, 'Conflict') && !(e.causes.length) && attempt < 5) continue;
      throw e;
    }
  }
}
