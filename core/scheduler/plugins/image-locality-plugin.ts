/**
 * ImageLocality: prefer nodes that already have the pod's images (node.status.images), weighted by
 * image size and scaled down by how few nodes have it (spread), between 23 MB and 1000 MB per
 * container, as kube-scheduler computes it.
 */
import { MAX_NODE_SCORE, Status, type Plugin, type Handle } from '../framework.ts';

export const name = 'ImageLocality';

const MB = 1024 * 1024;
const MIN_THRESHOLD = 23 * MB;
const MAX_CONTAINER_THRESHOLD = 1000 * MB;

export function calculatePriority(sumScores: number, numContainers: number): number {
  const maxThreshold = MAX_CONTAINER_THRESHOLD * numContainers;
  const s = Math.min(Math.max(sumScores, MIN_THRESHOLD), maxThreshold);
  return Math.floor((MAX_NODE_SCORE * (s - MIN_THRESHOLD)) / (maxThreshold - MIN_THRESHOLD));
}

export function create(handle: Handle): Plugin {
  return {
    name,
    preScore(_state, pod) {
      // None of the pod's images is on any node: every node would score the same.
      for (const img of pod.images) if (handle.cache.imageNodes.has(img)) return null;
      return Status.SKIP;
    },
    score(_state, pod, node) {
      if (!pod.images.length) return 0;
      let sum = 0;
      if (node.images.size) {
        const total = handle.cache.numNodes;
        for (const img of pod.images) {
          const size = node.images.get(img);
          if (size === undefined) continue;
          const spread = (handle.cache.imageNodes.get(img) ?? 0) / total;
          sum += Math.trunc(size * spread);
        }
      }
      return calculatePriority(sum, pod.images.length);
    },
  };
}
