/**
 * Where a DaemonSet's pods go, as pkg/controller/daemon/util and NodeShouldRunDaemonPod: the
 * pod template with the standard DaemonSet tolerations added, checked against each node's name,
 * labels (nodeSelector, required node affinity) and taints. A pod is created with a required
 * node affinity on `metadata.name` (matchFields) so the scheduler binds it to exactly that node.
 */
import { matchNodeSelectorTerms } from '../../api/selectors.ts';
import type { KubeObject } from '../../api/types.ts';
import { CONTROLLER_REVISION_HASH_LABEL } from '../controller-revision.ts';
import { tolerates } from '../node-lifecycle-controller.ts';

/** util.AddOrUpdateDaemonPodTolerations: what a DaemonSet pod tolerates beyond its own list. */
export const DAEMON_POD_TOLERATIONS = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
] as const;
const NETWORK_UNAVAILABLE = { key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' } as const;

const sameToleration = (a: any, b: any): boolean =>
  a.key === b.key && (a.operator ?? 'Equal') === (b.operator ?? 'Equal') && (a.value ?? '') === (b.value ?? '') && (a.effect ?? '') === (b.effect ?? '');

/** Add the DaemonSet tolerations to a pod spec, in place (existing equal ones are kept). */
export function addDaemonTolerations(spec: any): void {
  const tolerations: any[] = [...(spec.tolerations ?? [])];
  const wanted: any[] = [...DAEMON_POD_TOLERATIONS, ...(spec.hostNetwork ? [NETWORK_UNAVAILABLE] : [])];
  for (const t of wanted) if (!tolerations.some((x) => sameToleration(x, t))) tolerations.push({ ...t });
  spec.tolerations = tolerations;
}

/** util.CreatePodTemplate: the template with the tolerations and the revision hash label. */
export function daemonPodTemplate(ds: KubeObject, hash: string): any {
  const t = structuredClone(ds.spec?.template ?? {});
  t.metadata ??= {};
  t.metadata.labels = { ...(t.metadata.labels ?? {}), [CONTROLLER_REVISION_HASH_LABEL]: hash };
  t.spec ??= {};
  addDaemonTolerations(t.spec);
  return t;
}

/**
 * util.ReplaceDaemonSetPodNodeNameNodeAffinity: the required node affinity becomes exactly
 * `metadata.name In [node]` (the node was already checked against the template's terms).
 */
export function withNodeNameAffinity(affinity: any, nodeName: string): any {
  const terms = [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] }];
  const a = structuredClone(affinity ?? {});
  a.nodeAffinity ??= {};
  a.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution = {
    ...(a.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution ?? {}),
    nodeSelectorTerms: terms,
  };
  return a;
}

/** util.GetTargetNodeName: spec.nodeName, or the node the metadata.name affinity pins it to. */
export function targetNodeName(pod: KubeObject): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  const terms: any[] = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  for (const term of terms) {
    for (const f of term.matchFields ?? []) {
      if (f.key === 'metadata.name' && f.operator === 'In') return f.values?.length === 1 ? f.values[0] : undefined;
    }
  }
  return undefined;
}

export interface Placement {
  /** A daemon pod should run here (and be created if missing). */
  shouldRun: boolean;
  /** A daemon pod already here may stay (it tolerates the node's NoExecute taints). */
  shouldContinueRunning: boolean;
}

/** NodeShouldRunDaemonPod: node name, node selector and affinity, then taints. */
export function nodeShouldRunDaemonPod(node: KubeObject, ds: KubeObject): Placement {
  const spec = structuredClone(ds.spec?.template?.spec ?? {});
  addDaemonTolerations(spec);
  const name = node.metadata.name!;
  const no = { shouldRun: false, shouldContinueRunning: false };
  if (spec.nodeName && spec.nodeName !== name) return no;
  const labels = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries(spec.nodeSelector ?? {})) if (labels[k] !== v) return no;
  const required = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (required && !matchNodeSelectorTerms(required.nodeSelectorTerms, labels, { 'metadata.name': name })) return no;
  const untolerated = ((node.spec?.taints ?? []) as any[]).filter(
    (t) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !(spec.tolerations as any[]).some((tol) => tolerates(tol, t)),
  );
  if (!untolerated.length) return { shouldRun: true, shouldContinueRunning: true };
  return { shouldRun: false, shouldContinueRunning: !untolerated.some((t) => t.effect === 'NoExecute') };
}

/** podByCreationTimestampAndPhase: bound pods first, then oldest, then by name. */
export function byCreationAndPhase(a: KubeObject, b: KubeObject): number {
  const na = !!a.spec?.nodeName;
  const nb = !!b.spec?.nodeName;
  if (na !== nb) return na ? -1 : 1;
  const ta = String(a.metadata.creationTimestamp ?? '');
  const tb = String(b.metadata.creationTimestamp ?? '');
  if (ta !== tb) return ta < tb ? -1 : 1;
  return a.metadata.name! < b.metadata.name! ? -1 : a.metadata.name! > b.metadata.name! ? 1 : 0;
}
