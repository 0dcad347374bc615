/**
 * NodeResourcesBalancedAllocation: prefer nodes whose cpu and memory would be used in equal
 * fractions after placing the pod: score = (1 - std of the fractions) × 100. Pods that request
 * nothing (best effort) are not scored, as in recent kube-scheduler releases.
 */
import { MAX_NODE_SCORE, Status, type Plugin } from '../framework.ts';
import type { NodeInfo } from '../node-info.ts';
import type { PodInfo } from '../pod-info.ts';

export const name = 'NodeResourcesBalancedAllocation';

export function balancedScore(pod: PodInfo, node: NodeInfo): number {
  const cpuCap = node.allocatable.milliCpu;
  const memCap = node.allocatable.memory;
  // With one resource (or none) the deviation is 0; with two it is |a - b| / 2.
  let std = 0;
  if (cpuCap && memCap) {
    const cpu = Math.min(1, (node.requested.milliCpu + pod.requests.milliCpu) / cpuCap);
    const mem = Math.min(1, (node.requested.memory + pod.requests.memory) / memCap);
    std = Math.abs((cpu - mem) / 2);
  }
  return Math.trunc((1 - std) * MAX_NODE_SCORE);
}

export function create(): Plugin {
  return {
    name,
    preScore(_state, pod) {
      return pod.requests.milliCpu === 0 && pod.requests.memory === 0 ? Status.SKIP : null;
    },
    score(_state, pod, node) {
      return balancedScore(pod, node);
    },
  };
}
