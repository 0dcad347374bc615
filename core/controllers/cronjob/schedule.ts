/**
 * CronJob scheduling helpers, as pkg/controller/cronjob/utils.go: which scheduled time is due,
 * when to look again, the Job a scheduled time makes (`<cronjob>-<minutes since epoch>`, with
 * the `batch.kubernetes.io/cronjob-scheduled-timestamp` annotation in the CronJob's time zone),
 * and the finished-Job helpers.
 */
import { mostRecentScheduleTime, type CronSchedule } from '../../api/cron.ts';
import type { KubeObject } from '../../api/types.ts';
import { newControllerRef } from '../pod-control.ts';
import { timeMs } from '../controller-utils.ts';

export const SCHEDULED_TIMESTAMP_ANNOTATION = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
/** More missed start times than this and the controller warns (and stops counting). */
export const MAX_MISSED = 100;
/** nextScheduleDelta: look again a little after the scheduled time. */
export const NEXT_SCHEDULE_DELTA_MS = 100;

/** getJobName: the scheduled time in minutes since the epoch makes the name unique per run. */
export function jobName(cj: KubeObject, scheduled: Date): string {
  return `${cj.metadata.name}-${Math.floor(scheduled.getTime() / 60_000)}`;
}

/** RFC 3339 in a time zone: `2024-05-01T14:00:00+02:00` (UTC: `…Z`), as Go's time.Format. */
export function formatInZone(d: Date, timeZone?: string): string {
  if (!timeZone || timeZone === 'UTC' || timeZone === 'Etc/UTC') return d.toISOString().replace(/\.\d+Z$/, 'Z');
  const parts: Record<string, number> = {};
  const f = new Intl.DateTimeFormat('en-US', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
  });
  for (const p of f.formatToParts(d)) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const wall = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  const offsetMin = Math.round((wall - Math.floor(d.getTime() / 1000) * 1000) / 60_000);
  if (offsetMin === 0) return new Date(wall).toISOString().replace(/\.\d+Z$/, 'Z');
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${new Date(wall).toISOString().slice(0, 19)}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** Go's time.RFC1123Z of a UTC time: `Wed, 01 May 2024 12:00:00 +0000`. */
export function rfc1123z(d: Date): string {
  return d.toUTCString().replace(/GMT$/, '+0000');
}

function earliestTime(cj: KubeObject): number {
  return timeMs(cj.status?.lastScheduleTime) ?? timeMs(cj.metadata.creationTimestamp) ?? 0;
}

/**
 * nextScheduleTime: the most recent unmet scheduled time in (earliest, now], where earliest is
 * the last schedule time (or creation), moved up to now - startingDeadlineSeconds.
 */
export function dueScheduleTime(cj: KubeObject, now: Date, sched: CronSchedule): { time: Date | null; tooMany: boolean } {
  let earliest = earliestTime(cj);
  const sds = cj.spec?.startingDeadlineSeconds;
  if (sds !== undefined && sds !== null) earliest = Math.max(earliest, now.getTime() - Number(sds) * 1000);
  const r = mostRecentScheduleTime(sched, new Date(earliest), now, { timeZone: cj.spec?.timeZone, maxMissed: MAX_MISSED });
  return { time: r.mostRecent, tooMany: r.tooMany };
}

/** nextScheduleTimeDuration: how long until the next scheduled time (plus a little). */
export function untilNextSchedule(cj: KubeObject, now: Date, sched: CronSchedule): number | undefined {
  const earliest = earliestTime(cj);
  const r = mostRecentScheduleTime(sched, new Date(earliest), now, { timeZone: cj.spec?.timeZone, maxMissed: MAX_MISSED });
  const from = r.mostRecent ?? (r.missed === 0 ? new Date(earliest) : now);
  const next = sched.next(from, cj.spec?.timeZone);
  return next ? Math.max(0, next.getTime() + NEXT_SCHEDULE_DELTA_MS - now.getTime()) : undefined;
}

/** getJobFromTemplate2: the Job for one scheduled time. */
export function jobFromTemplate(cj: KubeObject, scheduled: Date): KubeObject {
  const jt = cj.spec?.jobTemplate ?? {};
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobName(cj, scheduled),
      namespace: cj.metadata.namespace,
      labels: { ...(jt.metadata?.labels ?? {}) },
      annotations: { ...(jt.metadata?.annotations ?? {}), [SCHEDULED_TIMESTAMP_ANNOTATION]: formatInZone(scheduled, cj.spec?.timeZone) },
      ownerReferences: [newControllerRef(cj)],
    },
    spec: structuredClone(jt.spec ?? {}),
  };
}

/** The type of a Job's finished condition (Complete / Failed), if it finished. */
export function finishedType(job: KubeObject): 'Complete' | 'Failed' | undefined {
  const c = (job.status?.conditions ?? []).find((x: any) => (x.type === 'Complete' || x.type === 'Failed') && x.status === 'True');
  return c?.type;
}

/** byJobStartTime: by status.startTime (jobs without one last), then name. */
export function byStartTime(a: KubeObject, b: KubeObject): number {
  const ta = timeMs(a.status?.startTime);
  const tb = timeMs(b.status?.startTime);
  if (ta === undefined && tb !== undefined) return 1;
  if (ta !== undefined && tb === undefined) return -1;
  if (ta !== tb) return ta! - tb!;
  return a.metadata.name! < b.metadata.name! ? -1 : a.metadata.name! > b.metadata.name! ? 1 : 0;
}

/** An ObjectReference for status.active. */
export function jobRef(job: KubeObject): Record<string, string> {
  return {
    kind: 'Job',
    namespace: job.metadata.namespace!,
    name: job.metadata.name!,
    uid: job.metadata.uid!,
    apiVersion: 'batch/v1',
    resourceVersion: job.metadata.resourceVersion!,
  };
}
