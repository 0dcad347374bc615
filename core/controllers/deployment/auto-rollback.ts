/**
 * Wheelhouse's promise beyond Kubernetes: a rollout that fails rolls itself back to the last
 * good revision — the newest older ReplicaSet whose rollout once completed (the controller marks
 * a ReplicaSet `wheelhouse.io/rollout-complete: <revision>` when its rollout completes).
 *
 * A rollout (the new ReplicaSet's current revision, not yet complete) has failed when
 * - its Progressing condition is False with ProgressDeadlineExceeded for this ReplicaSet, or
 * - at least half of the new ReplicaSet's active pods (and at least one) are failing, where a
 *   pod is failing when a container (or init container)
 *     · is waiting in CrashLoopBackOff, or
 *     · has restarted FAILING_THRESHOLDS.restartCount (3) times or more, or
 *     · has been waiting in ImagePullBackOff / ErrImagePull / CreateContainerConfigError /
 *       CreateContainerError for FAILING_THRESHOLDS.stuckSeconds (60 s) since the pod started
 *       (status.startTime, else creationTimestamp), or
 *     · is waiting with InvalidImageName (at once: it can never succeed).
 *
 * The rollback is `rollbackTo`'s patch (template and annotations of the target ReplicaSet) plus
 * the record `wheelhouse.io/last-auto-rollback: {"from":3,"to":2,"reason":"…","time":"…",
 * "failedHash":"…","toHash":"…"}` on the Deployment, and a Warning event `AutoRollback`
 * "rollout of revision 3 failed: 2 new pods in CrashLoopBackOff; rolled back to revision 2".
 *
 * No loops: while the Deployment's template is the failed one (re-applied) or the one rolled back
 * to, no further automatic rollback happens (a `RolloutFailed` event says why); the memory
 * (failedHash/toHash) is dropped once the template changes to anything else.
 * Off per Deployment with the annotation `wheelhouse.io/auto-rollback: "false"`, and globally with
 * `ControllerOptions.autoRollback = false`.
 */
import { isApiError } from '../../api/errors.ts';
import type { KubeObject } from '../../api/types.ts';
import { log } from '../../log.ts';
import type { ControllerOptions } from '../controller.ts';
import { filterActivePods, POD_TEMPLATE_HASH_LABEL, rfc3339, timeMs } from '../controller-utils.ts';
import { rollbackPatch } from './rollback.ts';
import {
  AUTO_ROLLBACK_ANNOTATION, byRevision, COMPONENT, DEPLOYMENT, deploymentComplete, getCondition, LAST_AUTO_ROLLBACK_ANNOTATION,
  REASON, REPLICASET, REVISION_ANNOTATION, revisionOf, ROLLOUT_COMPLETE_ANNOTATION, type Deployment, type ReplicaSet,
  type SyncContext,
} from './util.ts';

export const FAILING_THRESHOLDS = { restartCount: 3, stuckSeconds: 60 };

const STUCK_REASONS = new Set(['ImagePullBackOff', 'ErrImagePull', 'CreateContainerConfigError', 'CreateContainerError']);

export interface AutoRollbackRecord {
  from: number;
  to: number;
  reason: string;
  time: string;
  /** pod-template-hash of the failed template (dropped when the template changes again). */
  failedHash?: string;
  /** pod-template-hash of the template rolled back to (dropped likewise). */
  toHash?: string;
}

export function autoRollbackEnabled(d: Deployment, options: Pick<ControllerOptions, 'autoRollback'>): boolean {
  return options.autoRollback !== false && d.metadata.annotations?.[AUTO_ROLLBACK_ANNOTATION]?.trim().toLowerCase() !== 'false';
}

export function readRecord(d: Deployment): AutoRollbackRecord | undefined {
  const raw = d.metadata.annotations?.[LAST_AUTO_ROLLBACK_ANNOTATION];
  if (!raw) return undefined;
  try {
    const r = JSON.parse(raw);
    return r && typeof r === 'object' ? (r as AutoRollbackRecord) : undefined;
  } catch {
    return undefined;
  }
}

/** Why a pod counts as failing (a category label), or when to look again. */
export function podFailure(pod: KubeObject, now: Date): { category?: string; recheckMs?: number } {
  const statuses = [...((pod.status?.initContainerStatuses as any[]) ?? []), ...((pod.status?.containerStatuses as any[]) ?? [])];
  let recheckMs: number | undefined;
  let restarted = false;
  for (const c of statuses) {
    const waiting = c?.state?.waiting?.reason as string | undefined;
    if (waiting === 'CrashLoopBackOff') return { category: 'in CrashLoopBackOff' };
    if (waiting === 'InvalidImageName') return { category: 'with an invalid image name' };
    if (waiting && STUCK_REASONS.has(waiting)) {
      const since = timeMs(pod.status?.startTime) ?? timeMs(pod.metadata.creationTimestamp) ?? now.getTime();
      const due = since + FAILING_THRESHOLDS.stuckSeconds * 1000 - now.getTime();
      if (due <= 0) return { category: `in ${waiting} for over ${FAILING_THRESHOLDS.stuckSeconds}s` };
      recheckMs = Math.min(recheckMs ?? Infinity, due);
    }
    if ((Number(c?.restartCount) || 0) >= FAILING_THRESHOLDS.restartCount) restarted = true;
  }
  if (restarted) return { category: `restarted ${FAILING_THRESHOLDS.restartCount} or more times` };
  return { recheckMs };
}

/** Whether the new ReplicaSet's rollout has failed, and why ("2 new pods in CrashLoopBackOff"). */
export function detectRolloutFailure(d: Deployment, newRS: ReplicaSet, newPods: KubeObject[], now: Date): { why?: string; recheckMs?: number } {
  const cond = getCondition(d.status, 'Progressing');
  if (cond?.status === 'False' && cond.reason === REASON.timedOut && cond.message?.includes(`"${newRS.metadata.name}"`)) {
    return { why: `progress deadline of ${d.spec?.progressDeadlineSeconds}s exceeded` };
  }
  const active = filterActivePods(newPods);
  const counts = new Map<string, number>();
  let failing = 0;
  let recheckMs: number | undefined;
  for (const pod of active) {
    const f = podFailure(pod, now);
    if (f.recheckMs !== undefined) recheckMs = Math.min(recheckMs ?? Infinity, f.recheckMs);
    if (!f.category) continue;
    failing++;
    counts.set(f.category, (counts.get(f.category) ?? 0) + 1);
  }
  if (failing === 0 || failing < Math.ceil(active.length / 2)) return { recheckMs };
  const why = [...counts].map(([category, n]) => `${n} new ${n === 1 ? 'pod' : 'pods'} ${category}`).join(', ');
  return { why };
}

/** The newest older ReplicaSet whose rollout once completed. */
export function lastGoodReplicaSet(oldRSs: ReplicaSet[]): ReplicaSet | undefined {
  return oldRSs
    .filter((rs) => !rs.metadata.deletionTimestamp && rs.metadata.annotations?.[ROLLOUT_COMPLETE_ANNOTATION] && !Number.isNaN(revisionOf(rs)))
    .sort(byRevision)
    .pop();
}

const hashOf = (rs: ReplicaSet): string | undefined =>
  rs.metadata.labels?.[POD_TEMPLATE_HASH_LABEL] ?? rs.spec?.template?.metadata?.labels?.[POD_TEMPLATE_HASH_LABEL];

/**
 * After a sync: mark a completed rollout, or roll a failed one back. `reported` remembers the
 * rollouts already reported as failed (one event each). Throws to retry (e.g. the Deployment
 * changed under the rollback patch).
 */
export async function checkRollout(
  sc: SyncContext,
  d: Deployment,
  newRS: ReplicaSet | undefined,
  oldRSs: ReplicaSet[],
  newPods: KubeObject[],
  reported: Set<string>,
): Promise<void> {
  if (!newRS || d.metadata.deletionTimestamp || d.spec?.paused) return;
  const revision = newRS.metadata.annotations?.[REVISION_ANNOTATION];
  if (!revision || newRS.metadata.annotations?.[ROLLOUT_COMPLETE_ANNOTATION] === revision) return;
  const ns = d.metadata.namespace;
  const hash = hashOf(newRS);
  const record = readRecord(d);
  if (record && (record.failedHash || record.toHash) && hash !== record.failedHash && hash !== record.toHash) {
    // The template changed again: forget the failed revision.
    const { failedHash: _f, toHash: _t, ...rest } = record;
    await patchAnnotation(sc, d, LAST_AUTO_ROLLBACK_ANNOTATION, JSON.stringify(rest));
    delete record.failedHash;
    delete record.toHash;
  }
  if (deploymentComplete(d, d.status)) {
    await sc.client.patch({ ...REPLICASET, namespace: ns, name: newRS.metadata.name! }, 'merge', { metadata: { annotations: { [ROLLOUT_COMPLETE_ANNOTATION]: revision } } }, { fieldManager: COMPONENT });
    return;
  }

  const now = sc.now();
  const failure = detectRolloutFailure(d, newRS, newPods, now);
  if (failure.recheckMs !== undefined) sc.enqueueAfter(failure.recheckMs + 1000);
  if (!failure.why) return;
  const from = revisionOf(newRS);
  const base = `rollout of revision ${from} failed: ${failure.why}`;
  const once = (message: string) => {
    const id = `${d.metadata.uid}/${hash}/${from}`;
    if (reported.has(id)) return;
    if (reported.size >= 4096) reported.clear(); // worst case: one more event per failed rollout
    reported.add(id);
    sc.recorder.event(d, 'Warning', 'RolloutFailed', message);
  };
  if (!autoRollbackEnabled(d, sc.options)) return once(`${base}; automatic rollback is off`);
  if (record && hash === record.failedHash) return once(`${base}; not rolled back again: this template already failed once`);
  if (record && hash === record.toHash) return once(`${base}; not rolled back again: this revision is an automatic rollback`);
  const target = lastGoodReplicaSet(oldRSs);
  if (!target) return once(`${base}; no earlier revision that was fully available to roll back to`);

  const to = revisionOf(target);
  const next: AutoRollbackRecord = { from, to, reason: failure.why, time: rfc3339(now), failedHash: hash, toHash: hashOf(target) };
  await sc.client.patch(
    { ...DEPLOYMENT, namespace: ns, name: d.metadata.name! },
    'json',
    rollbackPatch(d, target, { [LAST_AUTO_ROLLBACK_ANNOTATION]: JSON.stringify(next) }),
    { fieldManager: COMPONENT },
  );
  reported.add(`${d.metadata.uid}/${hash}/${from}`);
  sc.recorder.event(d, 'Warning', 'AutoRollback', `${base}; rolled back to revision ${to}`);
  log.warn('rollout failed; rolled back', { deployment: `${ns}/${d.metadata.name}`, from, to, reason: failure.why });
}

/** Set one annotation, guarded by the Deployment's resourceVersion. */
async function patchAnnotation(sc: SyncContext, d: Deployment, key: string, value: string): Promise<void> {
  const ops: unknown[] = [];
  if (d.metadata.resourceVersion) ops.push({ op: 'test', path: '/metadata/resourceVersion', value: d.metadata.resourceVersion });
  if (!d.metadata.annotations) ops.push({ op: 'add', path: '/metadata/annotations', value: {} });
  ops.push({ op: 'add', path: `/metadata/annotations/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`, value });
  try {
    const res = await sc.client.patch({ ...DEPLOYMENT, namespace: d.metadata.namespace, name: d.metadata.name! }, 'json', ops, { fieldManager: COMPONENT });
    (d.metadata.annotations ??= {})[key] = value;
    d.metadata.resourceVersion = res.metadata.resourceVersion;
  } catch (e) {
    if (isApiError(e, 'NotFound')) return;
    throw e;
  }
}
