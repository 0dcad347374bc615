/** Which scheduler-relevant parts of a Node changed (framework's UpdateNode* action types). */
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../api/types.ts';
import type { ClusterEvent } from './framework.ts';

const conditionSummary = (n: KubeObject) => (n.status?.conditions ?? []).map((c: any) => `${c.type}=${c.status}`).join(',');

export function nodeEvents(old: KubeObject, now: KubeObject): ClusterEvent[] {
  const out: ClusterEvent[] = [];
  if (!isDeepStrictEqual(old.status?.allocatable, now.status?.allocatable)) out.push('NodeAllocatableUpdate');
  if (!isDeepStrictEqual(old.metadata.labels, now.metadata.labels)) out.push('NodeLabelUpdate');
  if (!isDeepStrictEqual(old.spec?.taints, now.spec?.taints) || !!old.spec?.unschedulable !== !!now.spec?.unschedulable) out.push('NodeTaintUpdate');
  if (conditionSummary(old) !== conditionSummary(now)) out.push('NodeConditionUpdate');
  return out;
}
