/**
 * Deployment helpers as Kubernetes' pkg/controller/deployment/util: annotations, revisions,
 * maxSurge/maxUnavailable, new/old ReplicaSet lookup, replica sums, orderings, conditions.
 * Functions over plain JSON objects; nothing here writes.
 */
import type { KubeObject } from '../../api/types.ts';
import type { Client } from '../../client/client.ts';
import type { EventRecorder } from '../../client/event-recorder.ts';
import type { ControllerOptions } from '../controller.ts';
import { equalIgnoreHash, rfc3339, scaledValue, timeMs } from '../controller-utils.ts';

export type Deployment = KubeObject;
export type ReplicaSet = KubeObject;

export const DEPLOYMENT = { apiVersion: 'apps/v1', kind: 'Deployment' } as const;
export const REPLICASET = { apiVersion: 'apps/v1', kind: 'ReplicaSet' } as const;
export const COMPONENT = 'deployment-controller';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY_ANNOTATION = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/max-replicas';
export const CHANGE_CAUSE_ANNOTATION = 'kubernetes.io/change-cause';
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';
export const ROLLBACK_TO_ANNOTATION = 'deprecated.deployment.rollback.to';
/** Wheelhouse: `"false"` on a Deployment turns automatic rollback off for it. */
export const AUTO_ROLLBACK_ANNOTATION = 'wheelhouse.io/auto-rollback';
/** Wheelhouse: on a Deployment, the last automatic rollback as JSON (see AutoRollbackRecord). */
export const LAST_AUTO_ROLLBACK_ANNOTATION = 'wheelhouse.io/last-auto-rollback';
/** Wheelhouse: on a ReplicaSet, the revision at which its rollout completed (fully available). */
export const ROLLOUT_COMPLETE_ANNOTATION = 'wheelhouse.io/rollout-complete';
/** Longest revision-history annotation kept (Kubernetes' default --max-rev-history-length). */
export const MAX_REV_HISTORY_LENGTH_IN_CHARS = 2000;

/** Condition reasons (deploymentutil). */
export const REASON = {
  newRS: 'NewReplicaSetCreated',
  foundNewRS: 'FoundNewReplicaSet',
  rsUpdated: 'ReplicaSetUpdated',
  newRSAvailable: 'NewReplicaSetAvailable',
  timedOut: 'ProgressDeadlineExceeded',
  paused: 'DeploymentPaused',
  resumed: 'DeploymentResumed',
  failedRSCreate: 'ReplicaSetCreateError',
  minAvailable: 'MinimumReplicasAvailable',
  minUnavailable: 'MinimumReplicasUnavailable',
} as const;

/** What the sync helpers need from the controller for one Deployment key. */
export interface SyncContext {
  client: Client;
  recorder: EventRecorder;
  now(): Date;
  options: ControllerOptions;
  /** The informer's copy of a ReplicaSet (`namespace/name`). */
  cachedReplicaSet(key: string): ReplicaSet | undefined;
  /** Sync this Deployment again after `ms` (real time). */
  enqueueAfter(ms: number): void;
  enqueueRateLimited(): void;
}

export const replicasOf = (o: KubeObject): number => o.spec?.replicas ?? 1;
export const nameOf = (o: KubeObject): string => o.metadata.name!;
const statusReplicas = (rs: ReplicaSet): number => rs.status?.replicas ?? 0;

// ---- revisions -----------------------------------------------------------------------------

/** deploymentutil.Revision: the revision annotation as a number, NaN when absent/garbled. */
export function revisionOf(o: KubeObject): number {
  const v = o.metadata.annotations?.[REVISION_ANNOTATION];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : NaN;
}

export function maxRevision(list: readonly ReplicaSet[]): number {
  let max = 0;
  for (const rs of list) {
    const v = revisionOf(rs);
    if (v > max) max = v;
  }
  return max;
}

// ---- strategy ------------------------------------------------------------------------------

export function isRollingUpdate(d: Deployment): boolean {
  return (d.spec?.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
}

/** ResolveFenceposts: surge rounds up, unavailable rounds down; both 0 makes unavailable 1. */
export function resolveFenceposts(maxSurge: unknown, maxUnavailable: unknown, desired: number): { surge: number; unavailable: number } {
  const surge = scaledValue(maxSurge ?? 0, desired, true);
  let unavailable = scaledValue(maxUnavailable ?? 0, desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

function fenceposts(d: Deployment): { surge: number; unavailable: number } {
  const ru = d.spec?.strategy?.rollingUpdate ?? {};
  return resolveFenceposts(ru.maxSurge ?? '25%', ru.maxUnavailable ?? '25%', replicasOf(d));
}

export function maxSurge(d: Deployment): number {
  return isRollingUpdate(d) ? fenceposts(d).surge : 0;
}

export function maxUnavailable(d: Deployment): number {
  if (!isRollingUpdate(d) || replicasOf(d) === 0) return 0;
  return Math.min(fenceposts(d).unavailable, replicasOf(d));
}

// ---- new and old ReplicaSets ---------------------------------------------------------------

export function byCreation(a: ReplicaSet, b: ReplicaSet): number {
  const ta = timeMs(a.metadata.creationTimestamp) ?? 0;
  const tb = timeMs(b.metadata.creationTimestamp) ?? 0;
  if (ta !== tb) return ta - tb;
  return nameOf(a) < nameOf(b) ? -1 : nameOf(a) > nameOf(b) ? 1 : 0;
}

/** ReplicaSetsByRevision: oldest revision first, creation order breaking ties. */
export function byRevision(a: ReplicaSet, b: ReplicaSet): number {
  const ra = revisionOf(a) || 0;
  const rb = revisionOf(b) || 0;
  return ra !== rb ? ra - rb : byCreation(a, b);
}

/** ReplicaSetsBySizeNewer / BySizeOlder: larger first, then newer (or older) first. */
export function bySize(newerFirst: boolean) {
  return (a: ReplicaSet, b: ReplicaSet): number => {
    const d = replicasOf(b) - replicasOf(a);
    if (d) return d;
    return newerFirst ? byCreation(b, a) : byCreation(a, b);
  };
}

/** FindNewReplicaSet: the oldest ReplicaSet whose template equals the Deployment's. */
export function findNewReplicaSet(d: Deployment, list: readonly ReplicaSet[]): ReplicaSet | undefined {
  return [...list].sort(byCreation).find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template));
}

export function filterActiveReplicaSets(list: readonly (ReplicaSet | undefined)[]): ReplicaSet[] {
  return list.filter((rs): rs is ReplicaSet => !!rs && replicasOf(rs) > 0);
}

/** Sum of spec.replicas. */
export function replicaCount(list: readonly (ReplicaSet | undefined)[]): number {
  return list.reduce((n, rs) => n + (rs ? replicasOf(rs) : 0), 0);
}

/** Sum of status.replicas. */
export function actualReplicaCount(list: readonly (ReplicaSet | undefined)[]): number {
  return list.reduce((n, rs) => n + (rs ? statusReplicas(rs) : 0), 0);
}

export function readyReplicaCount(list: readonly (ReplicaSet | undefined)[]): number {
  return list.reduce((n, rs) => n + (rs?.status?.readyReplicas ?? 0), 0);
}

export function availableReplicaCount(list: readonly (ReplicaSet | undefined)[]): number {
  return list.reduce((n, rs) => n + (rs?.status?.availableReplicas ?? 0), 0);
}

/** FindActiveOrLatest: the only active ReplicaSet, or the latest when none is active. */
export function findActiveOrLatest(newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): ReplicaSet | undefined {
  if (!newRS && !oldRSs.length) return undefined;
  const old = [...oldRSs].sort(byCreation).reverse();
  const active = filterActiveReplicaSets([...old, newRS]);
  if (active.length === 0) return newRS ?? old[0];
  return active.length === 1 ? active[0] : undefined;
}

/** The desired-replicas annotation (undefined when missing or invalid). */
export function desiredReplicasAnnotation(rs: ReplicaSet): number | undefined {
  return intAnnotation(rs, DESIRED_REPLICAS_ANNOTATION);
}

export function maxReplicasAnnotation(rs: ReplicaSet): number | undefined {
  return intAnnotation(rs, MAX_REPLICAS_ANNOTATION);
}

function intAnnotation(rs: ReplicaSet, key: string): number | undefined {
  const v = rs.metadata.annotations?.[key];
  return v !== undefined && /^-?\d+$/.test(v) ? Number(v) : undefined;
}

/** SetReplicasAnnotations; true when something changed. */
export function setReplicasAnnotations(rs: ReplicaSet, desired: number, max: number): boolean {
  const a = (rs.metadata.annotations ??= {});
  let changed = false;
  if (a[DESIRED_REPLICAS_ANNOTATION] !== String(desired)) {
    a[DESIRED_REPLICAS_ANNOTATION] = String(desired);
    changed = true;
  }
  if (a[MAX_REPLICAS_ANNOTATION] !== String(max)) {
    a[MAX_REPLICAS_ANNOTATION] = String(max);
    changed = true;
  }
  return changed;
}

export function replicasAnnotationsNeedUpdate(rs: ReplicaSet, desired: number, max: number): boolean {
  const a = rs.metadata.annotations ?? {};
  return a[DESIRED_REPLICAS_ANNOTATION] !== String(desired) || a[MAX_REPLICAS_ANNOTATION] !== String(max);
}

/** IsSaturated: the ReplicaSet runs, and has available, all the Deployment's replicas. */
export function isSaturated(d: Deployment, rs: ReplicaSet | undefined): boolean {
  if (!rs) return false;
  const want = replicasOf(d);
  return desiredReplicasAnnotation(rs) === want && replicasOf(rs) === want && (rs.status?.availableReplicas ?? 0) === want;
}

// ---- conditions ----------------------------------------------------------------------------

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastUpdateTime?: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export function getCondition(status: any, type: string): Condition | undefined {
  return (status?.conditions as Condition[] | undefined)?.find((c) => c.type === type);
}

export function newCondition(type: string, status: Condition['status'], reason: string, message: string, now: Date): Condition {
  const t = rfc3339(now);
  return { type, status, lastUpdateTime: t, lastTransitionTime: t, reason, message };
}

/** SetDeploymentCondition: same status and reason is a no-op; same status keeps the transition time. */
export function setCondition(status: any, cond: Condition): void {
  const cur = getCondition(status, cond.type);
  if (cur && cur.status === cond.status && cur.reason === cond.reason) return;
  if (cur && cur.status === cond.status) cond.lastTransitionTime = cur.lastTransitionTime;
  status.conditions = [...((status.conditions as Condition[] | undefined) ?? []).filter((c) => c.type !== cond.type), cond];
}

export function removeCondition(status: any, type: string): void {
  if (!status?.conditions) return;
  status.conditions = (status.conditions as Condition[]).filter((c) => c.type !== type);
  if (!status.conditions.length) delete status.conditions;
}

export function hasProgressDeadline(d: Deployment): boolean {
  const p = d.spec?.progressDeadlineSeconds;
  return typeof p === 'number' && p !== 2147483647;
}

/** DeploymentComplete: every replica updated and available, and the latest spec observed. */
export function deploymentComplete(d: Deployment, status: any): boolean {
  const want = replicasOf(d);
  return (
    (status?.updatedReplicas ?? 0) === want &&
    (status?.replicas ?? 0) === want &&
    (status?.availableReplicas ?? 0) === want &&
    (status?.observedGeneration ?? 0) >= (d.metadata.generation ?? 0)
  );
}

/** DeploymentProgressing: more updated, fewer old, or more ready/available replicas than before. */
export function deploymentProgressing(d: Deployment, status: any): boolean {
  const old = d.status ?? {};
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (status.replicas ?? 0) - (status.updatedReplicas ?? 0);
  return (
    (status.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) ||
    newOld < oldOld ||
    (status.readyReplicas ?? 0) > (old.readyReplicas ?? 0) ||
    (status.availableReplicas ?? 0) > (old.availableReplicas ?? 0)
  );
}

/** DeploymentTimedOut: no progress for progressDeadlineSeconds since the condition's lastUpdateTime. */
export function deploymentTimedOut(d: Deployment, status: any, now: Date): boolean {
  if (!hasProgressDeadline(d)) return false;
  const cond = getCondition(status, 'Progressing');
  if (!cond || cond.reason === REASON.newRSAvailable) return false;
  if (cond.reason === REASON.timedOut) return true;
  const from = timeMs(cond.lastUpdateTime);
  if (from === undefined) return false;
  return from + d.spec.progressDeadlineSeconds * 1000 < now.getTime();
}
