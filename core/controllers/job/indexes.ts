/**
 * Indexed Jobs (pkg/controller/job/indexed_job_utils.go): each pod carries its completion index
 * in the `batch.kubernetes.io/job-completion-index` annotation and label, gets the hostname
 * `<job>-<index>` and the JOB_COMPLETION_INDEX env var; `status.completedIndexes` lists the
 * succeeded indexes as intervals ("0-2,4,6,7").
 */
import type { KubeObject } from '../../api/types.ts';
import { podsToDelete } from '../controller-utils.ts';

export const COMPLETION_INDEX = 'batch.kubernetes.io/job-completion-index';
export const COMPLETION_INDEX_ENV = 'JOB_COMPLETION_INDEX';
/** names.MaxGeneratedNameLength: 63 minus the 5 random characters. */
const MAX_GENERATED_NAME = 58;

export const isIndexed = (job: KubeObject): boolean => job.spec?.completionMode === 'Indexed';

/** The pod's completion index, -1 when it has none (or an invalid one). */
export function completionIndex(pod: KubeObject): number {
  const v = pod.metadata.annotations?.[COMPLETION_INDEX] ?? pod.metadata.labels?.[COMPLETION_INDEX];
  if (v === undefined || !/^(0|[1-9]\d*)$/.test(v)) return -1;
  const n = Number(v);
  return n <= 2147483647 ? n : -1;
}

/** parseIndexesFromString: "0-2,5" → [0,1,2,5], ignoring what is malformed or ≥ completions. */
export function parseIndexes(s: string | undefined, completions: number): number[] {
  const out = new Set<number>();
  for (const part of (s ?? '').split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    const first = Number(m[1]);
    const last = m[2] === undefined ? first : Number(m[2]);
    for (let i = first; i <= Math.min(last, completions - 1); i++) out.add(i);
  }
  return [...out].sort((a, b) => a - b);
}

/** orderedIntervals.String(): runs of three or more as "a-b", pairs as "a,b". */
export function formatIndexes(indexes: Iterable<number>): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    const first = sorted[i]!;
    const last = sorted[j]!;
    parts.push(last === first ? `${first}` : last === first + 1 ? `${first},${last}` : `${first}-${last}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** firstPendingIndexes: the lowest `count` indexes neither succeeded nor active. */
export function firstPendingIndexes(succeeded: ReadonlySet<number>, active: KubeObject[], count: number, completions: number): number[] {
  const busy = new Set(active.map(completionIndex));
  const out: number[] = [];
  for (let i = 0; i < completions && out.length < count; i++) if (!succeeded.has(i) && !busy.has(i)) out.push(i);
  return out;
}

/** podGenerateNameWithIndex: `<job>-<index>-`, the job name cut to fit. */
export function generateNameWithIndex(jobName: string, index: number): string {
  const suffix = `-${index}-`;
  const prefix = jobName + suffix;
  return prefix.length > MAX_GENERATED_NAME ? jobName.slice(0, MAX_GENERATED_NAME - suffix.length) + suffix : prefix;
}

/** addCompletionIndexEnvVariables: JOB_COMPLETION_INDEX from the index label (downward API). */
export function addCompletionIndexEnv(spec: any): void {
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    c.env ??= [];
    if (c.env.some((e: any) => e.name === COMPLETION_INDEX_ENV)) continue;
    c.env.push({ name: COMPLETION_INDEX_ENV, valueFrom: { fieldRef: { fieldPath: `metadata.labels['${COMPLETION_INDEX}']` } } });
  }
}

/**
 * appendDuplicatedIndexPodsForRemoval: active pods without a valid index, with one ≥ completions,
 * or duplicating another pod's index (all but the best-ranked one) must go.
 */
export function duplicatedIndexPods(pods: KubeObject[], completions: number, now: Date): { rm: KubeObject[]; left: KubeObject[] } {
  const rm: KubeObject[] = [];
  const left: KubeObject[] = [];
  const byIndex = new Map<number, KubeObject[]>();
  for (const p of pods) {
    const ix = completionIndex(p);
    if (ix < 0 || ix >= completions) rm.push(p);
    else byIndex.set(ix, [...(byIndex.get(ix) ?? []), p]);
  }
  for (const group of byIndex.values()) {
    if (group.length === 1) {
      left.push(group[0]!);
      continue;
    }
    const order = podsToDelete(group, [], group.length - 1, now);
    rm.push(...order);
    left.push(...group.filter((p) => !order.includes(p)));
  }
  return { rm, left };
}
