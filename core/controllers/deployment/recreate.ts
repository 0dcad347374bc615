/**
 * Recreate (deployment/recreate.go): scale every old ReplicaSet to 0, wait until none of their
 * pods is left (terminating pods included), and only then create/scale up the new one — never
 * two versions running at once.
 */
import type { KubeObject } from '../../api/types.ts';
import { cleanupDeployment } from './history.ts';
import { syncRolloutStatus } from './progress.ts';
import { getAllReplicaSetsAndSyncRevision, scaleReplicaSetAndRecordEvent } from './sync.ts';
import {
  actualReplicaCount, deploymentComplete, filterActiveReplicaSets, replicasOf, type Deployment, type ReplicaSet, type SyncContext,
} from './util.ts';

/** Pods of the Deployment's ReplicaSets, by ReplicaSet uid. */
export type PodMap = Map<string, KubeObject[]>;

export async function rolloutRecreate(sc: SyncContext, d: Deployment, rsList: ReplicaSet[], podMap: PodMap): Promise<{ newRS?: ReplicaSet; oldRSs: ReplicaSet[] }> {
  let { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(sc, d, rsList, false);
  let allRSs = [...oldRSs, newRS];
  let scaledDown = false;
  for (const rs of filterActiveReplicaSets(oldRSs)) {
    if ((await scaleReplicaSetAndRecordEvent(sc, rs, 0, d)).scaled) scaledDown = true;
  }
  if (scaledDown || oldPodsRunning(newRS, oldRSs, podMap)) {
    await syncRolloutStatus(sc, allRSs, newRS, d);
    return { newRS, oldRSs };
  }
  if (!newRS) {
    ({ newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(sc, d, rsList, true));
    allRSs = [...oldRSs, newRS];
  }
  await scaleReplicaSetAndRecordEvent(sc, newRS!, replicasOf(d), d);
  if (deploymentComplete(d, d.status)) await cleanupDeployment(sc, oldRSs, d);
  await syncRolloutStatus(sc, allRSs, newRS, d);
  return { newRS, oldRSs };
}

/** oldPodsRunning: any old ReplicaSet still counts pods, or has a pod that is not terminated. */
export function oldPodsRunning(newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[], podMap: PodMap): boolean {
  if (actualReplicaCount(oldRSs) > 0) return true;
  for (const [uid, pods] of podMap) {
    if (newRS && newRS.metadata.uid === uid) continue;
    for (const pod of pods) {
      const phase = pod.status?.phase;
      if (phase !== 'Failed' && phase !== 'Succeeded') return true;
    }
  }
  return false;
}
