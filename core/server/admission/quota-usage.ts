/**
 * What an object counts against a ResourceQuota, as Kubernetes' quota evaluators: `pods`,
 * `count/<resource>[.<group>]`, object counts (services, secrets, configmaps,
 * persistentvolumeclaims, services.nodeports, services.loadbalancers), compute
 * (`requests.cpu`, `cpu`, `limits.memory`, …, extended `requests.nvidia.com/gpu`) and storage
 * (`requests.storage`). Terminal pods (Succeeded/Failed) and pods being deleted count for nothing.
 */
import type { KindInfo } from '../../api/kinds.ts';
import { podLimits, podRequests } from '../../api/pod-resources.ts';
import { addResourceLists, parseQuantity, type ResourceList } from '../../api/quantity.ts';
import type { KubeObject } from '../../api/types.ts';

const OBJECT_COUNTS: Record<string, string> = {
  Pod: 'pods',
  Service: 'services',
  Secret: 'secrets',
  ConfigMap: 'configmaps',
  PersistentVolumeClaim: 'persistentvolumeclaims',
  ReplicationController: 'replicationcontrollers',
  ResourceQuota: 'resourcequotas',
};

export function countResourceName(info: KindInfo): string {
  return info.group ? `count/${info.plural}.${info.group}` : `count/${info.plural}`;
}

/** Usage an object contributes, keyed by quota resource name. */
export function usageOf(info: KindInfo, obj: KubeObject): ResourceList {
  const out: ResourceList = { [countResourceName(info)]: '1' };
  if (OBJECT_COUNTS[info.kind]) out[OBJECT_COUNTS[info.kind]!] = '1';
  if (info.kind === 'Pod') {
    if (obj.metadata.deletionTimestamp || obj.status?.phase === 'Succeeded' || obj.status?.phase === 'Failed') return {};
    for (const [r, v] of Object.entries(podRequests(obj))) {
      out[`requests.${r}`] = v;
      if (r === 'cpu' || r === 'memory' || r === 'ephemeral-storage') out[r] = v;
    }
    for (const [r, v] of Object.entries(podLimits(obj))) out[`limits.${r}`] = v;
  }
  if (info.kind === 'Service') {
    const type = obj.spec?.type;
    if (type === 'NodePort' || type === 'LoadBalancer') out['services.nodeports'] = String((obj.spec?.ports ?? []).length);
    if (type === 'LoadBalancer') out['services.loadbalancers'] = '1';
  }
  if (info.kind === 'PersistentVolumeClaim') {
    const s = obj.spec?.resources?.requests?.storage;
    if (s) out['requests.storage'] = s;
    const sc = obj.spec?.storageClassName;
    if (sc) {
      out[`${sc}.storageclass.storage.k8s.io/persistentvolumeclaims`] = '1';
      if (s) out[`${sc}.storageclass.storage.k8s.io/requests.storage`] = s;
    }
  }
  return out;
}

export function restrict(usage: ResourceList, hard: ResourceList): ResourceList {
  const out: ResourceList = {};
  for (const [k, v] of Object.entries(usage)) if (k in hard) out[k] = v;
  return out;
}

export function isComputeResource(name: string): boolean {
  return /^(requests\.|limits\.)/.test(name) || name === 'cpu' || name === 'memory' || name === 'ephemeral-storage';
}

export function cmp(a: string, b: string): number {
  return parseQuantity(a).cmp(parseQuantity(b));
}
