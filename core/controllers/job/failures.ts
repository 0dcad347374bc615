/**
 * How the Job controller judges failed pods: isPodFailed, the podFailurePolicy rules
 * (pod_failure_policy.go: Ignore / Count / FailJob on exit codes or pod conditions), and the
 * pod-failure backoff (backoff_utils.go): 10 s doubling per consecutive failure since the last
 * success, capped (Kubernetes documents six minutes), counted from the last failure's finish time.
 */
import type { KubeObject } from '../../api/types.ts';
import { timeMs } from '../controller-utils.ts';

export const isPodTerminal = (p: KubeObject): boolean => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';

/** Only Failed pods are replaced: podReplacementPolicy Failed, or any podFailurePolicy. */
export function onlyReplaceFailedPods(job: KubeObject): boolean {
  return job.spec?.podReplacementPolicy === 'Failed' || !!job.spec?.podFailurePolicy;
}

/** A failed pod, or (unless only Failed pods count) one deleted before it could succeed. */
export function isPodFailed(pod: KubeObject, job: KubeObject): boolean {
  if (pod.status?.phase === 'Failed') return true;
  if (onlyReplaceFailedPods(job)) return false;
  return !!pod.metadata.deletionTimestamp && pod.status?.phase !== 'Succeeded';
}

export interface PolicyMatch {
  /** The FailJob message, when a FailJob rule matched. */
  failJobMessage?: string;
  /** Whether the failure counts towards backoffLimit (false for Ignore). */
  countFailed: boolean;
  action?: 'Ignore' | 'Count' | 'FailJob' | 'FailIndex';
}

function matchExitCodes(statuses: any[] | undefined, req: any): any {
  for (const cs of statuses ?? []) {
    const code = cs?.state?.terminated?.exitCode;
    if (code === undefined || code === 0) continue;
    if (req.containerName && req.containerName !== cs.name) continue;
    const listed = (req.values ?? []).includes(code);
    if (req.operator === 'In' ? listed : !listed) return cs;
  }
  return undefined;
}

/** matchPodFailurePolicy: the first rule that matches the failed pod decides. */
export function matchPodFailurePolicy(policy: any, pod: KubeObject): PolicyMatch {
  if (!policy) return { countFailed: true };
  const rules: any[] = policy.rules ?? [];
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i];
    let subject: string | undefined;
    if (rule.onExitCodes) {
      const cs = matchExitCodes(pod.status?.containerStatuses, rule.onExitCodes) ?? matchExitCodes(pod.status?.initContainerStatuses, rule.onExitCodes);
      if (cs) subject = `Container ${cs.name} for pod ${pod.metadata.namespace}/${pod.metadata.name} failed with exit code ${cs.state.terminated.exitCode}`;
    } else if (rule.onPodConditions) {
      const cond = (pod.status?.conditions ?? []).find((c: any) =>
        (rule.onPodConditions as any[]).some((r) => r.type === c.type && (r.status ?? 'True') === c.status),
      );
      if (cond) subject = `Pod ${pod.metadata.namespace}/${pod.metadata.name} has condition ${cond.type}`;
    }
    if (!subject) continue;
    switch (rule.action) {
      case 'Ignore':
        return { countFailed: false, action: 'Ignore' };
      case 'Count':
        return { countFailed: true, action: 'Count' };
      case 'FailJob':
        return { countFailed: true, action: 'FailJob', failJobMessage: `${subject} matching FailJob rule at index ${i}` };
      default:
        continue; // FailIndex needs backoffLimitPerIndex (not supported): the next rule may match
    }
  }
  return { countFailed: true };
}

/**
 * getFinishedTime: the latest container finish, else the Ready=False transition, else the
 * deletion time less its grace period, else creation.
 */
export function finishedTime(pod: KubeObject): number {
  const statuses: any[] = pod.status?.containerStatuses ?? [];
  if (statuses.length) {
    let latest: number | undefined;
    for (const cs of statuses) {
      const t = timeMs(cs?.state?.terminated?.finishedAt);
      if (t === undefined) {
        latest = undefined;
        break;
      }
      latest = Math.max(latest ?? 0, t);
    }
    if (latest !== undefined) return latest;
  }
  const ready = (pod.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
  const readyFalse = ready?.status === 'False' ? timeMs(ready.lastTransitionTime) : undefined;
  if (readyFalse !== undefined) return readyFalse;
  const deleted = timeMs(pod.metadata.deletionTimestamp);
  if (deleted !== undefined) return deleted - Number(pod.metadata.deletionGracePeriodSeconds ?? 0) * 1000;
  return timeMs(pod.metadata.creationTimestamp) ?? 0;
}

export interface BackoffRecord {
  failuresAfterLastSuccess: number;
  lastFailureTime?: number;
}

/** newBackoffRecord: fold the newly finished pods into the job's record. */
export function nextBackoffRecord(prev: BackoffRecord | undefined, newSucceeded: KubeObject[], newFailed: KubeObject[]): BackoffRecord {
  const rec: BackoffRecord = { ...(prev ?? { failuresAfterLastSuccess: 0 }) };
  const failedTimes = newFailed.map(finishedTime).sort((a, b) => a - b);
  if (!newSucceeded.length) {
    if (!failedTimes.length) return rec;
    return { failuresAfterLastSuccess: rec.failuresAfterLastSuccess + failedTimes.length, lastFailureTime: failedTimes[failedTimes.length - 1] };
  }
  const lastSuccess = Math.max(...newSucceeded.map(finishedTime));
  const after = failedTimes.filter((t) => t > lastSuccess);
  return after.length ? { failuresAfterLastSuccess: after.length, lastFailureTime: after[after.length - 1] } : { failuresAfterLastSuccess: 0 };
}

/** getRemainingTimeForFailuresCount: how long pod creation still waits. */
export function remainingBackoffMs(rec: BackoffRecord | undefined, now: number, baseMs: number, maxMs: number): number {
  if (!rec || !rec.failuresAfterLastSuccess || rec.lastFailureTime === undefined) return 0;
  let delay = baseMs;
  for (let i = 1; i < rec.failuresAfterLastSuccess; i++) {
    delay *= 2;
    if (delay >= maxMs) {
      delay = maxMs;
      break;
    }
  }
  return Math.max(0, delay - (now - rec.lastFailureTime));
}
