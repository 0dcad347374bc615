/**
 * manageJob, as Kubernetes': keep min(parallelism, remaining completions) pods active — deleting
 * the least valuable surplus (for Indexed Jobs first duplicates and out-of-range indexes), or
 * creating the missing ones in slow-start batches with the tracking finalizer, after the
 * pod-failure backoff. A suspended Job has its active pods deleted. Pods this controller removes
 * itself lose their finalizer first, so they are not counted as failures.
 */
import { isApiError } from '../../api/errors.ts';
import type { KubeObject } from '../../api/types.ts';
import { isPodReady, podsToDelete, slowStartBatch } from '../controller-utils.ts';
import { keyOf } from '../informer.ts';
import { JOB_TRACKING_FINALIZER } from './conditions.ts';
import type { JobEnv, JobSync } from './context.ts';
import { onlyReplaceFailedPods, remainingBackoffMs } from './failures.ts';
import { addCompletionIndexEnv, COMPLETION_INDEX, duplicatedIndexPods, firstPendingIndexes, generateNameWithIndex, isIndexed } from './indexes.ts';
import { removeTrackingFinalizer } from './tracking.ts';

/** MaxPodCreateDeletePerSync. */
const MAX_PER_SYNC = 500;

export const isSuspended = (job: KubeObject): boolean => job.spec?.suspend === true;

/** activePodsForRemoval: duplicates/invalid indexes first, then the ActivePods ranking. */
function activePodsForRemoval(job: KubeObject, pods: KubeObject[], rmAtLeast: number, now: Date): KubeObject[] {
  let rm: KubeObject[] = [];
  let left = pods;
  if (isIndexed(job)) ({ rm, left } = duplicatedIndexPods(pods, Number(job.spec?.completions ?? 0), now));
  if (rm.length < rmAtLeast) rm = [...rm, ...podsToDelete(left, [], rmAtLeast - rm.length, now)];
  return rm;
}

/** deleteJobPods: finalizer off, then delete. Returns how many went (and how many were ready). */
async function deleteJobPods(env: JobEnv, s: JobSync, pods: KubeObject[]): Promise<{ removed: number; ready: number; error?: unknown }> {
  env.expectations.expectDeletions(s.key, pods.map(keyOf));
  let removed = 0;
  let ready = 0;
  let error: unknown;
  await Promise.all(
    pods.map(async (pod) => {
      try {
        await removeTrackingFinalizer(env, pod);
        await env.podControl.deletePod(pod.metadata.namespace!, pod.metadata.name!, s.job);
        removed++;
        if (isPodReady(pod)) ready++;
      } catch (e) {
        env.expectations.deletionObserved(s.key, keyOf(pod));
        if (isApiError(e, 'NotFound')) removed++;
        else error ??= e;
      }
    }),
  );
  return { removed, ready, error };
}

/** deleteActivePods (the Job finished): delete, keeping the finalizers so the pods get counted. */
export async function deleteActivePods(env: JobEnv, s: JobSync): Promise<{ removed: number; ready: number; error?: unknown }> {
  let removed = 0;
  let ready = 0;
  let error: unknown;
  await Promise.all(
    s.active.map(async (pod) => {
      try {
        await env.podControl.deletePod(pod.metadata.namespace!, pod.metadata.name!, s.job);
      } catch (e) {
        if (!isApiError(e, 'NotFound')) {
          error ??= e;
          return;
        }
      }
      removed++;
      if (isPodReady(pod)) ready++;
    }),
  );
  return { removed, ready, error };
}

/** Returns the number of active pods afterwards (and the first error, if any). */
export async function manageJob(env: JobEnv, s: JobSync): Promise<{ active: number; error?: unknown }> {
  const job = s.job;
  const now = env.now();
  let active = s.active.length;
  const parallelism = Number(job.spec?.parallelism ?? 1);

  if (isSuspended(job)) {
    const r = await deleteJobPods(env, s, activePodsForRemoval(job, s.active, active, now));
    s.terminating += r.removed;
    s.ready -= r.ready;
    return { active: active - r.removed, error: r.error };
  }

  let want: number;
  if (job.spec?.completions == null) want = s.succeeded > 0 ? active : parallelism;
  else want = Math.max(0, Math.min(parallelism, Number(job.spec.completions) - s.succeeded));

  const surplus = activePodsForRemoval(job, s.active, Math.max(0, active - want), now).slice(0, MAX_PER_SYNC);
  if (surplus.length) {
    const r = await deleteJobPods(env, s, surplus);
    s.terminating += r.removed;
    s.ready -= r.ready;
    return { active: active - r.removed, error: r.error };
  }

  const terminating = onlyReplaceFailedPods(job) ? s.terminating : 0;
  let diff = want - terminating - active;
  if (diff <= 0) return { active };
  const wait = remainingBackoffMs(s.backoff, now.getTime(), env.backoffBaseMs, env.backoffMaxMs);
  if (wait > 0) {
    env.requeueAfter(s.key, wait);
    return { active };
  }
  diff = Math.min(diff, MAX_PER_SYNC);
  let indexes: number[] = [];
  if (isIndexed(job)) {
    indexes = firstPendingIndexes(s.succeededIndexes, s.active, diff, Number(job.spec.completions));
    diff = indexes.length;
    if (!diff) return { active };
  }
  const template = structuredClone(job.spec?.template ?? {});
  template.metadata ??= {};
  template.spec ??= {};
  if (isIndexed(job)) addCompletionIndexEnv(template.spec);
  const finalizers: string[] = template.metadata.finalizers ?? [];
  if (!finalizers.includes(JOB_TRACKING_FINALIZER)) template.metadata.finalizers = [...finalizers, JOB_TRACKING_FINALIZER];

  env.expectations.expectCreations(s.key, diff);
  let next = 0;
  const { successes, error } = await slowStartBatch(diff, 1, () => {
    const ix = indexes[next++];
    if (ix === undefined) return env.podControl.createPod(template, job);
    const t = structuredClone(template);
    t.metadata.annotations = { ...(t.metadata.annotations ?? {}), [COMPLETION_INDEX]: String(ix) };
    t.metadata.labels = { ...(t.metadata.labels ?? {}), [COMPLETION_INDEX]: String(ix) };
    t.spec.hostname = `${job.metadata.name}-${ix}`;
    return env.podControl.createPod(t, job, { generateName: generateNameWithIndex(job.metadata.name!, ix) });
  });
  for (let i = successes; i < diff; i++) env.expectations.creationObserved(s.key);
  return { active: active + successes, error };
}
