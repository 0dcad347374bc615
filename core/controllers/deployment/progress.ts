/**
 * Deployment status and progress as Kubernetes computes them (deployment/progress.go, sync.go):
 * replica counts over all ReplicaSets, the Available condition (MinimumReplicasAvailable /
 * MinimumReplicasUnavailable), the Progressing condition (NewReplicaSetCreated,
 * FoundNewReplicaSet, ReplicaSetUpdated, NewReplicaSetAvailable, ProgressDeadlineExceeded,
 * DeploymentPaused / DeploymentResumed), ReplicaFailure copied from the ReplicaSets, and a
 * resync when the progress deadline comes due.
 */
import { isDeepStrictEqual } from 'node:util';
import {
  actualReplicaCount, availableReplicaCount, COMPONENT, deploymentComplete, deploymentProgressing, deploymentTimedOut,
  getCondition, hasProgressDeadline, maxUnavailable, newCondition, readyReplicaCount, REASON, removeCondition, replicaCount,
  replicasOf, setCondition, type Condition, type Deployment, type ReplicaSet, type SyncContext,
} from './util.ts';
import { timeMs } from '../controller-utils.ts';

const COUNTS = ['observedGeneration', 'replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas'];

/** Status as stored: zero counts omitted (Go's omitempty), so equal statuses compare equal. */
export function compactStatus(status: any): any {
  const out: any = {};
  for (const k of COUNTS) if (status?.[k]) out[k] = status[k];
  if (status?.conditions?.length) out.conditions = status.conditions;
  if (status?.collisionCount !== undefined && status?.collisionCount !== null) out.collisionCount = status.collisionCount;
  return out;
}

export function sameStatus(a: any, b: any): boolean {
  return isDeepStrictEqual(compactStatus(a), compactStatus(b));
}

/** Write `d.status` through the status subresource, keeping `d`'s resourceVersion current. */
export async function writeStatus(sc: SyncContext, d: Deployment): Promise<void> {
  d.status = compactStatus(d.status);
  const res = await sc.client.updateStatus(d, { fieldManager: COMPONENT });
  d.metadata.resourceVersion = res.metadata.resourceVersion;
}

/** calculateStatus: counts over every ReplicaSet and the Available condition. */
export function calculateStatus(sc: SyncContext, allRSs: (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined, d: Deployment): any {
  const available = availableReplicaCount(allRSs);
  const total = replicaCount(allRSs);
  const status: any = {
    observedGeneration: d.metadata.generation,
    replicas: actualReplicaCount(allRSs),
    updatedReplicas: actualReplicaCount([newRS]),
    readyReplicas: readyReplicaCount(allRSs),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, total - available),
    collisionCount: d.status?.collisionCount,
    conditions: structuredClone(d.status?.conditions ?? []),
  };
  if (available >= replicasOf(d) - maxUnavailable(d)) {
    setCondition(status, newCondition('Available', 'True', REASON.minAvailable, 'Deployment has minimum availability.', sc.now()));
  } else {
    setCondition(status, newCondition('Available', 'False', REASON.minUnavailable, 'Deployment does not have minimum availability.', sc.now()));
  }
  return compactStatus(status);
}

/** syncDeploymentStatus: write the calculated status when it changed (scaling, paused, deleting). */
export async function syncDeploymentStatus(sc: SyncContext, allRSs: (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined, d: Deployment): Promise<void> {
  const status = calculateStatus(sc, allRSs, newRS, d);
  if (sameStatus(d.status, status)) return;
  d.status = status;
  await writeStatus(sc, d);
}

/** ReplicaFailure conditions of the new ReplicaSet, else of any other, as Deployment conditions. */
function replicaFailures(allRSs: (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined): Condition[] {
  const of = (rs: ReplicaSet | undefined): Condition[] =>
    ((rs?.status?.conditions as any[] | undefined) ?? [])
      .filter((c) => c.type === 'ReplicaFailure')
      .map((c) => ({
        type: 'ReplicaFailure',
        status: c.status,
        lastUpdateTime: c.lastTransitionTime,
        lastTransitionTime: c.lastTransitionTime,
        reason: c.reason,
        message: c.message,
      }));
  const fromNew = of(newRS);
  return fromNew.length ? fromNew : allRSs.flatMap(of);
}

/** syncRolloutStatus: status plus the Progressing condition; leaves the result in `d.status`. */
export async function syncRolloutStatus(sc: SyncContext, allRSs: (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined, d: Deployment): Promise<void> {
  const status = calculateStatus(sc, allRSs, newRS, d);
  const now = sc.now();
  if (!hasProgressDeadline(d)) removeCondition(status, 'Progressing');
  const current = getCondition(d.status, 'Progressing');
  const isComplete = status.replicas === status.updatedReplicas && current?.reason === REASON.newRSAvailable;
  if (hasProgressDeadline(d) && !isComplete) {
    if (deploymentComplete(d, status)) {
      const msg = newRS ? `ReplicaSet "${newRS.metadata.name}" has successfully progressed.` : `Deployment "${d.metadata.name}" has successfully progressed.`;
      setCondition(status, newCondition('Progressing', 'True', REASON.newRSAvailable, msg, now));
    } else if (deploymentProgressing(d, status)) {
      const msg = newRS ? `ReplicaSet "${newRS.metadata.name}" is progressing.` : `Deployment "${d.metadata.name}" is progressing.`;
      const cond = newCondition('Progressing', 'True', REASON.rsUpdated, msg, now);
      // Progress moves lastUpdateTime even when the reason stays the same.
      if (current) {
        if (current.status === 'True') cond.lastTransitionTime = current.lastTransitionTime;
        removeCondition(status, 'Progressing');
        status.conditions ??= [];
      }
      setCondition(status, cond);
    } else if (deploymentTimedOut(d, status, now)) {
      const msg = newRS ? `ReplicaSet "${newRS.metadata.name}" has timed out progressing.` : `Deployment "${d.metadata.name}" has timed out progressing.`;
      setCondition(status, newCondition('Progressing', 'False', REASON.timedOut, msg, now));
    }
  }
  const failures = replicaFailures(allRSs, newRS);
  if (failures.length) setCondition(status, failures[0]!);
  else removeCondition(status, 'ReplicaFailure');

  const next = compactStatus(status);
  if (sameStatus(d.status, next)) {
    requeueStuckDeployment(sc, d, next);
    return;
  }
  d.status = next;
  await writeStatus(sc, d);
}

/** requeueStuckDeployment: look again when the progress deadline comes due. */
function requeueStuckDeployment(sc: SyncContext, d: Deployment, status: any): void {
  const cond = getCondition(d.status, 'Progressing');
  if (!hasProgressDeadline(d) || !cond || deploymentComplete(d, status) || cond.reason === REASON.timedOut) return;
  const from = timeMs(cond.lastUpdateTime);
  if (from === undefined) return;
  const after = from + d.spec.progressDeadlineSeconds * 1000 - sc.now().getTime();
  if (after < 1000) sc.enqueueRateLimited();
  else sc.enqueueAfter(after + 1000);
}

/** checkPausedConditions: Progressing=Unknown DeploymentPaused / DeploymentResumed. */
export async function checkPausedConditions(sc: SyncContext, d: Deployment): Promise<void> {
  if (!hasProgressDeadline(d)) return;
  const cond = getCondition(d.status, 'Progressing');
  if (cond?.reason === REASON.timedOut) return; // a reported lack of progress is not overwritten
  const pausedCond = cond?.reason === REASON.paused;
  let message: string | undefined;
  if (d.spec?.paused && !pausedCond) message = 'Deployment is paused';
  else if (!d.spec?.paused && pausedCond) message = 'Deployment is resumed';
  if (!message) return;
  d.status ??= {};
  const reason = d.spec?.paused ? REASON.paused : REASON.resumed;
  setCondition(d.status, newCondition('Progressing', 'Unknown', reason, message, sc.now()));
  await writeStatus(sc, d);
}
