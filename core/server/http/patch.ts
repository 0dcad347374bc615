/**
 * PATCH by content type, as kube-apiserver:
 *
 *  - application/json-patch+json            RFC 6902
 *  - application/merge-patch+json           RFC 7386
 *  - application/strategic-merge-patch+json the built-in kinds' list merge keys
 *  - application/apply-patch+yaml           server-side apply (`kubectl apply --server-side`)
 *
 * Server-side apply: the object is created when missing, otherwise the applied configuration is
 * strategically merged into it, after removing the fields this field manager applied last time
 * and no longer sets (ssa.ts records them in metadata.managedFields). Conflicts with other
 * managers are not detected: an apply always wins, as with `--force-conflicts`.
 */
import { ApiError, badRequest, isApiError } from '../../api/errors.ts';
import { apiVersionOf, lookupKind, type KindInfo } from '../../api/kinds.ts';
import type { KubeObject } from '../../api/types.ts';
import type { PatchType } from '../../client/client.ts';
import type { UserInfo } from '../admission/chain.ts';
import type { ApiServer } from '../api-server.ts';
import { checkFields, type FieldValidation } from './field-validation.ts';
import { decodeBody } from './respond.ts';
import { appliedBefore, fieldSet, removeDropped, withApplyEntry } from './ssa.ts';
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
  const opts = { dryRun: p.dryRun, fieldManager: p.fieldManager, warnings: admission, ...(p.subresource ? { subresource: 'status' as const } : {}) };
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
  if (!p.fieldManager) throw badRequest('PATCH /apply requests require a fieldManager: the fieldManager query parameter is required for apply requests');
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
  const opts = { dryRun: p.dryRun, fieldManager: p.fieldManager, warnings };
  if (p.subresource === 'status') {
    return { object: await p.api.patch(ref, 'strategic', { status: applied.status ?? {} }, p.user, { ...opts, subresource: 'status' }), created: false };
  }
  const after = fieldSet(p.info.kind, applied);
  for (let attempt = 0; ; attempt++) {
    let live: KubeObject | undefined;
    try {
      live = await p.api.get(ref);
    } catch (e) {
      if (!isApiError(e, 'NotFound')) throw e;
    }
    if (!live) {
      const obj = { ...applied, apiVersion: ref.apiVersion, metadata: { ...meta, name: p.name, ...(p.info.namespaced ? { namespace: p.namespace } : {}) } } as KubeObject;
      delete obj.metadata.resourceVersion;
      obj.metadata.managedFields = withApplyEntry(obj, p.fieldManager, ref.apiVersion, after, new Date()) as any;
      try {
        return { object: await p.api.create(obj, p.user, opts), created: true };
      } catch (err) {
        if (isApiError(err, 'AlreadyExists') && attempt < 3) continue; // created meanwhile: apply to it
        throw err;
      }
    }
    const { apiVersion: _a, kind: _k, ...rest } = applied;
    const patch = { ...rest, metadata: { ...meta } };
    delete patch.metadata.resourceVersion;
    delete (patch.metadata as Record<string, unknown>).managedFields;
    const base = structuredClone(live);
    removeDropped(base, appliedBefore(live, p.fieldManager), after);
    let next: KubeObject;
    try {
      next = strategicMergePatch(base, patch, p.info.kind) as KubeObject;
    } catch (e) {
      throw badRequest(`the applied configuration could not be merged: ${(e as Error).message}`);
    }
    next.metadata.managedFields = withApplyEntry(live, p.fieldManager, ref.apiVersion, after, new Date()) as any;
    next.metadata.resourceVersion = live.metadata.resourceVersion;
    try {
      return { object: await p.api.update(next, p.user, opts), created: false };
    } catch (e) {
      if (isApiError(e, 'Conflict') && attempt < 5) continue;
      throw e;
    }
  }
}
