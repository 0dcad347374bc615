/**
 * What the workload controllers share, as Kubernetes' pkg/controller/controller_utils.go:
 * pod readiness and availability (minReadySeconds), the ActivePods ranking that picks which
 * pods a scale-down deletes first, create/delete expectations, the pod-template-hash, and
 * intstr percentages.
 *
 * The pod-template-hash has Kubernetes' shape (FNV-32a of the template and the collision count,
 * written with the `bcdfghjklmnpqrstvwxz2456789` alphabet) but hashes canonical JSON instead of
 * Go's spew dump, so the values differ from a real cluster's. Nothing compares them across
 * clusters: a ReplicaSet is matched to its Deployment by template equality, not by hash.
 */
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../api/types.ts';

export type Pod = KubeObject;

/** The label the Deployment controller adds to its ReplicaSets' selectors and templates. */
export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';
/** Pods with a lower cost are deleted first on scale-down (PodDeletionCost, on by default). */
export const POD_DELETION_COST_ANNOTATION = 'controller.kubernetes.io/pod-deletion-cost';

// ---- time ----------------------------------------------------------------------------------

/** Milliseconds of an RFC 3339 time, undefined for none/invalid (Go's zero time). */
export function timeMs(t: unknown): number | undefined {
  if (typeof t !== 'string' || !t) return undefined;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
}

/** RFC 3339 at second precision, as metav1.Time serializes. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// ---- pod state -----------------------------------------------------------------------------

/** Not terminated and not being deleted: it counts towards a controller's replicas. */
export function isPodActive(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !pod.metadata.deletionTimestamp;
}

export function filterActivePods<T extends Pod>(pods: readonly T[]): T[] {
  return pods.filter(isPodActive);
}

export function podReadyCondition(pod: Pod): { status?: string; lastTransitionTime?: string } | undefined {
  return (pod.status?.conditions as any[] | undefined)?.find((c) => c?.type === 'Ready');
}

export function isPodReady(pod: Pod): boolean {
  return podReadyCondition(pod)?.status === 'True';
}

/**
 * Ready for at least `minReadySeconds` (podutil.IsPodAvailable): ready and either no
 * minReadySeconds or the Ready transition is more than that long ago.
 */
export function isPodAvailable(pod: Pod, minReadySeconds: number, now: Date): boolean {
  if (!isPodReady(pod)) return false;
  if (!minReadySeconds) return true;
  const since = timeMs(podReadyCondition(pod)?.lastTransitionTime);
  return since !== undefined && since + minReadySeconds * 1000 < now.getTime();
}

/** The highest restartCount among the pod's containers. */
export function maxContainerRestarts(pod: Pod): number {
  let max = 0;
  for (const c of (pod.status?.containerStatuses as any[] | undefined) ?? []) max = Math.max(max, Number(c?.restartCount) || 0);
  return max;
}

// ---- scale-down ranking (controller.ActivePodsWithRanks) -----------------------------------

const PHASE_ORDINAL: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

function deletionCost(pod: Pod): number {
  const v = pod.metadata.annotations?.[POD_DELETION_COST_ANNOTATION];
  if (v === undefined || !/^-?(0|[1-9]\d*)$/.test(v)) return 0;
  const n = Number(v);
  return n >= -2147483648 && n <= 2147483647 ? n : 0;
}

/** afterOrZero: t1 after t2; a zero (missing) time counts as after any other. */
function afterOrZero(t1: number | undefined, t2: number | undefined): boolean {
  if (t1 === undefined || t2 === undefined) return t1 === undefined;
  return t1 > t2;
}

/** LogarithmicScaleDown: compare how long ago in powers of two (of nanoseconds, as Go does). */
function logRankDiff(t1: number, t2: number, now: number): number {
  const rank = (t: number) => (now - t > 0 ? Math.floor(Math.log2((now - t) * 1e6)) : -1);
  return rank(t1) - rank(t2);
}

function readyTime(pod: Pod): number | undefined {
  return isPodReady(pod) ? timeMs(podReadyCondition(pod)?.lastTransitionTime) : undefined;
}

/** A time comparison with LogarithmicScaleDown (UID breaks ties within one bucket). */
function newerFirst(a: Pod, b: Pod, ta: number | undefined, tb: number | undefined, now: number): number {
  if (ta === tb) return 0;
  if (ta === undefined || tb === undefined) return afterOrZero(ta, tb) ? -1 : 1;
  const diff = logRankDiff(ta, tb, now);
  if (diff === 0) return (a.metadata.uid ?? '') < (b.metadata.uid ?? '') ? -1 : (a.metadata.uid ?? '') > (b.metadata.uid ?? '') ? 1 : 0;
  return diff < 0 ? -1 : 1;
}

/**
 * Kubernetes' scale-down order; negative when `a` should be deleted before `b`:
 * unscheduled < scheduled; Pending < Unknown < Running; not ready < ready; lower
 * pod-deletion-cost first; more pods of the same owner on the node first; ready for less time
 * first; more restarts first; newer first (times compared in log2 buckets, uid breaking ties).
 */
export function compareForDeletion(a: Pod, b: Pod, rankA: number, rankB: number, now: Date): number {
  const na = a.spec?.nodeName ?? '';
  const nb = b.spec?.nodeName ?? '';
  if (na !== nb && (!na || !nb)) return !na ? -1 : 1;
  const pa = PHASE_ORDINAL[a.status?.phase] ?? 0;
  const pb = PHASE_ORDINAL[b.status?.phase] ?? 0;
  if (pa !== pb) return pa - pb;
  const ra = isPodReady(a);
  const rb = isPodReady(b);
  if (ra !== rb) return ra ? 1 : -1;
  const ca = deletionCost(a);
  const cb = deletionCost(b);
  if (ca !== cb) return ca - cb;
  if (rankA !== rankB) return rankB - rankA;
  const t = now.getTime();
  if (ra && rb) {
    const r = newerFirst(a, b, readyTime(a), readyTime(b), t);
    if (r) return r;
  }
  const restarts = maxContainerRestarts(b) - maxContainerRestarts(a);
  if (restarts) return restarts;
  return newerFirst(a, b, timeMs(a.metadata.creationTimestamp), timeMs(b.metadata.creationTimestamp), t);
}

/**
 * The `count` pods to delete first (getPodsToDelete): `related` are all active pods of the same
 * owner family (a Deployment's ReplicaSets), used to prefer pods doubled up on one node.
 */
export function podsToDelete<T extends Pod>(pods: readonly T[], related: readonly Pod[], count: number, now: Date): T[] {
  if (count >= pods.length) return [...pods];
  const onNode = new Map<string, number>();
  for (const p of related) if (isPodActive(p)) onNode.set(p.spec?.nodeName ?? '', (onNode.get(p.spec?.nodeName ?? '') ?? 0) + 1);
  const ranked = pods.map((pod) => ({ pod, rank: onNode.get(pod.spec?.nodeName ?? '') ?? 0 }));
  ranked.sort((x, y) => compareForDeletion(x.pod, y.pod, x.rank, y.rank, now));
  return ranked.slice(0, count).map((r) => r.pod);
}

// ---- int-or-percent ------------------------------------------------------------------------

/**
 * intstr.GetScaledValueFromIntOrPercent: an int as is, `"25%"` of `total` rounded up (maxSurge)
 * or down (maxUnavailable). Throws on anything else.
 */
export function scaledValue(v: unknown, total: number, roundUp: boolean): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string') {
    const m = /^(\d+)%$/.exec(v);
    if (m) {
      const x = (Number(m[1]) * total) / 100;
      return roundUp ? Math.ceil(x) : Math.floor(x);
    }
    if (/^\d+$/.test(v)) return Number(v);
  }
  throw new Error(`invalid value for IntOrString: ${JSON.stringify(v)} is not an integer or a percentage`);
}

// ---- hashing and template equality ---------------------------------------------------------

/** JSON with sorted keys and undefined members dropped. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : canonicalJson(x))).join(',')}]`;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
}

function fnv32a(bytes: Uint8Array, h = 0x811c9dc5): number {
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h >>> 0;
}

const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** controller.ComputeHash's shape for a pod template (and the Deployment's collisionCount). */
export function computeHash(template: unknown, collisionCount?: number): string {
  let h = fnv32a(new TextEncoder().encode(canonicalJson(template)));
  if (collisionCount !== undefined && collisionCount !== null) {
    const b = new Uint8Array(8); // Go writes the uint32 into an 8-byte little-endian buffer
    new DataView(b.buffer).setUint32(0, collisionCount >>> 0, true);
    h = fnv32a(b, h);
  }
  const s = String(h);
  let out = '';
  for (let i = 0; i < s.length; i++) out += SAFE_ALPHABET[s.charCodeAt(i) % SAFE_ALPHABET.length];
  return out;
}

/** Drop null/undefined members and empty maps/lists, recursively (Go: nil == empty). */
function prune(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(prune);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    const p = prune(x);
    if (p === undefined || p === null) continue;
    if (typeof p === 'object' && Object.keys(p as object).length === 0) continue;
    out[k] = p;
  }
  return out;
}

/** apiequality.Semantic.DeepEqual over JSON: nil and empty maps/lists are equal. */
export function semanticEqual(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(prune(a) ?? {}, prune(b) ?? {});
}

/** Two pod templates equal but for the pod-template-hash label (deploymentutil.EqualIgnoreHash). */
export function equalIgnoreHash(a: any, b: any): boolean {
  const strip = (t: any) => {
    const c = structuredClone(t ?? {});
    if (c.metadata?.labels) delete c.metadata.labels[POD_TEMPLATE_HASH_LABEL];
    return c;
  };
  return semanticEqual(strip(a), strip(b));
}

// ---- expectations --------------------------------------------------------------------------

/** After this long, unmet expectations are given up on (ExpectationsTimeout). */
export const EXPECTATIONS_TIMEOUT_MS = 5 * 60_000;

interface Expectation {
  add: number;
  del: number;
  /** Keys of the pods whose deletion is awaited (UIDTrackingControllerExpectations). */
  deleting: Set<string>;
  at: number;
}

/**
 * ControllerExpectations: what a controller is waiting to see in its informer after its own
 * writes, so a burst of watch events (or a stale cache) never makes it create or delete twice.
 * A key needs a sync only when its expectations are met (or expired).
 */
export class ControllerExpectations {
  private readonly map = new Map<string, Expectation>();
  constructor(private readonly now: () => Date) {}

  satisfied(key: string): boolean {
    const e = this.map.get(key);
    if (!e) return true;
    if (e.add <= 0 && e.del <= 0) return true;
    return this.now().getTime() - e.at > EXPECTATIONS_TIMEOUT_MS;
  }

  expectCreations(key: string, n: number): void {
    this.map.set(key, { add: n, del: 0, deleting: new Set(), at: this.now().getTime() });
  }

  expectDeletions(key: string, podKeys: readonly string[]): void {
    this.map.set(key, { add: 0, del: podKeys.length, deleting: new Set(podKeys), at: this.now().getTime() });
  }

  creationObserved(key: string): void {
    const e = this.map.get(key);
    if (e) e.add -= 1;
  }

  /** A deletion seen (or given up on); counted once per expected pod key. */
  deletionObserved(key: string, podKey: string): void {
    const e = this.map.get(key);
    if (e?.deleting.delete(podKey)) e.del -= 1;
  }

  delete(key: string): void {
    this.map.delete(key);
  }

  /** For tests and logs. */
  get(key: string): { add: number; del: number } | undefined {
    const e = this.map.get(key);
    return e && { add: e.add, del: e.del };
  }
}

/**
 * slowStartBatch: run `count` calls in batches of 1, 2, 4 …, stopping after the first batch with
 * an error, so a failing create (quota, admission) costs one call, not hundreds.
 */
export async function slowStartBatch(count: number, initial: number, fn: () => Promise<unknown>): Promise<{ successes: number; error?: unknown }> {
  let remaining = count;
  let successes = 0;
  for (let batch = Math.min(remaining, initial); batch > 0; batch = Math.min(2 * batch, remaining)) {
    const results = await Promise.allSettled(Array.from({ length: batch }, () => fn()));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    successes += batch - failed.length;
    if (failed.length) return { successes, error: failed[0]!.reason };
    remaining -= batch;
  }
  return { successes };
}
