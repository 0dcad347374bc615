/**
 * NodePorts: a pod's hostPorts must be free on the node. 0.0.0.0 (or no hostIP) conflicts with
 * any address using the same protocol and port; a specific address with itself and 0.0.0.0.
 */
import { Status, type Plugin } from '../framework.ts';
import { portConflicts } from '../node-info.ts';

export const name = 'NodePorts';
export const ERR_REASON = "node(s) didn't have free ports for the requested pod ports";

const REJECT = Status.unschedulable(ERR_REASON);

export function create(): Plugin {
  return {
    name,
    preFilter(_state, pod) {
      return pod.hostPorts ? null : Status.SKIP;
    },
    filter(_state, pod, node) {
      if (!pod.hostPorts) return null;
      for (const hp of pod.hostPorts) if (portConflicts(node.usedPorts, hp.ip, hp.protocol, hp.port)) return REJECT;
      return null;
    },
    events: [{ event: 'AssignedPodDelete' }, { event: 'NodeAdd' }],
  };
}
