/**
 * An inverted index of bound and assumed pods: namespace → label key → value → pods. Affinity and
 * topology spread ask "which pods in these namespaces match this selector" once per cycle; the
 * index answers from the smallest candidate set an equality (or `in`, or `exists`) requirement
 * allows instead of scanning every pod of the cluster.
 */
import type { Selector } from '../api/selectors.ts';
import type { PodInfo } from './pod-info.ts';

interface NsIndex {
  all: Set<PodInfo>;
  byLabel: Map<string, Map<string, Set<PodInfo>>>;
}

export class PodIndex {
  private readonly byNs = new Map<string, NsIndex>();

  add(pi: PodInfo): void {
    let ns = this.byNs.get(pi.namespace);
    if (!ns) this.byNs.set(pi.namespace, (ns = { all: new Set(), byLabel: new Map() }));
    ns.all.add(pi);
    for (const k in pi.labels) {
      let vals = ns.byLabel.get(k);
      if (!vals) ns.byLabel.set(k, (vals = new Map()));
      const v = pi.labels[k]!;
      let set = vals.get(v);
      if (!set) vals.set(v, (set = new Set()));
      set.add(pi);
    }
  }

  remove(pi: PodInfo): void {
    const ns = this.byNs.get(pi.namespace);
    if (!ns) return;
    ns.all.delete(pi);
    for (const k in pi.labels) {
      const vals = ns.byLabel.get(k);
      const set = vals?.get(pi.labels[k]!);
      if (!set) continue;
      set.delete(pi);
      if (!set.size) vals!.delete(pi.labels[k]!);
      if (!vals!.size) ns.byLabel.delete(k);
    }
    if (!ns.all.size) this.byNs.delete(pi.namespace);
  }

  namespaces(): IterableIterator<string> {
    return this.byNs.keys();
  }

  /**
   * Calls `fn` for each indexed pod in `namespace` matching `selector`. Candidates come from the
   * most selective `=`/`in`/`exists` requirement; the full selector is checked on each.
   */
  forEachMatching(namespace: string, selector: Selector, fn: (pi: PodInfo) => void): void {
    const ns = this.byNs.get(namespace);
    if (!ns) return;
    const reqs = selector.requirements();
    if (reqs === null) return; // selects nothing
    let best: Iterable<PodInfo> = ns.all;
    let bestSize = ns.all.size;
    // When the one requirement is an equality the candidate set answers, no re-check is needed.
    let exact = false;
    for (const r of reqs) {
      const vals = ns.byLabel.get(r.key);
      if (r.operator === '=' || r.operator === '==' || r.operator === 'in') {
        if (!vals) return; // nobody has the key: nothing matches
        if (r.values.length === 1) {
          const set = vals.get(r.values[0]!);
          if (!set) return;
          if (set.size <= bestSize) {
            best = set;
            bestSize = set.size;
            exact = reqs.length === 1;
          }
        } else {
          let size = 0;
          for (const v of r.values) size += vals.get(v)?.size ?? 0;
          if (size === 0) return;
          if (size < bestSize) {
            const lists = r.values.map((v) => vals.get(v)).filter((s): s is Set<PodInfo> => !!s);
            best = (function* () {
              for (const s of lists) yield* s;
            })();
            bestSize = size;
          }
        }
      } else if (r.operator === 'exists') {
        if (!vals) return;
        let size = 0;
        for (const s of vals.values()) size += s.size;
        if (size < bestSize) {
          best = (function* () {
            for (const s of vals.values()) yield* s;
          })();
          bestSize = size;
        }
      }
    }
    if (reqs.length === 0) {
      for (const pi of ns.all) fn(pi);
      return;
    }
    if (exact) for (const pi of best) fn(pi);
    else for (const pi of best) if (selector.matches(pi.labels)) fn(pi);
  }
}
