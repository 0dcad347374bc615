/**
 * trackJobStatusAndRemoveFinalizers, as Kubernetes' Job controller: a finished pod keeps the
 * `batch.kubernetes.io/job-tracking` finalizer until it is counted, so no success or failure is
 * lost to a pod deleted early or to a crash between writes:
 *
 *  1. finished pods' uids go into `status.uncountedTerminatedPods` (Indexed: the index straight
 *     into `completedIndexes`), and the interim FailureTarget / SuccessCriteriaMet condition is
 *     added — flushed to the API first;
 *  2. their finalizers are removed;
 *  3. uids whose pod no longer has the finalizer move from uncounted to `succeeded` / `failed`;
 *  4. once nothing is uncounted or terminating, the final Complete / Failed condition is set.
 */
import { isApiError } from '../../api/errors.ts';
import type { KubeObject } from '../../api/types.ts';
import { ensureCondition, findCondition, hasTrackingFinalizer, JOB_TRACKING_FINALIZER, newCondition } from './conditions.ts';
import type { JobEnv, JobSync } from './context.ts';
import { isPodFailed, matchPodFailurePolicy } from './failures.ts';
import { completionIndex, formatIndexes, isIndexed } from './indexes.ts';

/** MaxUncountedPods: at most this many pods are counted per sync. */
const MAX_UNCOUNTED = 500;

/** An int32 status counter, omitted when zero (omitempty). */
export function setCount(status: any, field: string, n: number): void {
  if (n) status[field] = n;
  else delete status[field];
}

interface Uncounted {
  succeeded: string[];
  failed: string[];
}

/** cleanUncountedPodsWithoutFinalizers: uids whose pod lost the finalizer are counted now. */
function cleanUncounted(status: any, uncounted: Uncounted, withFinalizer: Set<string>): boolean {
  let changed = false;
  for (const kind of ['succeeded', 'failed'] as const) {
    const keep = uncounted[kind].filter((uid) => withFinalizer.has(uid));
    if (keep.length === uncounted[kind].length) continue;
    changed = true;
    setCount(status, kind, Number(status[kind] ?? 0) + uncounted[kind].length - keep.length);
    uncounted[kind] = keep;
  }
  return changed;
}

function writeUncounted(status: any, u: Uncounted): void {
  status.uncountedTerminatedPods = {
    ...(u.succeeded.length ? { succeeded: [...u.succeeded] } : {}),
    ...(u.failed.length ? { failed: [...u.failed] } : {}),
  };
}

/** Remove the tracking finalizer (a strategic patch, so other finalizers are untouched). */
export async function removeTrackingFinalizer(env: JobEnv, pod: KubeObject): Promise<void> {
  if (!hasTrackingFinalizer(pod)) return;
  try {
    await env.client.patch(
      { apiVersion: 'v1', kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name! },
      'strategic',
      { metadata: { [`$deleteFromPrimitiveList/finalizers`]: [JOB_TRACKING_FINALIZER] } },
      { fieldManager: 'job-controller' },
    );
  } catch (e) {
    if (!isApiError(e, 'NotFound')) throw e;
  }
}

/**
 * Count finished pods, remove their finalizers, and finish the Job when it is done. Writes the
 * status when `needsFlush` or anything changed; `onFlushed` runs after the first write (the
 * backoff record is kept only once the failures it counts are recorded). Returns the Job as
 * last written.
 */
export async function trackJobStatusAndRemoveFinalizers(env: JobEnv, s: JobSync, needsFlush: boolean, onFlushed: () => void): Promise<KubeObject> {
  let job = s.job;
  const indexed = isIndexed(job);
  const completions = Number(job.spec?.completions ?? 0);
  const uncounted: Uncounted = {
    succeeded: [...(job.status.uncountedTerminatedPods?.succeeded ?? [])],
    failed: [...(job.status.uncountedTerminatedPods?.failed ?? [])],
  };
  const withFinalizer = new Set(s.pods.filter((p) => hasTrackingFinalizer(p) && !s.expectedRmFinalizers.has(p.metadata.uid!)).map((p) => p.metadata.uid!));
  if (cleanUncounted(job.status, uncounted, withFinalizer)) needsFlush = true;

  const toRemove: KubeObject[] = [];
  const newIndexes: number[] = [];
  let reachedMax = false;
  const pods = indexed ? [...s.pods].sort((a, b) => completionIndex(a) - completionIndex(b)) : s.pods;
  for (const pod of pods) {
    const uid = pod.metadata.uid!;
    if (!hasTrackingFinalizer(pod) || s.expectedRmFinalizers.has(uid)) continue;
    const failed = isPodFailed(pod, job);
    if (!(job.metadata.deletionTimestamp || s.finished || pod.status?.phase === 'Succeeded' || failed)) continue;
    toRemove.push(pod);
    if (pod.status?.phase === 'Succeeded' && !s.uncounted.failed.has(uid)) {
      if (indexed) {
        const ix = completionIndex(pod);
        if (ix >= 0 && ix < completions && !s.prevSucceededIndexes.has(ix)) {
          newIndexes.push(ix);
          needsFlush = true;
        }
      } else if (!s.uncounted.succeeded.has(uid)) {
        uncounted.succeeded.push(uid);
        needsFlush = true;
      }
    } else if (failed || (s.finished && s.finished.type !== 'SuccessCriteriaMet')) {
      // When the job is finished, every pod still running counts as failed.
      const ix = completionIndex(pod);
      if (!s.uncounted.failed.has(uid) && (!indexed || (ix >= 0 && ix < completions))) {
        if (matchPodFailurePolicy(job.spec?.podFailurePolicy, pod).countFailed) uncounted.failed.push(uid);
        needsFlush = true;
      }
    }
    if (newIndexes.length + uncounted.succeeded.length + uncounted.failed.length >= MAX_UNCOUNTED) {
      reachedMax = true;
      break;
    }
  }
  if (indexed) {
    for (const ix of newIndexes) s.succeededIndexes.add(ix);
    const str = formatIndexes(s.succeededIndexes);
    if (str !== (job.status.completedIndexes ?? '')) needsFlush = true;
    if (str) job.status.completedIndexes = str;
    else delete job.status.completedIndexes;
    setCount(job.status, 'succeeded', s.succeededIndexes.size);
  }
  const now = env.now();
  if (s.finished?.type === 'FailureTarget') {
    // The interim condition records the reason before the pods (and their finalizers) go.
    (job.status.conditions ??= []).push(s.finished);
    needsFlush = true;
    s.finished = newCondition('Failed', 'True', s.finished.reason, s.finished.message, now);
  }
  if (s.finished?.type === 'SuccessCriteriaMet') {
    if (!findCondition(job, 'SuccessCriteriaMet')) {
      (job.status.conditions ??= []).push(s.finished);
      needsFlush = true;
    }
    s.finished = newCondition('Complete', 'True', s.finished.reason, s.finished.message, now);
  }
  writeUncounted(job.status, uncounted);

  if (needsFlush) {
    job = await env.client.updateStatus(job);
    onFlushed();
    needsFlush = false;
  }
  const removals = env.finalizerRemovals(s.key);
  const errors: unknown[] = [];
  await Promise.all(
    toRemove.map(async (pod) => {
      try {
        await removeTrackingFinalizer(env, pod);
        removals.add(pod.metadata.uid!);
        withFinalizer.delete(pod.metadata.uid!);
      } catch (e) {
        errors.push(e);
      }
    }),
  );
  if (cleanUncounted(job.status, uncounted, withFinalizer)) needsFlush = true;
  writeUncounted(job.status, uncounted);

  let finished = false;
  if (!reachedMax && s.finished && !uncounted.succeeded.length && !uncounted.failed.length && s.terminating <= 0) {
    finished = true;
    ensureCondition(job, s.finished.type, 'True', s.finished.reason, s.finished.message, now);
    if (s.finished.type === 'Complete') job.status.completionTime = findCondition(job, 'Complete')!.lastTransitionTime;
  }
  if (needsFlush || finished) {
    job = await env.client.updateStatus(job);
    if (finished) recordFinished(env, job, s.finished!);
  }
  if (errors.length) throw errors[0];
  return job;
}

function recordFinished(env: JobEnv, job: KubeObject, cond: { type: string; reason: string; message: string }): void {
  if (cond.type === 'Complete') {
    const completions = job.spec?.completions;
    if (completions != null && Number(job.status?.succeeded ?? 0) > completions) {
      env.recorder.event(job, 'Warning', 'TooManySucceededPods', 'Too many succeeded pods running after completion count reached');
    }
    env.recorder.event(job, 'Normal', 'Completed', 'Job completed');
  } else {
    env.recorder.event(job, 'Warning', cond.reason, cond.message);
  }
}
