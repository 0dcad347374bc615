/**
 * Subresources served on top of the API layer's get/patch/delete/bind:
 *
 *  - {deployments,replicasets,statefulsets}/scale  GET/PUT/PATCH, autoscaling/v1 Scale
 *  - pods/eviction   POST: evicts the pod honouring its PodDisruptionBudget (core/server/eviction.ts):
 *                    429 when the budget allows no disruption, 500 for more than one budget
 *  - pods/binding    POST: api.bind
 *  - serviceaccounts/token  POST TokenRequest (`kubectl create token`), optionally bound to a Secret
 *                    or Pod of the namespace (spec.boundObjectRef): deleting it revokes the token
 *  - namespaces/finalize    PUT: sets spec.finalizers
 */
import { ApiError, badRequest, conflict, invalid, isApiError } from '../../api/errors.ts';
import { apiVersionOf, type KindInfo } from '../../api/kinds.ts';
import type { KubeObject } from '../../api/types.ts';
import { applyJsonPatch, jsonMergePatch, strategicMergePatch } from '../../api/merge.ts';
import { selectorToString } from '../../api/selectors.ts';
import type { DeleteOptions } from '../../client/client.ts';
import type { UserInfo } from '../admission/chain.ts';
import type { ApiServer } from '../api-server.ts';
import { evictPod, MULTIPLE_BUDGETS } from '../eviction.ts';
import type { BoundObject, TokenAuthenticator } from './auth.ts';
import { patchTypeOf } from './patch.ts';
import { decodeBody, success } from './respond.ts';

type Ref = { apiVersion: string; kind: string; namespace?: string; name: string };

export function toScale(obj: KubeObject): KubeObject {
  let selector = '';
  try {
    selector = selectorToString(obj.spec?.selector);
  } catch {
    selector = '';
  }
  const m = obj.metadata;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
    spec: { replicas: obj.spec?.replicas ?? 1 },
    status: { replicas: obj.status?.replicas ?? 0, ...(selector ? { selector } : {}) },
  };
}

export interface ScaleRequest {
  api: ApiServer;
  info: KindInfo;
  namespace?: string;
  name: string;
  method: string;
  body?: Buffer;
  contentType?: string;
  user: UserInfo;
  dryRun: boolean;
  fieldManager?: string;
  /** Who the write is recorded for in managedFields (subresource scale). */
  manager: string;
}

export async function serveScale(r: ScaleRequest): Promise<KubeObject> {
  const ref: Ref = { apiVersion: apiVersionOf(r.info), kind: r.info.kind, namespace: r.namespace, name: r.name };
  const current = toScale(await r.api.get(ref));
  if (r.method === 'GET') return current;
  let wanted: KubeObject;
  if (r.method === 'PUT') {
    wanted = decodeBody(r.body!, r.contentType) as KubeObject;
  } else {
    const type = patchTypeOf(r.contentType);
    if (type === 'apply') throw new ApiError('UnsupportedMediaType', 'server-side apply is not supported on the scale subresource');
    const patch = decodeBody(r.body!, 'application/json');
    try {
      wanted = (type === 'json' ? applyJsonPatch(current, patch as any) : type === 'merge' ? jsonMergePatch(current, patch) : strategicMergePatch(current, patch, 'Scale')) as KubeObject;
    } catch (e) {
      throw badRequest(`the patch could not be applied to the Scale: ${(e as Error).message}`);
    }
  }
  if (wanted?.metadata?.name && wanted.metadata.name !== r.name) {
    throw badRequest(`the name of the object (${wanted.metadata.name}) does not match the name on the URL (${r.name})`);
  }
  const replicas = wanted?.spec?.replicas;
  const target = { kind: 'Scale', group: 'autoscaling', name: r.name };
  if (typeof replicas !== 'number' || !Number.isInteger(replicas)) {
    throw invalid(target, [{ field: 'spec.replicas', type: 'FieldValueRequired', message: 'Required value' }]);
  }
  if (replicas < 0) {
    throw invalid(target, [{ field: 'spec.replicas', type: 'FieldValueInvalid', message: `Invalid value: ${replicas}: must be greater than or equal to 0` }]);
  }
  const rv = wanted.metadata?.resourceVersion;
  const pinned = rv && rv !== current.metadata.resourceVersion ? { metadata: { resourceVersion: rv } } : {};
  const updated = await r.api.patch(ref, 'merge', { ...pinned, spec: { replicas } }, r.user, {
    dryRun: r.dryRun,
    fieldManager: r.fieldManager,
    fieldOwner: { manager: r.manager, subresource: 'scale' },
  });
  return toScale(updated);
}

/** DeleteOptions from a body (DeleteOptions or an Eviction's deleteOptions) and the query. */
export function deleteOptions(body: Record<string, any> | undefined, q: URLSearchParams, dryRun: boolean): DeleteOptions {
  const o: DeleteOptions = {};
  const grace = q.get('gracePeriodSeconds') ?? body?.gracePeriodSeconds;
  if (grace !== undefined && grace !== null && grace !== '') {
    const n = Number(grace);
    if (!Number.isInteger(n)) throw badRequest(`invalid gracePeriodSeconds: ${grace}`);
    o.gracePeriodSeconds = n;
  }
  const orphan = q.get('orphanDependents') ?? body?.orphanDependents;
  const policy = q.get('propagationPolicy') ?? body?.propagationPolicy ?? (orphan === true || orphan === 'true' ? 'Orphan' : orphan === false || orphan === 'false' ? 'Background' : undefined);
  if (policy !== undefined) {
    if (!['Foreground', 'Background', 'Orphan'].includes(policy)) {
      throw invalid({ kind: 'DeleteOptions', name: '' }, [{ field: 'propagationPolicy', type: 'FieldValueNotSupported', message: `Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan", "nil"` }]);
    }
    o.propagationPolicy = policy;
  }
  if (body?.preconditions) o.preconditions = body.preconditions;
  const dry = dryRun || (Array.isArray(body?.dryRun) && body.dryRun.includes('All'));
  if (dry) o.dryRun = true;
  return o;
}

export async function serveEviction(api: ApiServer, namespace: string, name: string, body: Record<string, any>, user: UserInfo, dryRun: boolean) {
  if (body?.metadata?.name !== name) throw badRequest('name in URL does not match name in Eviction object');
  const raw = body?.deleteOptions && typeof body.deleteOptions === 'object' ? body.deleteOptions : undefined;
  try {
    await evictPod(api, namespace, name, deleteOptions(raw, new URLSearchParams(), dryRun), user);
  } catch (e) {
    if (isApiError(e, 'InternalError') && e.message === MULTIPLE_BUDGETS) {
      const plain = new ApiError('InternalError', MULTIPLE_BUDGETS);
      delete plain.status.reason; // as kube-apiserver: a failure Status with code 500 and no reason
      throw plain;
    }
    throw e;
  }
  return success(201);
}

export async function serveBinding(api: ApiServer, namespace: string, name: string, body: Record<string, any>, user: UserInfo, dryRun: boolean) {
  if (body?.metadata?.name && body.metadata.name !== name) throw badRequest('name in URL does not match name in Binding object');
  await api.bind(namespace, name, body?.target?.name ?? '', user, { dryRun });
  return success(201);
}

export async function serveTokenRequest(api: ApiServer, auth: TokenAuthenticator, namespace: string, name: string, body: Record<string, any>) {
  const sa = await api.get({ apiVersion: 'v1', kind: 'ServiceAccount', namespace, name });
  const spec = body?.spec ?? {};
  const seconds = spec.expirationSeconds ?? 3600;
  if (!Number.isInteger(seconds) || seconds < 600) {
    throw invalid({ kind: 'TokenRequest', group: 'authentication.k8s.io', name }, [{ field: 'spec.expirationSeconds', type: 'FieldValueInvalid', message: `Invalid value: ${seconds}: may not specify a duration less than 10 minutes` }]);
  }
  const bound = spec.boundObjectRef ? await boundObject(api, namespace, name, spec.boundObjectRef) : undefined;
  const issued = auth.issueServiceAccountToken(namespace, name, sa.metadata.uid!, seconds, spec.audiences, bound);
  return {
    kind: 'TokenRequest',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { name, namespace, creationTimestamp: null },
    spec: { audiences: spec.audiences?.length ? spec.audiences : ['https://kubernetes.default.svc.cluster.local'], expirationSeconds: seconds, boundObjectRef: spec.boundObjectRef ?? null },
    status: issued,
  };
}

/** The Secret or Pod a TokenRequest binds its token to, checked as kube-apiserver does. */
async function boundObject(api: ApiServer, namespace: string, saName: string, ref: Record<string, any>): Promise<BoundObject> {
  const kind = ref.kind;
  const apiVersion = ref.apiVersion ?? '';
  if (apiVersion !== 'v1' || (kind !== 'Secret' && kind !== 'Pod')) {
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
    throw badRequest(`cannot bind token to object of type ${group}/${version}, Kind=${kind ?? ''}`);
  }
  const obj = await api.get({ apiVersion: 'v1', kind, namespace, name: String(ref.name ?? '') });
  if (kind === 'Pod') {
    const podSA = obj.spec?.serviceAccountName || 'default';
    if (podSA !== saName) throw badRequest(`cannot bind token for serviceaccount "${saName}" to pod running with serviceaccount "${podSA}"`);
  }
  const uid = obj.metadata.uid!;
  if (ref.uid && ref.uid !== uid) {
    throw conflict(
      { kind, group: '', name: obj.metadata.name },
      `the UID in the bound object reference (${ref.uid}) does not match the UID in record (${uid}). The object might have been deleted and then recreated`,
      kind,
    );
  }
  return { kind, name: obj.metadata.name!, uid };
}

export async function serveFinalize(api: ApiServer, name: string, body: Record<string, any>, user: UserInfo, dryRun: boolean) {
  if (body?.metadata?.name && body.metadata.name !== name) throw badRequest(`the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`);
  const finalizers = body?.spec?.finalizers ?? [];
  return api.patch({ apiVersion: 'v1', kind: 'Namespace', name }, 'merge', { spec: { finalizers } }, user, { dryRun });
}
