/**
 * The scheduling queue (internal/queue.PriorityQueue):
 * - activeQ: pods to try now, highest priority first, then the longest waiting;
 * - backoffQ: pods that failed recently, released when their backoff (1 s doubling per attempt, at
 *   most 10 s) expires;
 * - the unschedulable pool: pods no node can take. They leave only when a cluster event that
 *   one of the plugins that rejected them cares about happens (node added, pod deleted, PVC
 *   bound, …; see EventRegistration) — or after 5 minutes, as kube-scheduler flushes leftovers.
 * Nothing polls: timers fire for the next backoff expiry and the periodic leftover flush only.
 */
import { Heap } from './heap.ts';
import type { ClusterEvent } from './framework.ts';
import type { KubeObject } from '../api/types.ts';
import type { PodInfo } from './pod-info.ts';
import type { NominatedPods } from './runtime.ts';

export interface QueuedPodInfo {
  pi: PodInfo;
  /** When it was (re)added to the queue; orders equal priorities and starts the backoff. */
  timestamp: number;
  /** When it was first popped (0: never). */
  initialAttempt: number;
  attempts: number;
  /** Plugins that rejected it in its last attempt. */
  unschedulablePlugins: Set<string>;
  backoffExpiry: number;
}

export interface QueueOptions {
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** A pod longer than this in the unschedulable pool is retried anyway (default 5 min). */
  maxUnschedulableMs?: number;
  /** How often the pool is checked for such pods (default 30 s). */
  flushIntervalMs?: number;
  now?: () => number;
  /** Queueing hints: may this event make the pod schedulable? */
  maybeSchedulable?(q: QueuedPodInfo, event: ClusterEvent, oldObj?: KubeObject, newObj?: KubeObject): boolean;
}

/** Pods nominated to a node by preemption (status.nominatedNodeName). */
export class Nominator implements NominatedPods {
  private readonly byNode = new Map<string, PodInfo[]>();
  private readonly byPod = new Map<string, string>();

  add(pi: PodInfo, nodeName: string): void {
    this.remove(pi.key);
    if (!nodeName) return;
    this.byPod.set(pi.key, nodeName);
    const list = this.byNode.get(nodeName);
    if (list) list.push(pi);
    else this.byNode.set(nodeName, [pi]);
  }

  remove(key: string): void {
    const node = this.byPod.get(key);
    if (node === undefined) return;
    this.byPod.delete(key);
    const list = this.byNode.get(node)?.filter((p) => p.key !== key) ?? [];
    if (list.length) this.byNode.set(node, list);
    else this.byNode.delete(node);
  }

  /** Keep the nomination but point it at a newer PodInfo of the same pod. */
  refresh(pi: PodInfo): void {
    const node = this.byPod.get(pi.key);
    if (node !== undefined) this.add(pi, node);
  }

  get size(): number {
    return this.byPod.size;
  }

  nodeOf(key: string): string | undefined {
    return this.byPod.get(key);
  }

  podsOn(nodeName: string): readonly PodInfo[] | undefined {
    return this.byNode.get(nodeName);
  }
}

const activeLess = (a: QueuedPodInfo, b: QueuedPodInfo) =>
  a.pi.priority !== b.pi.priority ? a.pi.priority > b.pi.priority : a.timestamp < b.timestamp;
const backoffLess = (a: QueuedPodInfo, b: QueuedPodInfo) => a.backoffExpiry < b.backoffExpiry;
const keyOfQ = (q: QueuedPodInfo) => q.pi.key;

export class SchedulingQueue {
  private readonly activeQ = new Heap<QueuedPodInfo>(activeLess, keyOfQ);
  private readonly backoffQ = new Heap<QueuedPodInfo>(backoffLess, keyOfQ);
  private readonly unschedulable = new Map<string, QueuedPodInfo>();
  readonly nominator = new Nominator();
  private readonly initialBackoff: number;
  private readonly maxBackoff: number;
  private readonly maxUnschedulable: number;
  private readonly now: () => number;
  private waiters: Array<() => void> = [];
  private backoffTimer?: NodeJS.Timeout;
  private backoffTimerAt = Infinity;
  private readonly flushTimer: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly opts: QueueOptions = {}) {
    this.initialBackoff = opts.initialBackoffMs ?? 1000;
    this.maxBackoff = opts.maxBackoffMs ?? 10_000;
    this.maxUnschedulable = opts.maxUnschedulableMs ?? 300_000;
    this.now = opts.now ?? Date.now;
    this.flushTimer = setInterval(() => this.flushUnschedulableLeftover(), opts.flushIntervalMs ?? 30_000);
    this.flushTimer.unref?.();
  }

  get lengths(): { active: number; backoff: number; unschedulable: number } {
    return { active: this.activeQ.size, backoff: this.backoffQ.size, unschedulable: this.unschedulable.size };
  }

  has(key: string): boolean {
    return this.activeQ.has(key) || this.backoffQ.has(key) || this.unschedulable.has(key);
  }

  /** A new pending pod. */
  add(pi: PodInfo): void {
    if (this.closed || this.has(pi.key)) return;
    const q: QueuedPodInfo = { pi, timestamp: this.now(), initialAttempt: 0, attempts: 0, unschedulablePlugins: new Set(), backoffExpiry: 0 };
    this.nominateFromStatus(pi);
    this.toActive(q);
  }

  /**
   * A pending pod changed. `meaningful`: its spec or labels changed (not just its status), which
   * may make an unschedulable pod schedulable.
   */
  update(pi: PodInfo, meaningful: boolean): void {
    const key = pi.key;
    this.nominateFromStatus(pi);
    const inActive = this.activeQ.get(key);
    if (inActive) {
      inActive.pi = pi;
      this.activeQ.push(inActive);
      return;
    }
    const inBackoff = this.backoffQ.get(key);
    if (inBackoff) {
      inBackoff.pi = pi;
      return;
    }
    const inPool = this.unschedulable.get(key);
    if (inPool) {
      inPool.pi = pi;
      if (!meaningful) return;
      this.unschedulable.delete(key);
      this.requeue(inPool);
      return;
    }
    this.add(pi);
  }

  delete(key: string): void {
    this.activeQ.remove(key);
    this.backoffQ.remove(key);
    this.unschedulable.delete(key);
    this.nominator.remove(key);
  }

  /** The next pod to schedule, if any (its attempt is counted). */
  pop(): QueuedPodInfo | undefined {
    const q = this.activeQ.pop();
    if (!q) return undefined;
    q.attempts++;
    if (!q.initialAttempt) q.initialAttempt = this.now();
    return q;
  }

  /** Resolves when a pod may be ready to pop (or the queue closes). */
  wait(): Promise<void> {
    if (this.activeQ.size || this.closed) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  /**
   * After a failed attempt: to the unschedulable pool when plugins rejected it, else (an error,
   * or nothing in particular to wait for) to the backoff queue.
   */
  addUnschedulable(q: QueuedPodInfo, rejectors: Set<string>, toBackoff = false): void {
    if (this.closed || this.has(q.pi.key)) return;
    q.timestamp = this.now();
    q.unschedulablePlugins = rejectors;
    q.backoffExpiry = q.timestamp + this.backoffDuration(q.attempts);
    if (toBackoff || rejectors.size === 0) this.toBackoff(q);
    else this.unschedulable.set(q.pi.key, q);
  }

  /** A cluster event: wake the unschedulable pods it may help. */
  moveAllToActiveOrBackoff(event: ClusterEvent, oldObj?: KubeObject, newObj?: KubeObject): void {
    if (!this.unschedulable.size) return;
    const moved: QueuedPodInfo[] = [];
    for (const q of this.unschedulable.values()) {
      if (this.opts.maybeSchedulable && !this.opts.maybeSchedulable(q, event, oldObj, newObj)) continue;
      moved.push(q);
    }
    for (const q of moved) {
      this.unschedulable.delete(q.pi.key);
      this.requeue(q);
    }
  }

  /** Move specific pods to the activeQ now (e.g. after their preemption finished). */
  activate(keys: Iterable<string>): void {
    for (const key of keys) {
      const q = this.unschedulable.get(key) ?? this.backoffQ.get(key);
      if (!q) continue;
      this.unschedulable.delete(key);
      this.backoffQ.remove(key);
      this.toActive(q);
    }
  }

  close(): void {
    this.closed = true;
    clearInterval(this.flushTimer);
    if (this.backoffTimer) clearTimeout(this.backoffTimer);
    for (const w of this.waiters.splice(0)) w();
  }

  backoffDuration(attempts: number): number {
    let d = this.initialBackoff;
    for (let i = 1; i < attempts; i++) {
      if (d > this.maxBackoff - d) return this.maxBackoff;
      d += d;
    }
    return Math.min(d, this.maxBackoff);
  }

  private nominateFromStatus(pi: PodInfo): void {
    const nominated: string | undefined = pi.pod.status?.nominatedNodeName;
    if (nominated) this.nominator.add(pi, nominated);
    else this.nominator.refresh(pi);
  }

  private requeue(q: QueuedPodInfo): void {
    if (q.backoffExpiry > this.now()) this.toBackoff(q);
    else this.toActive(q);
  }

  private toActive(q: QueuedPodInfo): void {
    this.activeQ.push(q);
    const ws = this.waiters.splice(0);
    for (const w of ws) w();
  }

  private toBackoff(q: QueuedPodInfo): void {
    this.backoffQ.push(q);
    this.armBackoffTimer();
  }

  private armBackoffTimer(): void {
    const next = this.backoffQ.peek();
    if (!next || this.closed) return;
    if (this.backoffTimer && this.backoffTimerAt <= next.backoffExpiry) return;
    if (this.backoffTimer) clearTimeout(this.backoffTimer);
    this.backoffTimerAt = next.backoffExpiry;
    this.backoffTimer = setTimeout(() => {
      this.backoffTimer = undefined;
      this.backoffTimerAt = Infinity;
      this.flushBackoffCompleted();
    }, Math.max(0, next.backoffExpiry - this.now()));
    this.backoffTimer.unref?.();
  }

  private flushBackoffCompleted(): void {
    const now = this.now();
    for (let q = this.backoffQ.peek(); q && q.backoffExpiry <= now; q = this.backoffQ.peek()) {
      this.backoffQ.pop();
      this.toActive(q);
    }
    this.armBackoffTimer();
  }

  private flushUnschedulableLeftover(): void {
    const now = this.now();
    const old = [...this.unschedulable.values()].filter((q) => now - q.timestamp >= this.maxUnschedulable);
    for (const q of old) {
      this.unschedulable.delete(q.pi.key);
      this.requeue(q);
    }
  }
}
