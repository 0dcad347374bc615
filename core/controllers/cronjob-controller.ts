/**
 * The CronJob controller, as Kubernetes' (cronjob_controllerv2.go): at each scheduled time
 * (`schedule` read in `timeZone`) it creates the Job `<cronjob>-<minutes since epoch>` with the
 * scheduled-timestamp annotation, unless suspended, too late for `startingDeadlineSeconds`,
 * already done, or forbidden by `concurrencyPolicy` (Forbid skips while one runs, Replace
 * deletes the running ones first). It keeps `status.active`, `lastScheduleTime` and
 * `lastSuccessfulTime`, deletes finished Jobs beyond the history limits, and requeues itself
 * for the next scheduled time rather than polling.
 */
import { isDeepStrictEqual } from 'node:util';
import { isValidTimeZone, parseCron, type CronSchedule } from '../api/cron.ts';
import { isApiError } from '../api/errors.ts';
import type { KubeObject } from '../api/types.ts';
import type { EventRecorder } from '../client/event-recorder.ts';
import { controllerOwnerKey, type Controller, type ControllerContext } from './controller.ts';
import { rfc3339, timeMs } from './controller-utils.ts';
import {
  byStartTime, dueScheduleTime, finishedType, jobFromTemplate, jobName, jobRef, rfc1123z, untilNextSchedule,
} from './cronjob/schedule.ts';
import { keyOf, type Informer } from './informer.ts';
import { BY_CONTROLLER_UID, indexByControllerUid } from './pod-control.ts';
import { WorkQueue } from './workqueue.ts';

const CRONJOB = { apiVersion: 'batch/v1', kind: 'CronJob' } as const;
const JOB = { apiVersion: 'batch/v1', kind: 'Job' } as const;
const NAME = 'cronjob-controller';

interface SyncResult {
  requeueAfter?: number;
  updateStatus: boolean;
}

export class CronJobController implements Controller {
  readonly name = NAME;
  readonly queue = new WorkQueue({ name: NAME });
  private readonly cronJobs: Informer;
  private readonly jobs: Informer;
  private readonly recorder: EventRecorder;

  constructor(private readonly ctx: ControllerContext) {
    this.cronJobs = ctx.informers.for(CRONJOB);
    this.jobs = ctx.informers.for(JOB);
    indexByControllerUid(this.jobs);
    this.recorder = ctx.recorder(NAME);
    this.cronJobs.addHandlers({
      onAdd: (cj) => this.queue.add(keyOf(cj)),
      onUpdate: (_o, cj) => this.queue.add(keyOf(cj)),
    });
    const jobChanged = (job: KubeObject) => {
      const key = controllerOwnerKey(job, 'CronJob');
      if (key) this.queue.add(key);
    };
    this.jobs.addHandlers({ onAdd: jobChanged, onUpdate: (_o, j) => jobChanged(j), onDelete: jobChanged });
  }

  run(workers: number): void {
    void this.queue.run(workers, (k) => this.reconcile(k));
  }

  stop(): void {
    this.queue.shutdown();
  }

  async reconcile(key: string): Promise<void> {
    const cached = this.cronJobs.get(key);
    if (!cached) return;
    let cj = structuredClone(cached);
    cj.status ??= {};
    const jobs = this.jobs.byIndex(BY_CONTROLLER_UID, cj.metadata.uid!).filter((j) => j.metadata.namespace === cj.metadata.namespace);
    const fresh = await this.reconcileActive(cj, jobs);
    if (fresh) cj = fresh;
    let result: SyncResult;
    let error: unknown;
    try {
      result = await this.syncCronJob(cj, jobs);
    } catch (e) {
      result = { updateStatus: true };
      error = e;
    }
    if (await this.cleanupFinishedJobs(cj, jobs)) result.updateStatus = true;
    if (result.updateStatus && !isDeepStrictEqual(cj.status, cached.status ?? {})) await this.ctx.client.updateStatus(cj);
    if (error) throw error;
    if (result.requeueAfter !== undefined) this.queue.addAfter(key, result.requeueAfter);
  }

  /**
   * status.active against the Jobs that exist: finished ones leave it (SawCompletedJob),
   * lastSuccessfulTime follows completions, vanished ones leave it (MissingJob). Returns a
   * fresher CronJob when the cache was behind our own status write.
   */
  private async reconcileActive(cj: KubeObject, jobs: KubeObject[]): Promise<KubeObject | undefined> {
    let replaced: KubeObject | undefined;
    const active = () => (cj.status.active ?? []) as Array<Record<string, string>>;
    const inActive = (uid: string) => active().some((r) => r.uid === uid);
    for (const j of jobs) {
      const finished = finishedType(j);
      if (!finished && !inActive(j.metadata.uid!)) {
        // Our status write may not be in the cache yet: ask the API before calling it unexpected.
        const live = await this.ctx.client.get({ ...CRONJOB, namespace: cj.metadata.namespace, name: cj.metadata.name! });
        if ((live.status?.active ?? []).some((r: any) => r.uid === j.metadata.uid)) {
          replaced = cj = structuredClone(live);
          cj.status ??= {};
          continue;
        }
        this.recorder.event(cj, 'Warning', 'UnexpectedJob', `Saw a job that the controller did not create or forgot: ${j.metadata.name}`);
      } else if (finished && inActive(j.metadata.uid!)) {
        this.removeActive(cj, j.metadata.uid!);
        this.recorder.event(cj, 'Normal', 'SawCompletedJob', `Saw completed job: ${j.metadata.name}, condition: ${finished}`);
      }
      if (finished === 'Complete' && j.status?.completionTime) {
        const last = timeMs(cj.status.lastSuccessfulTime);
        if (last === undefined || (timeMs(j.status.completionTime) ?? 0) > last) cj.status.lastSuccessfulTime = j.status.completionTime;
      }
    }
    const uids = new Set(jobs.map((j) => j.metadata.uid));
    for (const ref of [...active()]) {
      if (uids.has(ref.uid)) continue;
      try {
        await this.ctx.client.get({ ...JOB, namespace: ref.namespace ?? cj.metadata.namespace, name: ref.name! });
      } catch (e) {
        if (!isApiError(e, 'NotFound')) throw e;
        this.recorder.event(cj, 'Normal', 'MissingJob', `Active job went missing: ${ref.name}`);
        this.removeActive(cj, ref.uid!);
      }
    }
    return replaced;
  }

  private removeActive(cj: KubeObject, uid: string): void {
    const left = (cj.status.active ?? []).filter((r: any) => r.uid !== uid);
    if (left.length) cj.status.active = left;
    else delete cj.status.active;
  }

  private async syncCronJob(cj: KubeObject, jobs: KubeObject[]): Promise<SyncResult> {
    const updateStatus = true; // reconcileActive's changes are written if there are any
    if (cj.metadata.deletionTimestamp) return { updateStatus };
    const tz: string | undefined = cj.spec?.timeZone ?? undefined;
    if (tz !== undefined && !isValidTimeZone(tz)) {
      this.recorder.event(cj, 'Warning', 'UnknownTimeZone', `invalid timeZone: ${JSON.stringify(tz)}: unknown time zone ${tz}`);
      return { updateStatus };
    }
    if (cj.spec?.suspend) return { updateStatus };
    let sched: CronSchedule;
    try {
      const spec: string = cj.spec?.schedule ?? '';
      if (spec.includes('TZ')) {
        this.recorder.event(cj, 'Warning', 'UnsupportedSchedule', `CRON_TZ or TZ used in schedule ${JSON.stringify(spec)} is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details`);
      }
      sched = parseCron(spec);
    } catch (e) {
      this.recorder.event(cj, 'Warning', 'UnparseableSchedule', `unparseable schedule: ${JSON.stringify(cj.spec?.schedule)} : ${(e as Error).message}`);
      return { updateStatus };
    }
    const now = this.ctx.now();
    const next = () => untilNextSchedule(cj, now, sched);
    const due = dueScheduleTime(cj, now, sched);
    if (due.tooMany) {
      this.recorder.event(cj, 'Warning', 'TooManyMissedTimes', 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
    }
    const scheduled = due.time;
    if (!scheduled) return { updateStatus, requeueAfter: next() };
    const sds = cj.spec?.startingDeadlineSeconds;
    if (sds !== undefined && sds !== null && scheduled.getTime() + Number(sds) * 1000 < now.getTime()) {
      this.recorder.event(cj, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${rfc1123z(scheduled)}`);
      return { updateStatus, requeueAfter: next() };
    }
    const name = jobName(cj, scheduled);
    const active: any[] = cj.status.active ?? [];
    if (active.some((r) => r.name === name) || timeMs(cj.status.lastScheduleTime) === scheduled.getTime()) {
      return { updateStatus, requeueAfter: next() };
    }
    const policy = cj.spec?.concurrencyPolicy ?? 'Allow';
    if (policy === 'Forbid' && active.length) {
      this.recorder.event(cj, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
      return { updateStatus, requeueAfter: next() };
    }
    if (policy === 'Replace') {
      for (const ref of [...active]) {
        const job = { ...JOB, metadata: { namespace: ref.namespace ?? cj.metadata.namespace, name: ref.name, uid: ref.uid } };
        if (!(await this.deleteJob(cj, job))) throw new Error(`could not replace job ${job.metadata.namespace}/${job.metadata.name}`);
      }
    }

    let created: KubeObject;
    try {
      created = await this.ctx.client.create(jobFromTemplate(cj, scheduled), { fieldManager: NAME });
      this.recorder.event(cj, 'Normal', 'SuccessfulCreate', `Created job ${created.metadata.name}`);
    } catch (e) {
      if (!isApiError(e, 'AlreadyExists')) {
        if (!/being terminated/.test((e as Error).message)) this.recorder.event(cj, 'Warning', 'FailedCreate', `Error creating job: ${(e as Error).message}`);
        throw e;
      }
      // Made by an earlier run whose status write was lost (or by someone else).
      created = await this.ctx.client.get({ ...JOB, namespace: cj.metadata.namespace, name });
      const ref = created.metadata.ownerReferences?.find((r) => r.controller);
      if (ref?.uid !== cj.metadata.uid || active.some((r) => r.uid === created.metadata.uid)) return { updateStatus };
    }
    cj.status.active = [...(cj.status.active ?? []), jobRef(created)];
    cj.status.lastScheduleTime = rfc3339(scheduled);
    return { updateStatus, requeueAfter: next() };
  }

  /** deleteJob: Background propagation (the garbage collector takes its pods), then SuccessfulDelete. */
  private async deleteJob(cj: KubeObject, job: KubeObject): Promise<boolean> {
    try {
      await this.ctx.client.delete({ ...JOB, namespace: job.metadata.namespace, name: job.metadata.name! }, { propagationPolicy: 'Background', fieldManager: NAME });
    } catch (e) {
      if (!isApiError(e, 'NotFound')) {
        this.recorder.event(cj, 'Warning', 'FailedDelete', `Deleted job: ${(e as Error).message}`);
        return false;
      }
    }
    this.removeActive(cj, job.metadata.uid!);
    this.recorder.event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${job.metadata.name}`);
    return true;
  }

  /** cleanupFinishedJobs: keep the newest successful/failed Jobs up to each history limit. */
  private async cleanupFinishedJobs(cj: KubeObject, jobs: KubeObject[]): Promise<boolean> {
    let changed = false;
    for (const [type, limit] of [
      ['Complete', cj.spec?.successfulJobsHistoryLimit],
      ['Failed', cj.spec?.failedJobsHistoryLimit],
    ] as const) {
      if (limit === undefined || limit === null) continue;
      const finished = jobs.filter((j) => finishedType(j) === type && !j.metadata.deletionTimestamp).sort(byStartTime);
      for (const job of finished.slice(0, Math.max(0, finished.length - Number(limit)))) {
        if (await this.deleteJob(cj, job)) changed = true;
      }
    }
    return changed;
  }
}
