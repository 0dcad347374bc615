/**
 * NodeAffinity: `spec.nodeSelector` and required node affinity must match the node's labels
 * (matchFields: metadata.name); score: the summed weights of the preferred terms that match,
 * normalized to 0–100.
 */
import type { KubeObject } from '../../api/types.ts';
import { defaultNormalizeScore, Status, type Plugin } from '../framework.ts';
import type { PodInfo } from '../pod-info.ts';

export const name = 'NodeAffinity';
export const ERR_REASON = "node(s) didn't match Pod's node affinity/selector";

const REJECT = Status.unresolvable(ERR_REASON);

export function create(): Plugin {
  return {
    name,
    preFilter(_state, pod) {
      return pod.requiredNodeAffinity ? null : Status.SKIP;
    },
    filter(_state, pod, node) {
      const m = pod.requiredNodeAffinity;
      return !m || m.matches(node.labels, node.name) ? null : REJECT;
    },
    preScore(_state, pod) {
      return pod.preferredNodeTerms.length ? null : Status.SKIP;
    },
    score(_state, pod, node) {
      let sum = 0;
      for (const t of pod.preferredNodeTerms) if (t.matches(node.labels, node.name)) sum += t.weight;
      return sum;
    },
    normalizeScore(_state, _pod, scores) {
      defaultNormalizeScore(scores, false);
    },
    events: [
      { event: 'NodeAdd', hint: nodeMatches },
      { event: 'NodeLabelUpdate', hint: nodeMatches },
    ],
  };
}

function nodeMatches(pod: PodInfo, _old: KubeObject | undefined, node: KubeObject | undefined): boolean {
  if (!node || !pod.requiredNodeAffinity) return true;
  return pod.requiredNodeAffinity.matches(node.metadata.labels, node.metadata.name ?? '');
}
