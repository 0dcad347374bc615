/**
 * NodeUnschedulable: a cordoned node (`spec.unschedulable`) takes no new pods, unless the pod
 * tolerates the `node.kubernetes.io/unschedulable:NoSchedule` taint (DaemonSet pods do).
 */
import { tolerationsTolerate, type Taint } from '../affinity.ts';
import { Status, type Handle, type Plugin } from '../framework.ts';

export const name = 'NodeUnschedulable';
export const ERR_REASON_UNSCHEDULABLE = 'node(s) were unschedulable';

const UNSCHEDULABLE_TAINT: Taint = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' };
const REJECT = Status.unresolvable(ERR_REASON_UNSCHEDULABLE);

export function create(handle: Handle): Plugin {
  return {
    name,
    preFilter() {
      return handle.cache.counts.unschedulable === 0 ? Status.SKIP : null;
    },
    filter(_state, pod, node) {
      if (!node.unschedulable) return null;
      if (pod.tolerations.length && tolerationsTolerate(pod.tolerations, UNSCHEDULABLE_TAINT)) return null;
      return REJECT;
    },
    events: [{ event: 'NodeAdd' }, { event: 'NodeTaintUpdate' }],
  };
}
