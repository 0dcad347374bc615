/**
 * A StatefulSet pod's identity and storage, as pkg/controller/statefulset/stateful_set_utils.go:
 * the name `<set>-<ordinal>`, the labels `statefulset.kubernetes.io/pod-name` and
 * `apps.kubernetes.io/pod-index`, hostname = name and subdomain = serviceName (so
 * `<pod>.<service>.<ns>.svc` resolves), and one claim `<template>-<set>-<ordinal>` per
 * volumeClaimTemplate mounted in place of the template's volume of that name.
 */
import type { KubeObject, OwnerReference } from '../../api/types.ts';
import { CONTROLLER_REVISION_HASH_LABEL } from '../controller-revision.ts';
import { newControllerRef } from '../pod-control.ts';

export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';

const ORDINAL = /^(.*)-(\d+)$/;

/** The parent name and ordinal a pod name encodes (`web-2` → web, 2), ordinal -1 when none. */
export function parentAndOrdinal(pod: KubeObject): { parent: string; ordinal: number } {
  const m = ORDINAL.exec(pod.metadata.name ?? '');
  if (!m) return { parent: '', ordinal: -1 };
  const n = Number(m[2]);
  return { parent: m[1]!, ordinal: Number.isSafeInteger(n) && n <= 2147483647 ? n : -1 };
}

export const ordinalOf = (pod: KubeObject): number => parentAndOrdinal(pod).ordinal;
export const podName = (set: KubeObject, ordinal: number): string => `${set.metadata.name}-${ordinal}`;
export const isMemberOf = (set: KubeObject, pod: KubeObject): boolean => parentAndOrdinal(pod).parent === set.metadata.name;
export const startOrdinal = (set: KubeObject): number => Number(set.spec?.ordinals?.start ?? 0);
export const podRevision = (pod: KubeObject): string => pod.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL] ?? '';

/** Whether the ordinal is in [start, start+replicas). */
export function inOrdinalRange(set: KubeObject, pod: KubeObject): boolean {
  const ord = ordinalOf(pod);
  const start = startOrdinal(set);
  return ord >= start && ord < start + Number(set.spec?.replicas ?? 1);
}

export function claimName(set: KubeObject, template: KubeObject, ordinal: number): string {
  return `${template.metadata?.name}-${set.metadata.name}-${ordinal}`;
}

/** The claims a pod of `set` with this ordinal needs, by template name. */
export function claimsFor(set: KubeObject, ordinal: number): Map<string, KubeObject> {
  const out = new Map<string, KubeObject>();
  const selectorLabels = set.spec?.selector?.matchLabels ?? {};
  for (const t of set.spec?.volumeClaimTemplates ?? []) {
    const meta = t.metadata ?? {};
    out.set(meta.name, {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: {
        name: claimName(set, t, ordinal),
        namespace: set.metadata.namespace,
        labels: { ...(meta.labels ?? {}), ...selectorLabels },
        ...(meta.annotations ? { annotations: { ...meta.annotations } } : {}),
      },
      spec: structuredClone(t.spec ?? {}),
    });
  }
  return out;
}

/** The pod for `ordinal` built from `set`'s template (the set as of some revision), at `revision`. */
export function newStatefulSetPod(set: KubeObject, ordinal: number, revision: string): KubeObject {
  const template = set.spec?.template ?? {};
  const tm = template.metadata ?? {};
  const name = podName(set, ordinal);
  const spec = structuredClone(template.spec ?? {});
  spec.hostname = name;
  if (set.spec?.serviceName) spec.subdomain = set.spec.serviceName;
  const pod: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: set.metadata.namespace,
      labels: { ...(tm.labels ?? {}), [POD_NAME_LABEL]: name, [POD_INDEX_LABEL]: String(ordinal), [CONTROLLER_REVISION_HASH_LABEL]: revision },
      ...(tm.annotations ? { annotations: { ...tm.annotations } } : {}),
      ...(tm.finalizers ? { finalizers: [...tm.finalizers] } : {}),
      ownerReferences: [newControllerRef(set)],
    },
    spec,
  };
  updateStorage(set, pod);
  return pod;
}

/** identityMatches: name, namespace and identity labels agree with the ordinal. */
export function identityMatches(set: KubeObject, pod: KubeObject): boolean {
  const { parent, ordinal } = parentAndOrdinal(pod);
  return (
    ordinal >= 0 &&
    parent === set.metadata.name &&
    pod.metadata.namespace === set.metadata.namespace &&
    pod.metadata.labels?.[POD_NAME_LABEL] === pod.metadata.name &&
    pod.metadata.labels?.[POD_INDEX_LABEL] === String(ordinal)
  );
}

/** updateIdentity: the identity labels (hostname/subdomain are immutable once created). */
export function updateIdentity(pod: KubeObject): void {
  const ordinal = ordinalOf(pod);
  pod.metadata.labels = { ...(pod.metadata.labels ?? {}), [POD_NAME_LABEL]: pod.metadata.name!, [POD_INDEX_LABEL]: String(ordinal) };
}

/** storageMatches: every claim template is mounted from this ordinal's claim. */
export function storageMatches(set: KubeObject, pod: KubeObject): boolean {
  const ordinal = ordinalOf(pod);
  if (ordinal < 0) return false;
  const volumes = new Map<string, any>((pod.spec?.volumes ?? []).map((v: any) => [v.name, v]));
  for (const t of set.spec?.volumeClaimTemplates ?? []) {
    const v = volumes.get(t.metadata?.name);
    if (v?.persistentVolumeClaim?.claimName !== claimName(set, t, ordinal)) return false;
  }
  return true;
}

/** updateStorage: claim volumes replace template volumes of the same name. */
export function updateStorage(set: KubeObject, pod: KubeObject): void {
  const ordinal = ordinalOf(pod);
  const claims = claimsFor(set, ordinal);
  if (!claims.size) return;
  const volumes: any[] = [...claims].map(([name, c]) => ({ name, persistentVolumeClaim: { claimName: c.metadata.name } }));
  for (const v of pod.spec?.volumes ?? []) if (!claims.has(v.name)) volumes.push(v);
  pod.spec.volumes = volumes;
}

/**
 * The owner references a claim should carry under persistentVolumeClaimRetentionPolicy
 * (updateClaimOwnerRefForSetAndPod): whenDeleted=Delete → owned by the set (the garbage collector
 * removes it with the set); whenScaled=Delete and the pod's ordinal scaled away → owned by the
 * pod (removed once the pod is). Other owners are kept. Returns undefined when nothing changes.
 */
export function claimRefsFor(set: KubeObject, pod: KubeObject, claim: KubeObject): OwnerReference[] | undefined {
  const policy = set.spec?.persistentVolumeClaimRetentionPolicy ?? {};
  const whenDeleted = policy.whenDeleted ?? 'Retain';
  const whenScaled = policy.whenScaled ?? 'Retain';
  const scaledDown = !inOrdinalRange(set, pod);
  const wantSet = whenDeleted === 'Delete' && !(whenScaled === 'Delete' && scaledDown);
  const wantPod = whenScaled === 'Delete' && scaledDown && !!pod.metadata.uid;
  const refs = claim.metadata.ownerReferences ?? [];
  const others = refs.filter((r) => r.uid !== set.metadata.uid && r.uid !== pod.metadata.uid);
  const next = [...others];
  if (wantSet) next.push({ apiVersion: set.apiVersion, kind: set.kind, name: set.metadata.name!, uid: set.metadata.uid! });
  if (wantPod) next.push({ apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name!, uid: pod.metadata.uid! });
  const key = (l: OwnerReference[]) => l.map((r) => r.uid).sort().join(',');
  return key(next) === key(refs) ? undefined : next;
}
