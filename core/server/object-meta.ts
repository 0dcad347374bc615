/** Server-side rules for metadata and status on create and update, as kube-apiserver's strategies. */
import { isDeepStrictEqual } from 'node:util';
import type { KindInfo } from '../api/kinds.ts';
import type { KubeObject } from '../api/types.ts';

/** Kinds whose status is owned by the system: a create drops what the client sent. */
const STATUS_RESET_ON_CREATE = new Set([
  'Deployment',
  'ReplicaSet',
  'StatefulSet',
  'DaemonSet',
  'Job',
  'CronJob',
  'Service',
  'HorizontalPodAutoscaler',
  'PersistentVolumeClaim',
  'PersistentVolume',
  'ResourceQuota',
]);

/** Kinds whose spec changes bump metadata.generation (those with a spec/status split). */
export function hasGeneration(info: KindInfo): boolean {
  return info.subresources.includes('status') && info.kind !== 'Namespace' && info.kind !== 'Node';
}

export function prepareForCreate(info: KindInfo, obj: KubeObject): void {
  if (STATUS_RESET_ON_CREATE.has(info.kind)) obj.status = {};
  // A client may not create a pod in any phase but Pending; what else it sent in status is dropped.
  if (info.kind === 'Pod') obj.status = { phase: 'Pending', qosClass: qosClass(obj) };
  if (info.kind === 'Namespace') obj.status = { phase: 'Active' };
  if (info.kind === 'PersistentVolumeClaim' || info.kind === 'PersistentVolume') obj.status = { phase: 'Pending' };
  // PodDisruptionBudgetStatus's counters are not omitempty: a new budget shows them at 0.
  if (info.kind === 'PodDisruptionBudget') obj.status = { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };
  if (hasGeneration(info)) obj.metadata.generation = 1;
  else delete obj.metadata.generation;
  delete obj.metadata.deletionTimestamp;
  delete obj.metadata.deletionGracePeriodSeconds;
}

/**
 * Carry over what a main-resource update may not change: status (for kinds with a status
 * subresource), server-set metadata. Bumps generation when the spec (or anything but metadata
 * and status) changed.
 */
export function prepareForUpdate(info: KindInfo, obj: KubeObject, old: KubeObject): void {
  if (info.subresources.includes('status')) {
    if (old.status === undefined) delete obj.status;
    else obj.status = structuredClone(old.status);
  }
  carryServerMeta(obj, old);
  if (hasGeneration(info)) {
    const { metadata: _m1, status: _s1, ...restNew } = obj;
    const { metadata: _m2, status: _s2, ...restOld } = old;
    obj.metadata.generation = (old.metadata.generation ?? 1) + (isDeepStrictEqual(restNew, restOld) ? 0 : 1);
  }
}

/** A status write changes `.status` only (and metadata is never taken from it). */
export function prepareForStatusUpdate(obj: KubeObject, old: KubeObject): KubeObject {
  const next = structuredClone(old);
  next.status = structuredClone(obj.status);
  return next;
}

function carryServerMeta(obj: KubeObject, old: KubeObject): void {
  const m = obj.metadata;
  const o = old.metadata;
  m.uid = o.uid;
  m.creationTimestamp = o.creationTimestamp;
  if (o.deletionTimestamp) m.deletionTimestamp = o.deletionTimestamp;
  else delete m.deletionTimestamp;
  if (o.deletionGracePeriodSeconds !== undefined) m.deletionGracePeriodSeconds = o.deletionGracePeriodSeconds;
  else delete m.deletionGracePeriodSeconds;
  if (o.generation !== undefined) m.generation = o.generation;
  if (!m.generateName && o.generateName) m.generateName = o.generateName;
}

/** Pod QoS class as the kubelet computes it. */
export function qosClass(pod: KubeObject): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  // Runs before validation (prepareForCreate): anything malformed here is validation's to report.
  const list = (v: unknown): any[] => (Array.isArray(v) ? v.filter((c) => c && typeof c === 'object') : []);
  const map = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
  const containers: any[] = [...list(pod.spec?.initContainers), ...list(pod.spec?.containers)];
  let any = false;
  let guaranteed = true;
  for (const c of containers) {
    const req = map(map(c.resources).requests);
    const lim = map(map(c.resources).limits);
    for (const r of ['cpu', 'memory']) {
      if (req[r] !== undefined || lim[r] !== undefined) any = true;
      const l = lim[r];
      const q = req[r] ?? l;
      if (l === undefined || String(q) !== String(l)) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}
