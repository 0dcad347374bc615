/**
 * RollingUpdate (deployment/rolling.go): scale the new ReplicaSet up while the total stays within
 * replicas + maxSurge, and old ones down while available pods stay at least replicas −
 * maxUnavailable — counting availability from the ReplicaSets' status, so a rollout moves only
 * as fast as new pods become ready (and stay ready for minReadySeconds).
 */
import { cleanupDeployment } from './history.ts';
import { syncRolloutStatus } from './progress.ts';
import { getAllReplicaSetsAndSyncRevision, newRSNewReplicas, scaleReplicaSetAndRecordEvent } from './sync.ts';
import {
  availableReplicaCount, byCreation, deploymentComplete, filterActiveReplicaSets, maxUnavailable, replicaCount, replicasOf,
  type Deployment, type ReplicaSet, type SyncContext,
} from './util.ts';

export async function rolloutRolling(sc: SyncContext, d: Deployment, rsList: ReplicaSet[]): Promise<{ newRS?: ReplicaSet; oldRSs: ReplicaSet[] }> {
  const { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(sc, d, rsList, true);
  const allRSs = [...oldRSs, newRS];
  if (await reconcileNewReplicaSet(sc, allRSs, newRS!, d)) {
    await syncRolloutStatus(sc, allRSs, newRS, d);
    return { newRS, oldRSs };
  }
  if (await reconcileOldReplicaSets(sc, allRSs, filterActiveReplicaSets(oldRSs), newRS!, d)) {
    await syncRolloutStatus(sc, allRSs, newRS, d);
    return { newRS, oldRSs };
  }
  if (deploymentComplete(d, d.status)) await cleanupDeployment(sc, oldRSs, d);
  await syncRolloutStatus(sc, allRSs, newRS, d);
  return { newRS, oldRSs };
}

/** reconcileNewReplicaSet: true when the new ReplicaSet was scaled. */
async function reconcileNewReplicaSet(sc: SyncContext, allRSs: (ReplicaSet | undefined)[], newRS: ReplicaSet, d: Deployment): Promise<boolean> {
  const want = replicasOf(d);
  if (replicasOf(newRS) === want) return false;
  if (replicasOf(newRS) > want) return (await scaleReplicaSetAndRecordEvent(sc, newRS, want, d)).scaled;
  return (await scaleReplicaSetAndRecordEvent(sc, newRS, newRSNewReplicas(d, allRSs, newRS), d)).scaled;
}

/** reconcileOldReplicaSets: true when an old ReplicaSet was scaled down. */
async function reconcileOldReplicaSets(sc: SyncContext, allRSs: (ReplicaSet | undefined)[], oldRSs: ReplicaSet[], newRS: ReplicaSet, d: Deployment): Promise<boolean> {
  if (replicaCount(oldRSs) === 0) return false;
  const minAvailable = replicasOf(d) - maxUnavailable(d);
  const newUnavailable = replicasOf(newRS) - (newRS.status?.availableReplicas ?? 0);
  const maxScaledDown = replicaCount(allRSs) - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return false;
  // First the old pods that are not available anyway, then available ones down to minAvailable.
  const cleaned = await cleanupUnhealthyReplicas(sc, oldRSs, d, maxScaledDown);
  const scaledDown = await scaleDownOldReplicaSetsForRollingUpdate(sc, [...cleaned.oldRSs, newRS], cleaned.oldRSs, d);
  return cleaned.count + scaledDown > 0;
}

async function cleanupUnhealthyReplicas(sc: SyncContext, oldRSs: ReplicaSet[], d: Deployment, maxCleanup: number): Promise<{ oldRSs: ReplicaSet[]; count: number }> {
  const sorted = [...oldRSs].sort(byCreation);
  let total = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (total >= maxCleanup) break;
    const rs = sorted[i]!;
    const available = rs.status?.availableReplicas ?? 0;
    if (replicasOf(rs) === 0 || replicasOf(rs) === available) continue;
    const count = Math.min(maxCleanup - total, replicasOf(rs) - available);
    const next = replicasOf(rs) - count;
    if (next > replicasOf(rs)) throw new Error(`when cleaning up unhealthy replicas, got invalid request to scale down ${rs.metadata.namespace}/${rs.metadata.name} ${replicasOf(rs)} -> ${next}`);
    sorted[i] = (await scaleReplicaSetAndRecordEvent(sc, rs, next, d)).rs;
    total += count;
  }
  return { oldRSs: sorted, count: total };
}

async function scaleDownOldReplicaSetsForRollingUpdate(sc: SyncContext, allRSs: ReplicaSet[], oldRSs: ReplicaSet[], d: Deployment): Promise<number> {
  const minAvailable = replicasOf(d) - maxUnavailable(d);
  const available = availableReplicaCount(allRSs);
  if (available <= minAvailable) return 0;
  const toScaleDown = available - minAvailable;
  let total = 0;
  for (const rs of [...oldRSs].sort(byCreation)) {
    if (total >= toScaleDown) break;
    if (replicasOf(rs) === 0) continue;
    const count = Math.min(replicasOf(rs), toScaleDown - total);
    await scaleReplicaSetAndRecordEvent(sc, rs, replicasOf(rs) - count, d);
    total += count;
  }
  return total;
}
