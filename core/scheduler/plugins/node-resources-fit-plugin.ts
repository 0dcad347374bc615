/**
 * NodeResourcesFit: the pod's requests (cpu, memory, ephemeral-storage, extended resources such
 * as nvidia.com/gpu, and one pod slot) must fit in the node's allocatable minus what bound and
 * assumed pods request. A request larger than the whole node is UnschedulableAndUnresolvable
 * (preemption cannot help). Score: LeastAllocated over cpu and memory (weights 1), with the
 * 100m / 200Mi defaults for containers that request nothing.
 */
import type { KubeObject } from '../../api/types.ts';
import { Status, MAX_NODE_SCORE, type Plugin } from '../framework.ts';
import type { NodeInfo } from '../node-info.ts';
import type { PodInfo } from '../pod-info.ts';
import { nodeAllocatable, type Allocatable } from '../resources.ts';

export const name = 'NodeResourcesFit';
export const ERR_TOO_MANY_PODS = 'Too many pods';
export const insufficient = (resource: string) => `Insufficient ${resource}`;

const TOO_MANY = Status.unschedulable(ERR_TOO_MANY_PODS);

export interface InsufficientResource {
  resource: string;
  reason: string;
  unresolvable: boolean;
}

/** fitsRequest: every resource the pod does not get on this node. */
export function insufficientResources(pod: PodInfo, alloc: Allocatable, node: NodeInfo | null): InsufficientResource[] {
  const out: InsufficientResource[] = [];
  const podCount = node ? node.pods.length : 0;
  if (podCount + 1 > alloc.pods) out.push({ resource: 'pods', reason: ERR_TOO_MANY_PODS, unresolvable: false });
  const r = pod.requests;
  if (r.milliCpu === 0 && r.memory === 0 && r.ephemeral === 0 && !r.scalar) return out;
  const used = node?.requested;
  if (r.milliCpu > 0 && r.milliCpu > alloc.milliCpu - (used?.milliCpu ?? 0)) {
    out.push({ resource: 'cpu', reason: 'Insufficient cpu', unresolvable: r.milliCpu > alloc.milliCpu });
  }
  if (r.memory > 0 && r.memory > alloc.memory - (used?.memory ?? 0)) {
    out.push({ resource: 'memory', reason: 'Insufficient memory', unresolvable: r.memory > alloc.memory });
  }
  if (r.ephemeral > 0 && r.ephemeral > alloc.ephemeral - (used?.ephemeral ?? 0)) {
    out.push({ resource: 'ephemeral-storage', reason: 'Insufficient ephemeral-storage', unresolvable: r.ephemeral > alloc.ephemeral });
  }
  if (r.scalar) {
    for (const [res, q] of r.scalar) {
      if (q === 0) continue;
      const total = alloc.scalar?.get(res) ?? 0;
      if (q > total - (used?.scalar?.get(res) ?? 0)) out.push({ resource: res, reason: insufficient(res), unresolvable: q > total });
    }
  }
  return out;
}

/** LeastAllocated for one resource: ((capacity - requested) * 100) / capacity, integer. */
export function leastRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return 0;
  return Math.floor(((capacity - requested) * MAX_NODE_SCORE) / capacity);
}

export function create(): Plugin {
  return {
    name,
    filter(_state, pod, node) {
      const alloc = node.allocatable;
      const r = pod.requests;
      // Fast path: the usual pod that fits.
      if (
        node.pods.length + 1 <= alloc.pods &&
        !r.scalar &&
        (r.milliCpu === 0 || r.milliCpu <= alloc.milliCpu - node.requested.milliCpu) &&
        (r.memory === 0 || r.memory <= alloc.memory - node.requested.memory) &&
        (r.ephemeral === 0 || r.ephemeral <= alloc.ephemeral - node.requested.ephemeral)
      ) {
        return null;
      }
      const bad = insufficientResources(pod, alloc, node);
      if (!bad.length) return null;
      if (bad.length === 1 && bad[0]!.reason === ERR_TOO_MANY_PODS) return TOO_MANY;
      const reasons = bad.map((b) => b.reason);
      return bad.some((b) => b.unresolvable) ? Status.unresolvable(...reasons) : Status.unschedulable(...reasons);
    },
    score(_state, pod, node) {
      let score = 0;
      let weights = 0;
      const cpuCap = node.allocatable.milliCpu;
      if (cpuCap) {
        score += leastRequestedScore(node.nonZeroRequested.milliCpu + pod.nonZero.milliCpu, cpuCap);
        weights++;
      }
      const memCap = node.allocatable.memory;
      if (memCap) {
        score += leastRequestedScore(node.nonZeroRequested.memory + pod.nonZero.memory, memCap);
        weights++;
      }
      return weights ? Math.floor(score / weights) : 0;
    },
    events: [
      { event: 'NodeAdd', hint: fitsEmptyNode },
      { event: 'NodeAllocatableUpdate', hint: fitsEmptyNode },
      { event: 'AssignedPodDelete' },
      { event: 'AssignedPodUpdate' },
    ],
  };
}

/** Queueing hint: a new or grown node is only interesting if the pod fits in it at all. */
function fitsEmptyNode(pod: PodInfo, _old: KubeObject | undefined, node: KubeObject | undefined): boolean {
  if (!node) return true;
  return insufficientResources(pod, nodeAllocatable(node), null).length === 0;
}
