/**
 * List helpers for strategic merge: identity of items by merge key, and Kubernetes' element
 * ordering (`normalizeElementOrder` / `mergeSortedSlice` in apimachinery's strategicpatch).
 */
import { getOwn, isObject, jsonEqual } from './json.ts';
import type { Strategy } from './strategies.ts';

/** Whether two items are the same element of a list with this strategy. */
export function sameItem(s: Strategy, a: unknown, b: unknown): boolean {
  if (!s.mergeKeys) return jsonEqual(a, b);
  if (!isObject(a) || !isObject(b)) return false;
  return s.mergeKeys.every((k) => jsonEqual(keyValue(s, a, k), keyValue(s, b, k)));
}

function keyValue(s: Strategy, item: unknown, key: string): unknown {
  return getOwn(item, key) ?? s.keyDefaults?.[key];
}

/** Whether an item carries its merge key (the first key is required; the rest may default). */
export function hasMergeKey(s: Strategy, item: unknown): boolean {
  return isObject(item) && !!s.mergeKeys && getOwn(item, s.mergeKeys[0]!) !== undefined;
}

export function indexOfItem(s: Strategy, list: readonly unknown[], item: unknown): number {
  return list.findIndex((x) => sameItem(s, x, item));
}

/** `list` sorted by the order of its items in `order`; items not in `order` keep their place at the end. */
export function sortByOrder(s: Strategy, list: unknown[], order: readonly unknown[]): unknown[] {
  const rank = (x: unknown) => {
    const i = indexOfItem(s, order, x);
    return i < 0 ? Number.MAX_SAFE_INTEGER : i;
  };
  return list
    .map((x, i) => ({ x, i, r: rank(x) }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((e) => e.x);
}

/**
 * Interleave server-only items (`left`, in live order) with patch items (`right`, in patch
 * order): each list keeps its relative order; where both items are in the live list, the live
 * order decides. This is apimachinery's mergeSortedSlice.
 */
export function mergeSorted(s: Strategy, left: unknown[], right: unknown[], serverOrder: readonly unknown[]): unknown[] {
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]);
    else if (j >= right.length) out.push(left[i++]);
    else {
      const li = indexOfItem(s, serverOrder, left[i]);
      const ri = indexOfItem(s, serverOrder, right[j]);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}
