/**
 * TaintToleration. Filter: a node's NoSchedule / NoExecute taints must all be tolerated.
 * Score: fewer untolerated PreferNoSchedule taints is better (normalized in reverse).
 *
 * The rejection names the first untolerated taint, `node(s) had untolerated taint {key: value}`,
 * as kube-scheduler did through 1.32 (newer releases print `node(s) had untolerated taint(s)`):
 * a deliberate desktop choice, since the user is usually the one who can remove the taint.
 */
import { tolerationsTolerate, type Taint, type Toleration } from '../affinity.ts';
import { defaultNormalizeScore, Status, type Handle, type Plugin, type StateData } from '../framework.ts';

export const name = 'TaintToleration';
export const untoleratedTaint = (t: Taint) => `node(s) had untolerated taint {${t.key}: ${t.value ?? ''}}`;

const KEY = 'PreScore' + name;

class PreScoreState implements StateData {
  constructor(readonly tolerations: Toleration[]) {}
  clone() {
    return this;
  }
}

const statusCache = new Map<string, Status>();

export function create(handle: Handle): Plugin {
  const counts = handle.cache.counts;
  return {
    name,
    preFilter() {
      return counts.hardTainted === 0 ? Status.SKIP : null;
    },
    filter(_state, pod, node) {
      if (!node.hardTaints.length) return null;
      for (const taint of node.hardTaints) {
        if (tolerationsTolerate(pod.tolerations, taint)) continue;
        const reason = untoleratedTaint(taint);
        let st = statusCache.get(reason);
        if (!st) {
          if (statusCache.size > 1000) statusCache.clear();
          statusCache.set(reason, (st = Status.unresolvable(reason)));
        }
        return st;
      }
      return null;
    },
    preScore(state, pod) {
      // No node has a PreferNoSchedule taint: every node would score the same.
      if (counts.softTainted === 0) return Status.SKIP;
      state.write(KEY, new PreScoreState(pod.tolerations.filter((t) => !t.effect || t.effect === 'PreferNoSchedule')));
      return null;
    },
    score(state, _pod, node) {
      if (!node.taints.length) return 0;
      const tolerations = state.read<PreScoreState>(KEY)?.tolerations ?? [];
      let n = 0;
      for (const t of node.taints) if (t.effect === 'PreferNoSchedule' && !tolerationsTolerate(tolerations, t)) n++;
      return n;
    },
    normalizeScore(_state, _pod, scores) {
      defaultNormalizeScore(scores, true);
    },
    events: [{ event: 'NodeAdd' }, { event: 'NodeTaintUpdate' }],
  };
}
