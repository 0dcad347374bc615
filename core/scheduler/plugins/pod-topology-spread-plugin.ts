/**
 * PodTopologySpread.
 * Filter (whenUnsatisfiable: DoNotSchedule): placing the pod in the node's domain must keep
 * `matching pods in the domain + 1 - global minimum <= maxSkew`; the global minimum is 0 while
 * fewer than `minDomains` domains exist. Domains are the values of `topologyKey` on nodes that
 * have every constraint's key and pass nodeAffinityPolicy (default Honor: the pod's node
 * selector/affinity) and nodeTaintsPolicy (default Ignore). `matchLabelKeys` narrow the selector.
 * Score (ScheduleAnyway, or the cluster defaults — hostname maxSkew 3 and zone maxSkew 5 over the
 * pod's services and controller — for pods that declare no constraints): fewer matching pods in
 * the domain is better, weighted by log(domains + 2), normalized so the emptiest scores 100.
 */
import { labelSelectorFromObject, nothing, type Selector } from '../../api/selectors.ts';
import { tolerationsTolerate, type Labels } from '../affinity.ts';
import { MAX_NODE_SCORE, Status, type Handle, type Listers, type Plugin, type StateData } from '../framework.ts';
import type { NodeInfo } from '../node-info.ts';
import type { PodInfo } from '../pod-info.ts';
import { DomainCounts } from '../domain-counts.ts';

export const name = 'PodTopologySpread';
export const ERR_CONSTRAINTS = "node(s) didn't match pod topology spread constraints";
export const ERR_MISSING_LABEL = ERR_CONSTRAINTS + ' (missing required label)';
export const HOSTNAME = 'kubernetes.io/hostname';
export const ZONE = 'topology.kubernetes.io/zone';

const REJECT = Status.unschedulable(ERR_CONSTRAINTS);
const REJECT_LABEL = Status.unresolvable(ERR_MISSING_LABEL);
const FILTER_KEY = 'PreFilter' + name;
const SCORE_KEY = 'PreScore' + name;

export interface Constraint {
  maxSkew: number;
  topologyKey: string;
  selector: Selector;
  minDomains: number;
  honorAffinity: boolean;
  honorTaints: boolean;
}

function compile(pod: PodInfo, raw: any): Constraint | undefined {
  if (!raw?.topologyKey) return undefined;
  let selector: Selector = nothing();
  try {
    if (raw.labelSelector) {
      const extra = (raw.matchLabelKeys ?? [])
        .filter((k: string) => pod.labels[k] !== undefined)
        .map((k: string) => ({ key: k, operator: 'In', values: [pod.labels[k]] }));
      const sel = extra.length
        ? { ...raw.labelSelector, matchExpressions: [...(raw.labelSelector.matchExpressions ?? []), ...extra] }
        : raw.labelSelector;
      selector = labelSelectorFromObject(sel);
    }
  } catch {
    return undefined;
  }
  return {
    maxSkew: Number(raw.maxSkew ?? 1),
    topologyKey: raw.topologyKey,
    selector,
    minDomains: Number(raw.minDomains ?? 1),
    honorAffinity: (raw.nodeAffinityPolicy ?? 'Honor') === 'Honor',
    honorTaints: raw.nodeTaintsPolicy === 'Honor',
  };
}

function constraintsOf(pod: PodInfo, when: string): Constraint[] {
  const out: Constraint[] = [];
  for (const c of pod.pod.spec?.topologySpreadConstraints ?? []) {
    if (c?.whenUnsatisfiable !== when) continue;
    const cc = compile(pod, c);
    if (cc) out.push(cc);
  }
  return out;
}

/** helper.DefaultSelector: the pod's services' selectors and its ReplicaSet/StatefulSet selector. */
export function defaultSelector(pod: PodInfo, listers: Listers): Selector | undefined {
  const set: Labels = {};
  for (const svc of listers.services(pod.namespace)) {
    const sel: Labels | undefined = svc.spec?.selector;
    if (!sel || !Object.keys(sel).length) continue;
    if (Object.entries(sel).every(([k, v]) => pod.labels[k] === v)) Object.assign(set, sel);
  }
  const exprs: any[] = Object.entries(set).map(([key, v]) => ({ key, operator: 'In', values: [v] }));
  const owner = (pod.pod.metadata.ownerReferences ?? []).find((r: any) => r.controller);
  if (owner && (owner.kind === 'ReplicaSet' || owner.kind === 'StatefulSet') && String(owner.apiVersion).startsWith('apps/')) {
    const ctl = listers.controller(owner.kind, pod.namespace, owner.name);
    const ls = ctl?.spec?.selector;
    if (ls) {
      for (const [key, v] of Object.entries(ls.matchLabels ?? {})) exprs.push({ key, operator: 'In', values: [v] });
      exprs.push(...(ls.matchExpressions ?? []));
    }
  }
  if (!exprs.length) return undefined;
  try {
    return labelSelectorFromObject({ matchExpressions: exprs });
  } catch {
    return undefined;
  }
}

function hasAllKeys(labels: Labels, cs: readonly Constraint[]): boolean {
  for (const c of cs) if (labels[c.topologyKey] === undefined) return false;
  return true;
}

/** Every node passes the inclusion policies for this pod (so cached domain counts apply). */
function trivialInclusion(pod: PodInfo, c: Constraint): boolean {
  return !c.honorTaints && (!c.honorAffinity || !pod.requiredNodeAffinity);
}

function included(pod: PodInfo, node: NodeInfo, c: Constraint): boolean {
  if (trivialInclusion(pod, c)) return true;
  if (c.honorAffinity && pod.requiredNodeAffinity && !pod.requiredNodeAffinity.matches(node.labels, node.name)) return false;
  if (c.honorTaints) for (const t of node.hardTaints) if (!tolerationsTolerate(pod.tolerations, t)) return false;
  return true;
}

class FilterState implements StateData {
  constructor(
    readonly constraints: Constraint[],
    readonly counts: Map<string, number>[],
    readonly min: number[],
    /** 1 when the pod itself matches constraint i's selector. */
    readonly self: number[],
  ) {}
  recompute(i: number): void {
    let m = Infinity;
    for (const n of this.counts[i]!.values()) if (n < m) m = n;
    this.min[i] = m;
  }
  clone(): FilterState {
    return new FilterState(this.constraints, this.counts.map((m) => new Map(m)), [...this.min], this.self);
  }
}

class ScoreState implements StateData {
  constructor(
    readonly constraints: Constraint[],
    readonly counts: Map<string, number>[],
    readonly weights: number[],
    readonly ignored: Set<NodeInfo>,
  ) {}
  clone() {
    return this;
  }
}

function countOnNode(node: NodeInfo, c: Constraint, ns: string): number {
  let n = 0;
  for (const p of node.pods) if (p.namespace === ns && !p.terminating && c.selector.matches(p.labels)) n++;
  return n;
}

export function create(handle: Handle): Plugin {
  const { cache, listers } = handle;
  const domains = new DomainCounts(cache);
  const update = (state: any, pod: PodInfo, other: PodInfo, node: NodeInfo, delta: number) => {
    const s = state.read(FILTER_KEY) as FilterState | undefined;
    if (!s || other.namespace !== pod.namespace || !hasAllKeys(node.labels, s.constraints)) return;
    s.constraints.forEach((c, i) => {
      if (!c.selector.matches(other.labels) || !included(pod, node, c)) return;
      const v = node.labels[c.topologyKey]!;
      s.counts[i]!.set(v, (s.counts[i]!.get(v) ?? 0) + delta);
      s.recompute(i);
    });
  };
  return {
    name,
    preFilter(state, pod, nodes) {
      const cs = constraintsOf(pod, 'DoNotSchedule');
      if (!cs.length) return Status.SKIP;
      const finish = (counts: Map<string, number>[]) => {
        const s = new FilterState(cs, counts, cs.map(() => Infinity), cs.map((c) => (c.selector.matches(pod.labels) ? 1 : 0)));
        cs.forEach((_c, i) => s.recompute(i));
        state.write(FILTER_KEY, s);
        return null;
      };
      if (cs.every((c) => trivialInclusion(pod, c))) {
        const keys = [...new Set(cs.map((c) => c.topologyKey))].sort();
        return finish(cs.map((c) => new Map(domains.get(pod.namespace, c.selector, c.topologyKey, keys))));
      }
      const counts = cs.map(() => new Map<string, number>());
      for (const node of nodes) {
        if (!hasAllKeys(node.labels, cs)) continue;
        cs.forEach((c, i) => {
          if (!included(pod, node, c)) return;
          const v = node.labels[c.topologyKey]!;
          if (!counts[i]!.has(v)) counts[i]!.set(v, 0);
        });
      }
      cs.forEach((c, i) => {
        const m = counts[i]!;
        cache.index.forEachMatching(pod.namespace, c.selector, (p) => {
          if (p.terminating) return;
          const node = cache.nodes.get(p.nodeName);
          if (!node?.node || !hasAllKeys(node.labels, cs) || !included(pod, node, c)) return;
          const v = node.labels[c.topologyKey]!;
          const n = m.get(v);
          if (n !== undefined) m.set(v, n + 1);
        });
      });
      return finish(counts);
    },
    addPod(state, pod, other, node) {
      update(state, pod, other, node, 1);
    },
    removePod(state, pod, other, node) {
      update(state, pod, other, node, -1);
    },
    filter(state, pod, node) {
      const s = state.read<FilterState>(FILTER_KEY);
      if (!s) return null;
      for (let i = 0; i < s.constraints.length; i++) {
        const c = s.constraints[i]!;
        const v = node.labels[c.topologyKey];
        if (v === undefined) return REJECT_LABEL;
        const minMatch = s.counts[i]!.size < c.minDomains ? 0 : s.min[i]!;
        if ((s.counts[i]!.get(v) ?? 0) + s.self[i]! - minMatch > c.maxSkew) return REJECT;
      }
      return null;
    },
    preScore(state, pod, nodes) {
      let cs = constraintsOf(pod, 'ScheduleAnyway');
      const declared = (pod.pod.spec?.topologySpreadConstraints ?? []).length > 0;
      if (!declared) {
        const sel = defaultSelector(pod, listers);
        cs = sel ? [HOSTNAME, ZONE].map((k, i) => ({ maxSkew: i ? 5 : 3, topologyKey: k, selector: sel, minDomains: 1, honorAffinity: true, honorTaints: false })) : [];
      }
      if (!cs.length) return Status.SKIP;
      const requireAll = declared;
      const ignored = new Set<NodeInfo>();
      const counts = cs.map(() => new Map<string, number>());
      for (const node of nodes) {
        if (requireAll && !hasAllKeys(node.labels, cs)) {
          ignored.add(node);
          continue;
        }
        cs.forEach((c, i) => {
          if (c.topologyKey === HOSTNAME) return;
          const v = node.labels[c.topologyKey] ?? '';
          if (!counts[i]!.has(v)) counts[i]!.set(v, 0);
        });
      }
      const weights = cs.map((c, i) => Math.log((c.topologyKey === HOSTNAME ? nodes.length - ignored.size : counts[i]!.size) + 2));
      const keys = requireAll ? [...new Set(cs.map((c) => c.topologyKey))].sort() : null;
      cs.forEach((c, i) => {
        if (c.topologyKey === HOSTNAME) return;
        if (trivialInclusion(pod, c)) {
          const all = domains.get(pod.namespace, c.selector, c.topologyKey, keys);
          for (const v of counts[i]!.keys()) counts[i]!.set(v, all.get(v) ?? 0);
          return;
        }
        const m = counts[i]!;
        cache.index.forEachMatching(pod.namespace, c.selector, (p) => {
          if (p.terminating) return;
          const node = cache.nodes.get(p.nodeName);
          if (!node?.node || (requireAll && !hasAllKeys(node.labels, cs)) || !included(pod, node, c)) return;
          const v = node.labels[c.topologyKey] ?? '';
          const n = m.get(v);
          if (n !== undefined) m.set(v, n + 1);
        });
      });
      state.write(SCORE_KEY, new ScoreState(cs, counts, weights, ignored));
      return null;
    },
    score(state, pod, node) {
      const s = state.read<ScoreState>(SCORE_KEY);
      if (!s || s.ignored.has(node)) return 0;
      let score = 0;
      s.constraints.forEach((c, i) => {
        const v = node.labels[c.topologyKey];
        if (v === undefined) return;
        const cnt = c.topologyKey === HOSTNAME ? countOnNode(node, c, pod.namespace) : (s.counts[i]!.get(v) ?? 0);
        score += cnt * s.weights[i]! + (c.maxSkew - 1);
      });
      return Math.round(score);
    },
    normalizeScore(state, _pod, scores, nodes) {
      const s = state.read<ScoreState>(SCORE_KEY);
      if (!s) return;
      let min = Infinity;
      let max = 0;
      for (let i = 0; i < scores.length; i++) {
        if (s.ignored.has(nodes[i]!)) continue;
        const v = scores[i]!;
        if (v < min) min = v;
        if (v > max) max = v;
      }
      for (let i = 0; i < scores.length; i++) {
        if (s.ignored.has(nodes[i]!)) scores[i] = 0;
        else if (max === 0) scores[i] = MAX_NODE_SCORE;
        else scores[i] = Math.floor((MAX_NODE_SCORE * (max + min - scores[i]!)) / max);
      }
    },
    events: [
      { event: 'AssignedPodAdd' },
      { event: 'AssignedPodUpdate' },
      { event: 'AssignedPodDelete' },
      { event: 'NodeAdd' },
      { event: 'NodeDelete' },
      { event: 'NodeLabelUpdate' },
      { event: 'NodeTaintUpdate' },
    ],
  };
}
