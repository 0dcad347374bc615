/**
 * The Job controller, as Kubernetes' (pkg/controller/job): runs pods to `completions` with at
 * most `parallelism` at a time (NonIndexed, or Indexed with one success per completion index),
 * replaces failed pods after an exponential backoff (10 s doubling, capped) until `backoffLimit`
 * failures (Failed, BackoffLimitExceeded), stops at `activeDeadlineSeconds` (Failed,
 * DeadlineExceeded), honours `suspend` (pods deleted, Suspended condition) and the basics of
 * `podFailurePolicy` (Ignore / Count / FailJob). Pods carry the `batch.kubernetes.io/job-tracking`
 * finalizer until they are counted (see job/tracking.ts). Status: active, ready, terminating,
 * succeeded, failed, startTime, completionTime, completedIndexes, conditions with the interim
 * SuccessCriteriaMet / FailureTarget before Complete / Failed.
 *
 * ttlSecondsAfterFinished is the TTLAfterFinishedController's (job/ttl-after-finished.ts).
 */
import { isDeepStrictEqual } from 'node:util';
import { labelSelectorFromObject, type Selector } from '../api/selectors.ts';
import type { KubeObject } from '../api/types.ts';
import type { EventRecorder } from '../client/event-recorder.ts';
import { controllerOwnerKey, type Controller, type ControllerContext } from './controller.ts';
import { ControllerExpectations, rfc3339, timeMs } from './controller-utils.ts';
import { keyOf, splitKey, type Informer } from './informer.ts';
import { findCondition, hasTrackingFinalizer, isJobFinished, newCondition, ensureCondition } from './job/conditions.ts';
import { newJobSync, type JobEnv } from './job/context.ts';
import { isPodFailed, matchPodFailurePolicy, type BackoffRecord } from './job/failures.ts';
import { deleteActivePods, isSuspended, manageJob } from './job/manage.ts';
import { removeTrackingFinalizer, setCount, trackJobStatusAndRemoveFinalizers } from './job/tracking.ts';
import { claimObjects, getControllerOf, indexByControllerUid, PodControl, recheckOwner, resolveControllerRef } from './pod-control.ts';
import { WorkQueue } from './workqueue.ts';

export { TTLAfterFinishedController } from './job/ttl-after-finished.ts';

const JOB = { apiVersion: 'batch/v1', kind: 'Job' } as const;
const POD = { apiVersion: 'v1', kind: 'Pod' } as const;
const NAME = 'job-controller';

export interface JobControllerOptions {
  /** First pod-failure backoff (Kubernetes DefaultJobPodFailureBackOff: 10 s). */
  backoffBaseMs?: number;
  /** Backoff cap (Kubernetes documents six minutes). */
  backoffMaxMs?: number;
}

export class JobController implements Controller {
  readonly name = NAME;
  readonly queue = new WorkQueue({ name: NAME });
  private readonly jobs: Informer;
  private readonly pods: Informer;
  private readonly recorder: EventRecorder;
  private readonly expectations: ControllerExpectations;
  private readonly backoff = new Map<string, BackoffRecord>();
  private readonly removals = new Map<string, Set<string>>();
  private readonly env: JobEnv;

  constructor(
    private readonly ctx: ControllerContext,
    opts: JobControllerOptions = {},
  ) {
    this.jobs = ctx.informers.for(JOB);
    this.pods = ctx.informers.for(POD);
    indexByControllerUid(this.pods);
    this.recorder = ctx.recorder(NAME);
    this.expectations = new ControllerExpectations(() => ctx.now());
    this.env = {
      client: ctx.client,
      recorder: this.recorder,
      podControl: new PodControl(ctx.client, this.recorder, NAME),
      expectations: this.expectations,
      finalizerRemovals: (key) => {
        let s = this.removals.get(key);
        if (!s) this.removals.set(key, (s = new Set()));
        return s;
      },
      now: () => ctx.now(),
      requeueAfter: (key, ms) => this.queue.addAfter(key, ms),
      backoffBaseMs: opts.backoffBaseMs ?? 10_000,
      backoffMaxMs: opts.backoffMaxMs ?? 6 * 60_000,
    };

    this.jobs.addHandlers({
      onAdd: (j) => this.queue.add(keyOf(j)),
      onUpdate: (_o, j) => this.queue.add(keyOf(j)),
      onDelete: (j) => {
        const key = keyOf(j);
        this.expectations.delete(key);
        this.backoff.delete(key);
        this.queue.add(key); // to release its pods' finalizers
      },
    });
    this.pods.addHandlers({
      onAdd: (pod) => {
        const job = this.owner(pod);
        if (job && !pod.metadata.deletionTimestamp) this.expectations.creationObserved(keyOf(job));
        else if (job) this.expectations.deletionObserved(keyOf(job), keyOf(pod));
        this.podChanged(pod);
      },
      onUpdate: (old, pod) => {
        const job = this.owner(pod);
        if (job && pod.metadata.deletionTimestamp && !old.metadata.deletionTimestamp) this.expectations.deletionObserved(keyOf(job), keyOf(pod));
        const before = controllerOwnerKey(old, 'Job');
        if (before && before !== controllerOwnerKey(pod, 'Job')) this.queue.add(before);
        this.podChanged(pod);
      },
      onDelete: (pod) => {
        const job = this.owner(pod);
        if (job) this.expectations.deletionObserved(keyOf(job), keyOf(pod));
        this.podChanged(pod);
      },
    });
  }

  run(workers: number): void {
    void this.queue.run(workers, (k) => this.reconcile(k));
  }

  stop(): void {
    this.queue.shutdown();
  }

  private owner(pod: KubeObject): KubeObject | undefined {
    return resolveControllerRef(pod.metadata.namespace, getControllerOf(pod), 'Job', this.jobs);
  }

  private podChanged(pod: KubeObject): void {
    const key = controllerOwnerKey(pod, 'Job');
    if (!key) return;
    // A finalizer removal we made is now visible (or the pod is gone).
    if (!hasTrackingFinalizer(pod) || !this.pods.get(keyOf(pod))) this.removals.get(key)?.delete(pod.metadata.uid!);
    this.queue.add(key);
  }

  async reconcile(key: string): Promise<void> {
    const cached = this.jobs.get(key);
    if (!cached) {
      this.expectations.delete(key);
      this.backoff.delete(key);
      this.removals.delete(key);
      return this.releaseFinalizers(key, undefined);
    }
    if (isJobFinished(cached)) {
      this.backoff.delete(key);
      return this.releaseFinalizers(key, cached.metadata.uid);
    }
    const job = structuredClone(cached);
    job.status ??= {};
    const selector = selectorOf(job);
    if (!selector) return;
    const now = this.ctx.now();
    const satisfied = this.expectations.satisfied(key);
    const pods = await claimObjects(this.pods.list(job.metadata.namespace), {
      client: this.ctx.client,
      owner: job,
      selector,
      canAdopt: recheckOwner(this.ctx.client, job),
      fieldManager: NAME,
    });
    const s = newJobSync(key, job, pods, this.env.finalizerRemovals(key), this.backoff.get(key));
    const completions = job.spec?.completions == null ? undefined : Number(job.spec.completions);
    if (!job.status.startTime && !isSuspended(job)) job.status.startTime = rfc3339(now);

    // What ends the Job, if anything: an earlier decision, the pod failure policy, the backoff limit, the deadline.
    const successCond = findCondition(job, 'SuccessCriteriaMet');
    const failureTarget = findCondition(job, 'FailureTarget');
    if (successCond?.status === 'True') s.finished = successCond;
    else if (failureTarget?.status === 'True') s.finished = newCondition('Failed', 'True', failureTarget.reason, failureTarget.message, now);
    else {
      const failJob = job.spec?.podFailurePolicy
        ? pods.filter((p) => isPodFailed(p, job)).map((p) => matchPodFailurePolicy(job.spec.podFailurePolicy, p).failJobMessage).find(Boolean)
        : undefined;
      if (failJob) s.finished = newCondition('FailureTarget', 'True', 'PodFailurePolicy', failJob, now);
      else if (s.failed > Number(job.spec?.backoffLimit ?? 6) || pastBackoffLimitOnFailure(job, pods)) {
        s.finished = newCondition('FailureTarget', 'True', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit', now);
      } else if (job.spec?.activeDeadlineSeconds != null && !isSuspended(job)) {
        const left = (timeMs(job.status.startTime) ?? now.getTime()) + Number(job.spec.activeDeadlineSeconds) * 1000 - now.getTime();
        if (left <= 0) s.finished = newCondition('FailureTarget', 'True', 'DeadlineExceeded', 'Job was active longer than specified deadline', now);
        else this.queue.addAfter(key, left);
      }
    }

    let active: number;
    let manageError: unknown;
    if (s.finished) {
      const r = await deleteActivePods(this.env, s);
      // Not finished until every pod is gone and counted (and the cache is current).
      if (r.removed !== s.active.length || !satisfied) s.finished = undefined;
      active = s.active.length - r.removed;
      s.terminating += r.removed;
      s.ready -= r.ready;
      manageError = r.error;
    } else {
      const manage = satisfied && !job.metadata.deletionTimestamp;
      if (manage) ({ active, error: manageError } = await manageJob(this.env, s));
      else active = s.active.length;
      const complete = completions === undefined ? s.succeeded > 0 && active === 0 : s.succeeded >= completions && active === 0;
      if (complete) s.finished = newCondition('SuccessCriteriaMet', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods', now);
      else if (manage) this.syncSuspended(job, now);
    }
    setCount(job.status, 'active', active);
    job.status.ready = Math.max(0, s.ready);
    job.status.terminating = s.terminating;
    const needsFlush = !isDeepStrictEqual(job.status, cached.status ?? {});
    await trackJobStatusAndRemoveFinalizers(this.env, s, needsFlush, () => this.backoff.set(key, s.backoff));
    if (manageError) throw manageError;
  }

  /**
   * The Suspended condition (and its events). activeDeadlineSeconds counts continuous activity:
   * suspending clears startTime, resuming sets it to now.
   */
  private syncSuspended(job: KubeObject, now: Date): void {
    if (isSuspended(job)) {
      if (ensureCondition(job, 'Suspended', 'True', 'JobSuspended', 'Job suspended', now)) this.recorder.event(job, 'Normal', 'Suspended', 'Job suspended');
      delete job.status.startTime;
    } else if (ensureCondition(job, 'Suspended', 'False', 'JobResumed', 'Job resumed', now)) {
      this.recorder.event(job, 'Normal', 'Resumed', 'Job resumed');
      job.status.startTime = rfc3339(now);
    }
  }

  /** Pods of a finished (or deleted) Job still holding the tracking finalizer are let go. */
  private async releaseFinalizers(key: string, uid: string | undefined): Promise<void> {
    const { namespace, name } = splitKey(key);
    for (const pod of this.pods.list(namespace)) {
      const ref = getControllerOf(pod);
      if (!ref || ref.kind !== 'Job' || ref.name !== name || (uid && ref.uid !== uid) || !hasTrackingFinalizer(pod)) continue;
      await removeTrackingFinalizer(this.env, pod);
    }
  }
}

function selectorOf(job: KubeObject): Selector | undefined {
  try {
    return labelSelectorFromObject(job.spec?.selector);
  } catch {
    return undefined;
  }
}

/** pastBackoffLimitOnFailure: with restartPolicy OnFailure, container restarts count as failures. */
function pastBackoffLimitOnFailure(job: KubeObject, pods: KubeObject[]): boolean {
  if (job.spec?.template?.spec?.restartPolicy !== 'OnFailure') return false;
  let restarts = 0;
  for (const p of pods) {
    if (p.status?.phase !== 'Running' && p.status?.phase !== 'Pending') continue;
    for (const cs of [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]) restarts += Number(cs?.restartCount ?? 0);
  }
  const limit = Number(job.spec?.backoffLimit ?? 6);
  return limit === 0 ? restarts > 0 : restarts >= limit;
}
