/**
 * Pods per topology domain, kept current across scheduling cycles: for a (namespace, selector,
 * topology key) the number of matching, non-terminating bound or assumed pods in each domain (the
 * values of the key on eligible nodes). Built once from the pod index, then updated as pods are
 * placed and removed; any node change drops everything (rebuilt on the next ask). This turns
 * PodTopologySpread's per-cycle count from O(nodes + matching pods) into O(domains).
 */
import type { Selector } from '../api/selectors.ts';
import type { Labels } from './affinity.ts';
import type { SchedulerCache } from './cache.ts';
import type { PodInfo } from './pod-info.ts';

interface Entry {
  ns: string;
  selector: Selector;
  key: string;
  /** Nodes must have all of these labels to count; null: every node counts (value '' if unset). */
  required: readonly string[] | null;
  counts: Map<string, number>;
}

const MAX_ENTRIES = 256;

function eligible(labels: Labels, required: readonly string[] | null): boolean {
  if (required) for (const k of required) if (labels[k] === undefined) return false;
  return true;
}

export class DomainCounts {
  private readonly entries = new Map<string, Entry>();
  private generation = -1;

  constructor(private readonly cache: SchedulerCache) {
    cache.observePods((pi, delta) => this.onPod(pi, delta));
  }

  /** Domain → count. Every domain of an eligible node is present (0 when empty). Do not modify. */
  get(ns: string, selector: Selector, key: string, required: readonly string[] | null): ReadonlyMap<string, number> {
    if (this.generation !== this.cache.nodeGeneration) {
      this.entries.clear();
      this.generation = this.cache.nodeGeneration;
    }
    const sel = selector.requirements() === null ? '\u0002' : selector.toString();
    const id = `${ns}\u0000${sel}\u0000${key}\u0000${required ? required.join('\u0001') : '*'}`;
    let e = this.entries.get(id);
    if (!e) {
      e = this.build(ns, selector, key, required);
      if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
      this.entries.set(id, e);
    }
    return e.counts;
  }

  private build(ns: string, selector: Selector, key: string, required: readonly string[] | null): Entry {
    const counts = new Map<string, number>();
    for (const node of this.cache.nodeList()) if (eligible(node.labels, required)) counts.set(node.labels[key] ?? '', counts.get(node.labels[key] ?? '') ?? 0);
    this.cache.index.forEachMatching(ns, selector, (p) => {
      if (p.terminating) return;
      const node = this.cache.nodes.get(p.nodeName);
      if (!node?.node || !eligible(node.labels, required)) return;
      const v = node.labels[key] ?? '';
      counts.set(v, (counts.get(v) ?? 0) + 1);
    });
    return { ns, selector, key, required, counts };
  }

  private onPod(pi: PodInfo, delta: 1 | -1): void {
    if (!this.entries.size || pi.terminating || this.generation !== this.cache.nodeGeneration) return;
    const node = this.cache.nodes.get(pi.nodeName);
    if (!node?.node) return;
    for (const e of this.entries.values()) {
      if (e.ns !== pi.namespace || !eligible(node.labels, e.required) || !e.selector.matches(pi.labels)) continue;
      const v = node.labels[e.key] ?? '';
      e.counts.set(v, (e.counts.get(v) ?? 0) + delta);
    }
  }
}
