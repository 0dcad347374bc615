/**
 * Workloads as rows: ready/desired and the other counts per kind, and a workload's pods through
 * controller owner references (Deployment → ReplicaSet → Pod, CronJob → Job → Pod).
 */
import type { KubeObject } from '../../../core/api/types.ts';
import type { WorkloadKind } from '../../../core/desktop-api.ts';

export interface WorkloadRow {
  kind: WorkloadKind;
  key: string;
  namespace: string;
  name: string;
  ready: number;
  desired: number;
  /** `2/3`, or for CronJobs the schedule. */
  summary: string;
  upToDate?: number;
  available?: number;
  images: string[];
  created: string;
  status: 'ok' | 'progressing' | 'degraded' | 'suspended' | 'done' | 'failed';
  note: string;
  obj: KubeObject;
}

const controllerUid = (o: KubeObject) => o.metadata.ownerReferences?.find((r) => r.controller)?.uid;

export function templateOf(kind: WorkloadKind, o: KubeObject): any {
  return kind === 'CronJob' ? o.spec?.jobTemplate?.spec?.template : o.spec?.template;
}

export function workloadRow(kind: WorkloadKind, o: KubeObject): WorkloadRow {
  const s = o.status ?? {};
  const spec = o.spec ?? {};
  const images = ((templateOf(kind, o)?.spec?.containers ?? []) as Array<{ image?: string }>).map((c) => c.image ?? '');
  const base = { kind, key: `${o.metadata.namespace}/${o.metadata.name}`, namespace: o.metadata.namespace ?? 'default', name: o.metadata.name ?? '', images, created: String(o.metadata.creationTimestamp ?? ''), obj: o };
  switch (kind) {
    case 'Deployment':
    case 'StatefulSet':
    case 'ReplicaSet': {
      const desired = spec.replicas ?? 1;
      const ready = s.readyReplicas ?? 0;
      const upToDate = s.updatedReplicas ?? 0;
      const available = s.availableReplicas ?? 0;
      const progressing = (s.conditions ?? []).find((c: { type: string }) => c.type === 'Progressing');
      const failed = progressing?.status === 'False';
      const status = failed ? 'degraded' : ready >= desired && upToDate >= desired ? 'ok' : 'progressing';
      return { ...base, ready, desired, summary: `${ready}/${desired}`, upToDate, available, status, note: failed ? (progressing?.message ?? '') : spec.paused ? 'paused' : '' };
    }
    case 'DaemonSet': {
      const desired = s.desiredNumberScheduled ?? 0;
      const ready = s.numberReady ?? 0;
      return { ...base, ready, desired, summary: `${ready}/${desired}`, upToDate: s.updatedNumberScheduled ?? 0, available: s.numberAvailable ?? 0, status: ready >= desired ? 'ok' : 'progressing', note: '' };
    }
    case 'Job': {
      const completions = spec.completions ?? 1;
      const succeeded = s.succeeded ?? 0;
      const failedCond = (s.conditions ?? []).find((c: { type: string; status: string }) => c.type === 'Failed' && c.status === 'True');
      const complete = (s.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Complete' && c.status === 'True');
      const status = failedCond ? 'failed' : complete ? 'done' : spec.suspend ? 'suspended' : 'progressing';
      return { ...base, ready: succeeded, desired: completions, summary: `${succeeded}/${completions}`, status, note: failedCond?.message ?? (s.active ? `${s.active} active` : '') };
    }
    case 'CronJob': {
      const active = (s.active ?? []).length;
      return { ...base, ready: active, desired: 0, summary: spec.schedule ?? '', status: spec.suspend ? 'suspended' : 'ok', note: s.lastScheduleTime ? `last run ${s.lastScheduleTime}` : 'never run' };
    }
  }
}

/** The pods of a workload, from the stores' lists. */
export function podsOf(kind: WorkloadKind, o: KubeObject, pods: KubeObject[], replicaSets: KubeObject[], jobs: KubeObject[]): KubeObject[] {
  const uid = o.metadata.uid;
  if (!uid) return [];
  const owners = new Set([uid]);
  if (kind === 'Deployment') for (const rs of replicaSets) if (controllerUid(rs) === uid && rs.metadata.uid) owners.add(rs.metadata.uid);
  if (kind === 'CronJob') for (const j of jobs) if (controllerUid(j) === uid && j.metadata.uid) owners.add(j.metadata.uid);
  return pods.filter((p) => p.metadata.namespace === o.metadata.namespace && owners.has(controllerUid(p) ?? ''));
}

/** The workload a pod belongs to (its controller, through a ReplicaSet or Job to its owner). */
export function ownerWorkload(pod: KubeObject, replicaSets: KubeObject[], jobs: KubeObject[]): { kind: WorkloadKind; name: string } | undefined {
  const ref = pod.metadata.ownerReferences?.find((r) => r.controller);
  if (!ref) return undefined;
  if (ref.kind === 'ReplicaSet') {
    const rs = replicaSets.find((r) => r.metadata.uid === ref.uid);
    const up = rs?.metadata.ownerReferences?.find((r) => r.controller);
    return up?.kind === 'Deployment' ? { kind: 'Deployment', name: up.name } : { kind: 'ReplicaSet', name: ref.name };
  }
  if (ref.kind === 'Job') {
    const j = jobs.find((r) => r.metadata.uid === ref.uid);
    const up = j?.metadata.ownerReferences?.find((r) => r.controller);
    return up?.kind === 'CronJob' ? { kind: 'CronJob', name: up.name } : { kind: 'Job', name: ref.name };
  }
  if (ref.kind === 'StatefulSet' || ref.kind === 'DaemonSet') return { kind: ref.kind, name: ref.name };
  return undefined;
}
