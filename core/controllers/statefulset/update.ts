/**
 * One pass of StatefulSet control (stateful_set_control.go updateStatefulSet): bring pods with
 * ordinals in [start, start+replicas) into existence at the right revision, remove the others,
 * then roll pods that are not at the update revision — highest ordinal first, down to the
 * partition, one at a time, each waiting for the previous to be Running and Ready.
 *
 * OrderedReady ("monotonic") creates in ordinal order and stops at the first pod that is not yet
 * Running and available, and scales down from the highest ordinal one pod at a time; Parallel
 * does both eagerly. Failed (and Succeeded) pods are deleted and recreated.
 */
import type { KubeObject } from '../../api/types.ts';
import { newStatefulSetPod, ordinalOf, podRevision, startOrdinal } from './identity.ts';

export interface StatefulPodControl {
  /** Create the pod's claims (if missing), then the pod. Returns the created pod. */
  createPod(set: KubeObject, pod: KubeObject): Promise<KubeObject>;
  deletePod(set: KubeObject, pod: KubeObject): Promise<void>;
  /** Fix identity labels, missing claims and claim retention owners; no-op when all match. */
  syncPod(set: KubeObject, pod: KubeObject): Promise<void>;
  now(): Date;
}

export interface StatefulSetStatus {
  observedGeneration?: number;
  replicas: number;
  readyReplicas: number;
  currentReplicas: number;
  updatedReplicas: number;
  availableReplicas: number;
  currentRevision: string;
  updateRevision: string;
  collisionCount: number;
}

export const isCreated = (pod: KubeObject): boolean => !!pod.status?.phase;
export const isTerminating = (pod: KubeObject): boolean => !!pod.metadata.deletionTimestamp;
const readyCondition = (pod: KubeObject): any => (pod.status?.conditions ?? []).find((c: any) => c.type === 'Ready');

export function isRunningAndReady(pod: KubeObject): boolean {
  return pod.status?.phase === 'Running' && readyCondition(pod)?.status === 'True';
}

/** Ready for at least minReadySeconds (by the Ready condition's lastTransitionTime). */
export function isRunningAndAvailable(pod: KubeObject, minReadySeconds: number, now: Date): boolean {
  if (!isRunningAndReady(pod)) return false;
  if (!minReadySeconds) return true;
  const since = Date.parse(readyCondition(pod)?.lastTransitionTime ?? '');
  return Number.isFinite(since) && since + minReadySeconds * 1000 <= now.getTime();
}

const isHealthy = (pod: KubeObject): boolean => isRunningAndReady(pod) && !isTerminating(pod);

/** The counts of status from a set of pods (computeReplicaStatus). */
export function replicaStatus(pods: KubeObject[], minReadySeconds: number, now: Date, current: string, update: string) {
  const s = { replicas: 0, readyReplicas: 0, availableReplicas: 0, currentReplicas: 0, updatedReplicas: 0 };
  for (const pod of pods) {
    if (isCreated(pod)) s.replicas++;
    if (isRunningAndReady(pod)) {
      s.readyReplicas++;
      if (isRunningAndAvailable(pod, minReadySeconds, now)) s.availableReplicas++;
    }
    if (isCreated(pod) && !isTerminating(pod)) {
      if (podRevision(pod) === current) s.currentReplicas++;
      if (podRevision(pod) === update) s.updatedReplicas++;
    }
  }
  return s;
}

export interface UpdateInput {
  set: KubeObject;
  /** The set with the current revision's template applied, and that revision's name. */
  currentSet: KubeObject;
  currentRevision: string;
  /** The set with the update revision's template applied, and that revision's name. */
  updateSet: KubeObject;
  updateRevision: string;
  pods: KubeObject[];
}

/** Runs one pass; returns the pods as they are afterwards (for status). */
export async function updateStatefulSet(ctl: StatefulPodControl, input: UpdateInput): Promise<KubeObject[]> {
  const { set, currentSet, updateSet, currentRevision, updateRevision } = input;
  const start = startOrdinal(set);
  const replicaCount = Number(set.spec?.replicas ?? 1);
  const minReadySeconds = Number(set.spec?.minReadySeconds ?? 0);
  const monotonic = set.spec?.podManagementPolicy !== 'Parallel';
  const now = ctl.now();

  const replicas: KubeObject[] = new Array(replicaCount);
  const condemned: KubeObject[] = [];
  for (const pod of input.pods) {
    const ord = ordinalOf(pod);
    if (ord >= start && ord < start + replicaCount) replicas[ord - start] = pod;
    else if (ord >= 0) condemned.push(pod);
  }

  // newVersionedStatefulSetPod: ordinals below the partition stay at the current revision.
  const partition = set.spec?.updateStrategy?.rollingUpdate ? Number(set.spec.updateStrategy.rollingUpdate.partition ?? 0) : undefined;
  const versioned = (ord: number): KubeObject => {
    const rolling = (currentSet.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
    const atCurrent =
      rolling && (partition === undefined ? ord < start + Number(set.status?.currentReplicas ?? 0) : ord < start + partition);
    return atCurrent ? newStatefulSetPod(currentSet, ord, currentRevision) : newStatefulSetPod(updateSet, ord, updateRevision);
  };
  for (let i = 0; i < replicaCount; i++) replicas[i] ??= versioned(start + i);
  condemned.sort((a, b) => ordinalOf(a) - ordinalOf(b));

  // The lowest-ordinal unhealthy pod may be scaled away even while unhealthy.
  let firstUnhealthy: KubeObject | undefined;
  for (const pod of [...replicas, ...condemned]) {
    if (!isHealthy(pod) && (!firstUnhealthy || ordinalOf(pod) < ordinalOf(firstUnhealthy))) firstUnhealthy = pod;
  }
  const result = (): KubeObject[] => [...replicas, ...condemned].filter(Boolean);

  if (set.metadata.deletionTimestamp) return result();

  for (let i = 0; i < replicaCount; i++) {
    let pod = replicas[i]!;
    // A pod that ran to completion (Failed, or Succeeded) is deleted and made again.
    if (isCreated(pod) && !isTerminating(pod) && (pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded')) {
      await ctl.deletePod(set, pod);
      pod = replicas[i] = versioned(start + i);
    }
    if (!isCreated(pod)) {
      replicas[i] = await ctl.createPod(set, pod);
      if (monotonic) return result();
      continue;
    }
    if (isTerminating(pod)) {
      if (monotonic) return result(); // wait for graceful deletion to finish
      continue;
    }
    if (monotonic && !isRunningAndAvailable(pod, minReadySeconds, now)) return result();
    await ctl.syncPod(updateSet, pod);
  }

  // Every replica is Running and Ready: scale down, highest ordinal first.
  for (let t = condemned.length - 1; t >= 0; t--) {
    const pod = condemned[t]!;
    if (isTerminating(pod)) {
      if (monotonic) return result();
      continue;
    }
    if (monotonic && !isRunningAndAvailable(pod, minReadySeconds, now) && pod !== firstUnhealthy) return result();
    await ctl.syncPod(set, pod); // claim owners for whenScaled=Delete before the pod goes
    await ctl.deletePod(set, pod);
    condemned.splice(t, 1);
    if (monotonic) return result();
  }

  if ((set.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'OnDelete') return result();

  // Rolling update: the highest ordinal not at the update revision goes first.
  const updateMin = partition ?? 0;
  for (let t = replicaCount - 1; t >= updateMin; t--) {
    const pod = replicas[t]!;
    if (podRevision(pod) !== updateRevision && !isTerminating(pod)) {
      await ctl.deletePod(set, pod);
      replicas[t] = versioned(start + t);
      return result();
    }
    if (!isHealthy(pod)) return result();
  }
  return result();
}
