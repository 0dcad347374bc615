/** Job conditions as the Job controller writes them (Complete, Failed and their interim forms). */
import type { KubeObject } from '../../api/types.ts';
import { rfc3339 } from '../controller-utils.ts';

export interface JobCondition {
  type: 'Complete' | 'Failed' | 'FailureTarget' | 'SuccessCriteriaMet' | 'Suspended';
  status: 'True' | 'False';
  reason: string;
  message: string;
  lastProbeTime?: string;
  lastTransitionTime?: string;
}

export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';

export function newCondition(type: JobCondition['type'], status: JobCondition['status'], reason: string, message: string, now: Date): JobCondition {
  const t = rfc3339(now);
  return { type, status, reason, message, lastProbeTime: t, lastTransitionTime: t };
}

export function findCondition(job: KubeObject, type: JobCondition['type']): JobCondition | undefined {
  return (job.status?.conditions ?? []).find((c: JobCondition) => c.type === type);
}

/** IsJobFinished: a Complete or Failed condition that is True. */
export function finishedCondition(job: KubeObject): JobCondition | undefined {
  return (job.status?.conditions ?? []).find((c: JobCondition) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

export const isJobFinished = (job: KubeObject): boolean => !!finishedCondition(job);

/**
 * ensureJobConditionStatus: set a condition's status/reason/message (a new transition time when
 * they change); a False condition is not added when absent. Returns whether anything changed.
 */
export function ensureCondition(job: KubeObject, type: JobCondition['type'], status: JobCondition['status'], reason: string, message: string, now: Date): boolean {
  job.status ??= {};
  const list: JobCondition[] = (job.status.conditions ??= []);
  const i = list.findIndex((c) => c.type === type);
  if (i >= 0) {
    const c = list[i]!;
    if (c.status === status && c.reason === reason && c.message === message) return false;
    list[i] = newCondition(type, status, reason, message, now);
    return true;
  }
  if (status === 'False') {
    if (!list.length) delete job.status.conditions;
    return false;
  }
  list.push(newCondition(type, status, reason, message, now));
  return true;
}

export const hasTrackingFinalizer = (pod: KubeObject): boolean => (pod.metadata.finalizers ?? []).includes(JOB_TRACKING_FINALIZER);
