/** What one Job sync works with (syncJobCtx), how it is gathered, and the controller services it uses. */
import type { KubeObject } from '../../api/types.ts';
import type { Client } from '../../client/client.ts';
import type { EventRecorder } from '../../client/event-recorder.ts';
import { isPodActive, isPodReady, type ControllerExpectations } from '../controller-utils.ts';
import type { PodControl } from '../pod-control.ts';
import { hasTrackingFinalizer, type JobCondition } from './conditions.ts';
import { isPodFailed, isPodTerminal, matchPodFailurePolicy, nextBackoffRecord, type BackoffRecord } from './failures.ts';
import { completionIndex, isIndexed, parseIndexes } from './indexes.ts';

export interface JobEnv {
  client: Client;
  recorder: EventRecorder;
  podControl: PodControl;
  expectations: ControllerExpectations;
  /** Pod uids whose tracking finalizer this controller removed and the cache has not shown yet. */
  finalizerRemovals(key: string): Set<string>;
  now(): Date;
  requeueAfter(key: string, ms: number): void;
  backoffBaseMs: number;
  backoffMaxMs: number;
}

export interface JobSync {
  key: string;
  /** The working copy; its status is what gets written. */
  job: KubeObject;
  pods: KubeObject[];
  active: KubeObject[];
  ready: number;
  terminating: number;
  /** status.uncountedTerminatedPods as the sync started. */
  uncounted: { succeeded: Set<string>; failed: Set<string> };
  expectedRmFinalizers: Set<string>;
  succeeded: number;
  failed: number;
  /** Indexed: completed indexes from status, and with this sync's successes. */
  prevSucceededIndexes: Set<number>;
  succeededIndexes: Set<number>;
  finished?: JobCondition;
  backoff: BackoffRecord;
}

/**
 * syncJobCtx: the pods' state and the counts including pods finished but not yet counted.
 * `removals` (finalizer removals not yet seen in the cache) is pruned of what the cache now shows.
 */
export function newJobSync(key: string, job: KubeObject, pods: KubeObject[], removals: Set<string>, backoff: BackoffRecord | undefined): JobSync {
  for (const uid of [...removals]) {
    const pod = pods.find((p) => p.metadata.uid === uid);
    if (!pod || !hasTrackingFinalizer(pod)) removals.delete(uid);
  }
  const active = pods.filter(isPodActive);
  const u = job.status.uncountedTerminatedPods ?? {};
  const s: JobSync = {
    key,
    job,
    pods,
    active,
    ready: active.filter(isPodReady).length,
    terminating: pods.filter((p) => p.metadata.deletionTimestamp && !isPodTerminal(p)).length,
    uncounted: { succeeded: new Set(u.succeeded ?? []), failed: new Set(u.failed ?? []) },
    expectedRmFinalizers: new Set(removals),
    succeeded: 0,
    failed: 0,
    prevSucceededIndexes: new Set(),
    succeededIndexes: new Set(),
    backoff: backoff ?? { failuresAfterLastSuccess: 0 },
  };
  const completions = Number(job.spec?.completions ?? 0);
  const fresh = pods.filter((p) => {
    if (!hasTrackingFinalizer(p) || s.expectedRmFinalizers.has(p.metadata.uid!)) return false;
    return !isIndexed(job) || (completionIndex(p) >= 0 && completionIndex(p) < completions);
  });
  const newSucceeded = fresh.filter((p) => p.status?.phase === 'Succeeded' && !s.uncounted.succeeded.has(p.metadata.uid!));
  const newFailed = fresh.filter((p) => isPodFailed(p, job) && !s.uncounted.failed.has(p.metadata.uid!));
  s.succeeded = Number(job.status.succeeded ?? 0) + newSucceeded.length + s.uncounted.succeeded.size;
  s.failed =
    Number(job.status.failed ?? 0) +
    newFailed.filter((p) => matchPodFailurePolicy(job.spec?.podFailurePolicy, p).countFailed).length +
    s.uncounted.failed.size;
  s.backoff = nextBackoffRecord(s.backoff, newSucceeded, newFailed);
  if (isIndexed(job)) {
    s.prevSucceededIndexes = new Set(parseIndexes(job.status.completedIndexes, completions));
    s.succeededIndexes = new Set(s.prevSucceededIndexes);
    for (const p of newSucceeded) s.succeededIndexes.add(completionIndex(p));
    s.succeeded = s.succeededIndexes.size;
  }
  return s;
}
