/**
 * ResourceQuota admission: a create (or an update that grows usage) that would take a namespace
 * past any quota's `hard` limit is Forbidden with Kubernetes' wording, e.g.
 *   pods "web-1" is forbidden: exceeded quota: compute, requested: requests.cpu=500m,
 *   used: requests.cpu=1800m, limited: requests.cpu=2
 * A quota on compute resources requires pods to state them ("must specify requests.cpu").
 * Usage is computed from the namespace's live objects, so it is exact after crashes; two
 * concurrent creates racing for the last unit of quota may both pass (documented limitation).
 */
import { ApiError } from '../../api/errors.ts';
import { apiVersionOf, kindByName, KINDS, type KindInfo } from '../../api/kinds.ts';
import { addResourceLists, subResourceLists, type ResourceList } from '../../api/quantity.ts';
import type { KubeObject } from '../../api/types.ts';
import type { AdmissionPlugin } from './chain.ts';
import { cmp, countResourceName, isComputeResource, restrict, usageOf } from './quota-usage.ts';

export type ListInNamespace = (apiVersion: string, kind: string, namespace: string) => Promise<KubeObject[]>;

/** Quota scopes (BestEffort, NotBestEffort, Terminating, NotTerminating) as Kubernetes applies them to pods. */
export function quotaMatchesObject(quota: KubeObject, info: KindInfo, obj: KubeObject): boolean {
  const scopes: string[] = quota.spec?.scopes ?? [];
  if (!scopes.length) return true;
  if (info.kind !== 'Pod') return false;
  const bestEffort = !Object.keys(addResourceLists(requestsOrLimits(obj, 'requests'), requestsOrLimits(obj, 'limits'))).some((k) => k === 'cpu' || k === 'memory');
  const terminating = obj.spec?.activeDeadlineSeconds !== undefined;
  return scopes.every((s) => (s === 'BestEffort' ? bestEffort : s === 'NotBestEffort' ? !bestEffort : s === 'Terminating' ? terminating : s === 'NotTerminating' ? !terminating : true));
}

function requestsOrLimits(pod: KubeObject, which: 'requests' | 'limits'): ResourceList {
  let out: ResourceList = {};
  for (const c of pod.spec?.containers ?? []) out = addResourceLists(out, c.resources?.[which] ?? {});
  return out;
}

export function resourceQuotaAdmission(list: ListInNamespace): AdmissionPlugin {
  return {
    name: 'ResourceQuota',
    async validate(a) {
      if (a.subresource) return;
      if (a.operation !== 'CREATE' && a.operation !== 'UPDATE') return;
      if (!a.info.namespaced || a.info.kind === 'Event' || a.info.kind === 'ResourceQuota') return;
      const quotas = await list('v1', 'ResourceQuota', a.namespace!);
      if (!quotas.length) return;
      for (const quota of quotas) {
        const hard: ResourceList = quota.spec?.hard ?? {};
        if (!quotaMatchesObject(quota, a.info, a.object)) continue;
        const requested = restrict(usageOf(a.info, a.object), hard);
        if (a.info.kind === 'Pod' && a.operation === 'CREATE') requireCompute(a.info, a.object, hard, quota.metadata.name!, a.name);
        let delta = requested;
        if (a.operation === 'UPDATE' && a.oldObject) delta = subResourceLists(requested, restrict(usageOf(a.info, a.oldObject), hard));
        const growing = Object.entries(delta).filter(([, v]) => cmp(v, '0') > 0);
        if (!growing.length) continue;
        const used = await usedIn(list, quota, hard, a.namespace!, a.info, a.operation === 'UPDATE' ? a.object.metadata.uid : undefined);
        const exceeded = growing.filter(([k, v]) => cmp(addResourceLists({ [k]: used[k] ?? '0' }, { [k]: v })[k]!, hard[k]!) > 0).map(([k]) => k).sort();
        if (exceeded.length) {
          const fmt = (l: ResourceList) => exceeded.map((k) => `${k}=${l[k] ?? '0'}`).join(',');
          throw new ApiError(
            'Forbidden',
            `${a.info.plural} "${a.name}" is forbidden: exceeded quota: ${quota.metadata.name}, requested: ${fmt(requested)}, used: ${fmt(used)}, limited: ${fmt(hard)}`,
          );
        }
      }
    },
  };
}

function requireCompute(info: KindInfo, pod: KubeObject, hard: ResourceList, quotaName: string, podName: string): void {
  const missing: string[] = [];
  for (const res of Object.keys(hard).filter(isComputeResource)) {
    const [which, name] = res.includes('.') ? (res.split(/\.(.*)/) as ['requests' | 'limits', string]) : (['requests', res] as const);
    if (which !== 'requests' && which !== 'limits') continue;
    const lacking = (pod.spec?.containers ?? []).filter((c: any) => c.resources?.[which]?.[name] === undefined && !(which === 'requests' && c.resources?.limits?.[name] !== undefined)).map((c: any) => c.name);
    if (lacking.length) missing.push(`${res} for: ${lacking.join(',')}`);
  }
  if (missing.length) throw new ApiError('Forbidden', `${info.plural} "${podName}" is forbidden: failed quota: ${quotaName}: must specify ${missing.join('; ')}`);
}

/** Current usage of the namespace for the resources in `hard`, optionally without one object. */
export async function usedIn(list: ListInNamespace, quota: KubeObject, hard: ResourceList, namespace: string, target?: KindInfo, excludeUid?: string): Promise<ResourceList> {
  const kinds = new Set<string>();
  for (const k of Object.keys(hard)) {
    if (isComputeResource(k) || k === 'pods' || k === 'count/pods') kinds.add('Pod');
    else if (k === 'services' || k.startsWith('services.')) kinds.add('Service');
    else if (k === 'secrets') kinds.add('Secret');
    else if (k === 'configmaps') kinds.add('ConfigMap');
    else if (k === 'persistentvolumeclaims' || k.includes('storage')) kinds.add('PersistentVolumeClaim');
    else if (k.startsWith('count/')) {
      const info = [...(target ? [target] : []), ...KINDS].find((i) => countResourceName(i) === k);
      if (info) kinds.add(info.kind);
    }
  }
  let total: ResourceList = {};
  for (const kind of kinds) {
    const info = kindByName(kind)!;
    for (const obj of await list(apiVersionOf(info), kind, namespace)) {
      if (excludeUid && obj.metadata.uid === excludeUid) continue;
      if (!quotaMatchesObject(quota, info, obj)) continue;
      total = addResourceLists(total, restrict(usageOf(info, obj), hard));
    }
  }
  const out: ResourceList = {};
  for (const k of Object.keys(hard)) out[k] = total[k] ?? '0';
  return out;
}
