/**
 * Resource arithmetic for the scheduler in plain integers: milli-CPU, bytes of memory and
 * ephemeral storage, and whole units (or bytes, for hugepages) of extended resources. Quantity
 * strings are parsed exactly once each (memoized), so the hot path never touches BigInt.
 *
 * A pod's request is what kube-scheduler computes (component-helpers resource.PodRequests):
 * the sum of its containers, raised to the largest init container (restartable "sidecar" init
 * containers add up and count towards later init containers), pod-level requests when given,
 * plus `spec.overhead`.
 */
import { tryParseQuantity } from '../api/quantity.ts';

export const CPU = 'cpu';
export const MEMORY = 'memory';
export const EPHEMERAL = 'ephemeral-storage';
export const PODS = 'pods';

/** Kubernetes' scoring defaults for containers that request nothing (schedutil). */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

export interface Resources {
  milliCpu: number;
  memory: number;
  ephemeral: number;
  /** Extended resources (nvidia.com/gpu), hugepages-*, …; null when there are none. */
  scalar: Map<string, number> | null;
}

export function emptyResources(): Resources {
  return { milliCpu: 0, memory: 0, ephemeral: 0, scalar: null };
}

const milliMemo = new Map<string, number>();
const valueMemo = new Map<string, number>();
const MEMO_LIMIT = 50_000;

function memo(cache: Map<string, number>, raw: unknown, milli: boolean): number {
  if (raw === undefined || raw === null) return 0;
  const key = typeof raw === 'number' ? String(raw) : (raw as string);
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const q = tryParseQuantity(key);
  const v = q ? Number(milli ? q.milliValue() : q.value()) : 0;
  if (cache.size > MEMO_LIMIT) cache.clear();
  cache.set(key, v);
  return v;
}

/** `"250m"` → 250, `"2"` → 2000. */
export function milliOf(raw: unknown): number {
  return memo(milliMemo, raw, true);
}

/** `"1Gi"` → 1073741824. */
export function valueOf(raw: unknown): number {
  return memo(valueMemo, raw, false);
}

export function isScalarResource(name: string): boolean {
  return name !== CPU && name !== MEMORY && name !== EPHEMERAL && name !== PODS && name !== 'storage';
}

type List = Record<string, unknown> | undefined | null;

function addList(to: Resources, list: List): void {
  if (!list) return;
  for (const name in list) {
    const raw = list[name];
    if (name === CPU) to.milliCpu += milliOf(raw);
    else if (name === MEMORY) to.memory += valueOf(raw);
    else if (name === EPHEMERAL) to.ephemeral += valueOf(raw);
    else if (isScalarResource(name)) {
      to.scalar ??= new Map();
      to.scalar.set(name, (to.scalar.get(name) ?? 0) + valueOf(raw));
    }
  }
}

function add(to: Resources, r: Resources): void {
  to.milliCpu += r.milliCpu;
  to.memory += r.memory;
  to.ephemeral += r.ephemeral;
  if (r.scalar) {
    to.scalar ??= new Map();
    for (const [k, v] of r.scalar) to.scalar.set(k, (to.scalar.get(k) ?? 0) + v);
  }
}

function max(to: Resources, r: Resources): void {
  to.milliCpu = Math.max(to.milliCpu, r.milliCpu);
  to.memory = Math.max(to.memory, r.memory);
  to.ephemeral = Math.max(to.ephemeral, r.ephemeral);
  if (r.scalar) {
    to.scalar ??= new Map();
    for (const [k, v] of r.scalar) to.scalar.set(k, Math.max(to.scalar.get(k) ?? 0, v));
  }
}

function clone(r: Resources): Resources {
  return { milliCpu: r.milliCpu, memory: r.memory, ephemeral: r.ephemeral, scalar: r.scalar ? new Map(r.scalar) : null };
}

function containerRequests(c: any, nonZero: boolean): Resources {
  const r = emptyResources();
  const req = c?.resources?.requests;
  addList(r, req);
  if (nonZero) {
    if (!req || req[CPU] === undefined) r.milliCpu = DEFAULT_MILLI_CPU_REQUEST;
    if (!req || req[MEMORY] === undefined) r.memory = DEFAULT_MEMORY_REQUEST;
  }
  return r;
}

/**
 * The pod's effective request. `nonZero`: containers that do not ask for cpu or memory count as
 * 100m / 200Mi (what the scoring plugins and NodeInfo.nonZeroRequested use).
 */
export function podRequests(pod: any, nonZero = false): Resources {
  const spec = pod?.spec ?? {};
  const reqs = emptyResources();
  for (const c of spec.containers ?? []) add(reqs, containerRequests(c, nonZero));
  const restartable = emptyResources();
  const init = emptyResources();
  for (const c of spec.initContainers ?? []) {
    const r = containerRequests(c, nonZero);
    if (c?.restartPolicy === 'Always') {
      add(reqs, r);
      add(restartable, r);
      max(init, restartable);
    } else {
      const tmp = clone(r);
      add(tmp, restartable);
      max(init, tmp);
    }
  }
  max(reqs, init);
  // Pod-level resources (spec.resources) replace the container sum for cpu and memory.
  const podLevel = spec.resources?.requests;
  if (podLevel) {
    if (podLevel[CPU] !== undefined) reqs.milliCpu = milliOf(podLevel[CPU]);
    if (podLevel[MEMORY] !== undefined) reqs.memory = valueOf(podLevel[MEMORY]);
  }
  addList(reqs, spec.overhead);
  return reqs;
}

/** A node's allocatable (falling back to capacity, as the kubelet reports both). */
export interface Allocatable extends Resources {
  pods: number;
}

export function nodeAllocatable(node: any): Allocatable {
  const list = node?.status?.allocatable ?? node?.status?.capacity ?? {};
  const r = emptyResources() as Allocatable;
  addList(r, list);
  r.pods = list[PODS] !== undefined ? valueOf(list[PODS]) : 0;
  return r;
}

export function resourcesEqual(a: Resources, b: Resources): boolean {
  if (a.milliCpu !== b.milliCpu || a.memory !== b.memory || a.ephemeral !== b.ephemeral) return false;
  const as = a.scalar?.size ?? 0;
  const bs = b.scalar?.size ?? 0;
  if (as !== bs) return false;
  if (as) for (const [k, v] of a.scalar!) if (b.scalar!.get(k) !== v) return false;
  return true;
}
