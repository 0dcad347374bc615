/**
 * Pod priority as the Priority admission plugin would set it (there is no such admission step
 * yet, so the scheduler resolves it itself): `spec.priority` when set, else the value of
 * `spec.priorityClassName`'s PriorityClass (system-cluster-critical and system-node-critical are
 * built in), else the globalDefault class, else 0. The preemption policy follows the same path.
 */
import type { KubeObject } from '../api/types.ts';
import type { PriorityResolver } from './pod-info.ts';

export const SYSTEM_CLUSTER_CRITICAL = 2_000_000_000;
export const SYSTEM_NODE_CRITICAL = 2_000_001_000;

const BUILT_IN: Record<string, number> = {
  'system-cluster-critical': SYSTEM_CLUSTER_CRITICAL,
  'system-node-critical': SYSTEM_NODE_CRITICAL,
};

export interface PriorityClassLister {
  get(name: string): KubeObject | undefined;
  /** The class with `globalDefault: true`, if any. */
  globalDefault(): KubeObject | undefined;
}

export function priorityResolver(classes: PriorityClassLister): PriorityResolver {
  return (pod) => {
    const spec = pod.spec ?? {};
    let pc: KubeObject | undefined;
    const className: string | undefined = spec.priorityClassName;
    if (className) pc = classes.get(className);
    else if (typeof spec.priority !== 'number') pc = classes.globalDefault();
    let priority = 0;
    if (typeof spec.priority === 'number') priority = spec.priority;
    else if (pc && typeof pc.value === 'number') priority = pc.value;
    else if (className && BUILT_IN[className] !== undefined) priority = BUILT_IN[className]!;
    const preemptionPolicy: string = spec.preemptionPolicy ?? (pc?.preemptionPolicy as string | undefined) ?? 'PreemptLowerPriority';
    return { priority, preemptionPolicy };
  };
}
