/**
 * InterPodAffinity.
 * Filter (required terms, per topology domain = the value of `topologyKey` on the node):
 * - the pod's affinity: every term needs a matching pod in the node's domain (a pod that is the
 *   first of a group matching its own terms may go anywhere the topology labels exist);
 * - the pod's anti-affinity: no matching pod in the node's domain;
 * - existing pods' anti-affinity: no pod in the domain whose anti-affinity selects this pod.
 * Score: preferred terms both ways (and existing pods' required affinity with weight 1), summed per
 * domain, normalized min–max.
 *
 * Counts come from the cache's label index and its set of pods with affinity, so a cycle costs
 * O(matching pods + pods with affinity), not O(all pods).
 */
import { nothing } from '../../api/selectors.ts';
import { termMatches, type AffinityTerm, type Labels } from '../affinity.ts';
import { MAX_NODE_SCORE, Status, type Handle, type Plugin, type StateData } from '../framework.ts';
import type { NodeInfo } from '../node-info.ts';
import type { PodInfo } from '../pod-info.ts';

export const name = 'InterPodAffinity';
export const ERR_AFFINITY = "node(s) didn't match pod affinity rules";
export const ERR_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";
export const ERR_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";

const REJECT_AFFINITY = Status.unresolvable(ERR_AFFINITY);
const REJECT_ANTI = Status.unschedulable(ERR_ANTI_AFFINITY);
const REJECT_EXISTING = Status.unschedulable(ERR_EXISTING_ANTI_AFFINITY);
const HARD_POD_AFFINITY_WEIGHT = 1;

const FILTER_KEY = 'PreFilter' + name;
const SCORE_KEY = 'PreScore' + name;

/** topologyKey → topologyValue → count; entries that drop to zero are removed. */
class TopologyCounts {
  readonly m = new Map<string, Map<string, number>>();
  size = 0;
  add(key: string, value: string | undefined, n: number): void {
    if (value === undefined || n === 0) return;
    let vals = this.m.get(key);
    if (!vals) this.m.set(key, (vals = new Map()));
    const was = vals.get(value);
    const now = (was ?? 0) + n;
    if (now === 0) {
      vals.delete(value);
      this.size--;
      if (!vals.size) this.m.delete(key);
    } else {
      if (was === undefined) this.size++;
      vals.set(value, now);
    }
  }
  get(key: string, value: string | undefined): number {
    return value === undefined ? 0 : (this.m.get(key)?.get(value) ?? 0);
  }
  clone(): TopologyCounts {
    const c = new TopologyCounts();
    for (const [k, v] of this.m) c.m.set(k, new Map(v));
    c.size = this.size;
    return c;
  }
}

class FilterState implements StateData {
  existingAnti = new TopologyCounts();
  affinity = new TopologyCounts();
  anti = new TopologyCounts();
  constructor(readonly nsLabels: Labels | undefined) {}
  clone(): FilterState {
    const c = new FilterState(this.nsLabels);
    c.existingAnti = this.existingAnti.clone();
    c.affinity = this.affinity.clone();
    c.anti = this.anti.clone();
    return c;
  }
}

class ScoreState implements StateData {
  constructor(readonly scores: TopologyCounts) {}
  clone() {
    return this;
  }
}

export function create(handle: Handle): Plugin {
  const { cache, listers } = handle;
  const nsLabels = (ns: string) => listers.namespaceLabels(ns);

  /** Each bound pod on a known node that the term selects. */
  const forEachMatching = (t: AffinityTerm, fn: (p: PodInfo, node: NodeInfo) => void) => {
    if (t.namespaceSelector === nothing()) {
      // Listed namespaces: the index answers namespace and selector exactly.
      for (const ns of t.namespaces) {
        cache.index.forEachMatching(ns, t.selector, (p) => {
          const node = cache.nodes.get(p.nodeName);
          if (node?.node) fn(p, node);
        });
      }
      return;
    }
    for (const ns of [...cache.index.namespaces()]) {
      const labels = nsLabels(ns);
      cache.index.forEachMatching(ns, t.selector, (p) => {
        if (!termMatches(t, p.namespace, p.labels, labels)) return;
        const node = cache.nodes.get(p.nodeName);
        if (node?.node) fn(p, node);
      });
    }
  };

  const matchesAll = (terms: readonly AffinityTerm[], p: PodInfo) => {
    if (!terms.length) return false;
    const labels = nsLabels(p.namespace);
    for (const t of terms) if (!termMatches(t, p.namespace, p.labels, labels)) return false;
    return true;
  };

  const update = (s: FilterState, pod: PodInfo, other: PodInfo, node: NodeInfo, n: 1 | -1) => {
    for (const t of other.requiredAntiAffinityTerms) {
      if (termMatches(t, pod.namespace, pod.labels, s.nsLabels)) s.existingAnti.add(t.topologyKey, node.labels[t.topologyKey], n);
    }
    if (matchesAll(pod.requiredAffinityTerms, other)) {
      for (const t of pod.requiredAffinityTerms) s.affinity.add(t.topologyKey, node.labels[t.topologyKey], n);
    }
    if (pod.requiredAntiAffinityTerms.length) {
      const labels = nsLabels(other.namespace);
      for (const t of pod.requiredAntiAffinityTerms) {
        if (termMatches(t, other.namespace, other.labels, labels)) s.anti.add(t.topologyKey, node.labels[t.topologyKey], n);
      }
    }
  };

  return {
    name,
    preFilter(state, pod) {
      const aff = pod.requiredAffinityTerms;
      const anti = pod.requiredAntiAffinityTerms;
      if (!aff.length && !anti.length && cache.podsWithRequiredAntiAffinity.size === 0) return Status.SKIP;
      const s = new FilterState(nsLabels(pod.namespace));
      for (const e of cache.podsWithRequiredAntiAffinity) {
        const node = cache.nodes.get(e.nodeName);
        if (!node?.node) continue;
        for (const t of e.requiredAntiAffinityTerms) {
          if (termMatches(t, pod.namespace, pod.labels, s.nsLabels)) s.existingAnti.add(t.topologyKey, node.labels[t.topologyKey], 1);
        }
      }
      if (aff.length) {
        forEachMatching(aff[0]!, (p, node) => {
          if (!matchesAll(aff, p)) return;
          for (const t of aff) s.affinity.add(t.topologyKey, node.labels[t.topologyKey], 1);
        });
      }
      for (const t of anti) forEachMatching(t, (_p, node) => s.anti.add(t.topologyKey, node.labels[t.topologyKey], 1));
      if (!aff.length && !anti.length && s.existingAnti.size === 0) return Status.SKIP;
      state.write(FILTER_KEY, s);
      return null;
    },
    addPod(state, pod, other, node) {
      const s = state.read<FilterState>(FILTER_KEY);
      if (s) update(s, pod, other, node, 1);
    },
    removePod(state, pod, other, node) {
      const s = state.read<FilterState>(FILTER_KEY);
      if (s) update(s, pod, other, node, -1);
    },
    filter(state, pod, node) {
      const s = state.read<FilterState>(FILTER_KEY);
      if (!s) return null;
      const labels = node.labels;
      const aff = pod.requiredAffinityTerms;
      if (aff.length) {
        let podsExist = true;
        for (const t of aff) {
          const v = labels[t.topologyKey];
          if (v === undefined) return REJECT_AFFINITY;
          if (s.affinity.get(t.topologyKey, v) <= 0) podsExist = false;
        }
        // The first pod of a group that matches its own affinity may start the group.
        if (!podsExist && !(s.affinity.size === 0 && matchesAll(aff, pod))) return REJECT_AFFINITY;
      }
      if (s.anti.size > 0) {
        for (const t of pod.requiredAntiAffinityTerms) if (s.anti.get(t.topologyKey, labels[t.topologyKey]) > 0) return REJECT_ANTI;
      }
      if (s.existingAnti.size > 0) {
        for (const [key, vals] of s.existingAnti.m) {
          const v = labels[key];
          if (v !== undefined && (vals.get(v) ?? 0) > 0) return REJECT_EXISTING;
        }
      }
      return null;
    },
    preScore(state, pod) {
      const prefAff = pod.preferredAffinityTerms;
      const prefAnti = pod.preferredAntiAffinityTerms;
      if (!prefAff.length && !prefAnti.length && cache.podsWithAffinity.size === 0) return Status.SKIP;
      const scores = new TopologyCounts();
      for (const t of prefAff) forEachMatching(t, (_p, node) => scores.add(t.topologyKey, node.labels[t.topologyKey], t.weight));
      for (const t of prefAnti) forEachMatching(t, (_p, node) => scores.add(t.topologyKey, node.labels[t.topologyKey], -t.weight));
      const own = nsLabels(pod.namespace);
      for (const e of cache.podsWithAffinity) {
        if (!e.requiredAffinityTerms.length && !e.preferredAffinityTerms.length && !e.preferredAntiAffinityTerms.length) continue;
        const node = cache.nodes.get(e.nodeName);
        if (!node?.node) continue;
        for (const t of e.requiredAffinityTerms) {
          if (termMatches(t, pod.namespace, pod.labels, own)) scores.add(t.topologyKey, node.labels[t.topologyKey], HARD_POD_AFFINITY_WEIGHT);
        }
        for (const t of e.preferredAffinityTerms) {
          if (termMatches(t, pod.namespace, pod.labels, own)) scores.add(t.topologyKey, node.labels[t.topologyKey], t.weight);
        }
        for (const t of e.preferredAntiAffinityTerms) {
          if (termMatches(t, pod.namespace, pod.labels, own)) scores.add(t.topologyKey, node.labels[t.topologyKey], -t.weight);
        }
      }
      if (scores.size === 0) return Status.SKIP;
      state.write(SCORE_KEY, new ScoreState(scores));
      return null;
    },
    score(state, _pod, node) {
      const s = state.read<ScoreState>(SCORE_KEY);
      if (!s) return 0;
      let sum = 0;
      for (const [key, vals] of s.scores.m) {
        const v = node.labels[key];
        if (v !== undefined) sum += vals.get(v) ?? 0;
      }
      return sum;
    },
    normalizeScore(state, _pod, scores) {
      if (!state.read<ScoreState>(SCORE_KEY)) return;
      let min = Infinity;
      let max = -Infinity;
      for (const s of scores) {
        if (s > max) max = s;
        if (s < min) min = s;
      }
      const diff = max - min;
      for (let i = 0; i < scores.length; i++) scores[i] = diff > 0 ? Math.trunc(MAX_NODE_SCORE * ((scores[i]! - min) / diff)) : 0;
    },
    events: [
      { event: 'AssignedPodAdd' },
      { event: 'AssignedPodUpdate' },
      { event: 'AssignedPodDelete' },
      { event: 'NodeAdd' },
      { event: 'NodeLabelUpdate' },
    ],
  };
}
