/**
 * The scheduling framework's vocabulary (k8s.io/kube-scheduler/framework): Status, CycleState,
 * the plugin extension points, the cluster events plugins wake pending pods on, and the
 * "0/3 nodes are available: …" message a failed cycle adds up to.
 *
 * A plugin file exports `name` and `create(handle)`. Its filter returns null (fits) or a Status
 * carrying constant reason strings; its score returns 0–100 (after normalizeScore, if it has one),
 * which the profile weighs and sums.
 */
import type { KubeObject } from '../api/types.ts';
import type { Client } from '../client/client.ts';
import type { Labels } from './affinity.ts';
import type { SchedulerCache } from './cache.ts';
import type { NodeInfo } from './node-info.ts';
import type { PodInfo } from './pod-info.ts';

export const MAX_NODE_SCORE = 100;

export type StatusCode = 'Success' | 'Error' | 'Unschedulable' | 'UnschedulableAndUnresolvable' | 'Skip';

export class Status {
  constructor(
    readonly code: StatusCode,
    readonly reasons: readonly string[] = [],
  ) {}

  /** Rejected, but preemption (removing pods) might help. */
  static unschedulable(...reasons: string[]): Status {
    return new Status('Unschedulable', reasons);
  }
  /** Rejected, and removing pods from the node would not change that. */
  static unresolvable(...reasons: string[]): Status {
    return new Status('UnschedulableAndUnresolvable', reasons);
  }
  static error(message: string): Status {
    return new Status('Error', [message]);
  }
  /** From preFilter / preScore: this plugin has nothing to do for this pod. */
  static readonly SKIP = new Status('Skip');
  static readonly SUCCESS = new Status('Success');

  get message(): string {
    return this.reasons.join(', ');
  }
  isSuccess(): boolean {
    return this.code === 'Success';
  }
  isRejected(): boolean {
    return this.code === 'Unschedulable' || this.code === 'UnschedulableAndUnresolvable';
  }
}

/** Per-cycle data a plugin computes in preFilter/preScore and reads in filter/score. */
export interface StateData {
  /** A copy that may diverge (preemption and nominated pods change it per node). */
  clone(): StateData;
}

export class CycleState {
  private readonly data = new Map<string, StateData>();
  readonly skipFilter = new Set<string>();
  readonly skipScore = new Set<string>();

  read<T extends StateData>(key: string): T | undefined {
    return this.data.get(key) as T | undefined;
  }
  write(key: string, value: StateData): void {
    this.data.set(key, value);
  }
  clone(): CycleState {
    const c = new CycleState();
    for (const [k, v] of this.data) c.data.set(k, v.clone());
    for (const s of this.skipFilter) c.skipFilter.add(s);
    for (const s of this.skipScore) c.skipScore.add(s);
    return c;
  }
}

// ---- cluster events (what wakes an unschedulable pod) -------------------------------------------

export type ClusterEvent =
  | 'NodeAdd'
  | 'NodeDelete'
  | 'NodeAllocatableUpdate'
  | 'NodeLabelUpdate'
  | 'NodeTaintUpdate'
  | 'NodeConditionUpdate'
  | 'AssignedPodAdd'
  | 'AssignedPodUpdate'
  | 'AssignedPodDelete'
  | 'PvcAdd'
  | 'PvcUpdate'
  | 'PvAdd'
  | 'PvUpdate'
  | 'UnschedulableTimeout';

/**
 * A plugin's interest in an event; `hint` (a queueing hint) may look at the changed object and say
 * whether this pod could now pass the plugin. Without a hint, the event always requeues.
 */
export interface EventRegistration {
  event: ClusterEvent;
  hint?(pod: PodInfo, oldObj: KubeObject | undefined, newObj: KubeObject | undefined): boolean;
}

// ---- handle and plugins ----------------------------------------------------------------------

/** Read access to the informer caches plugins need (all synchronous). */
export interface Listers {
  pvc(namespace: string, name: string): KubeObject | undefined;
  pv(name: string): KubeObject | undefined;
  namespaceLabels(namespace: string): Labels | undefined;
  /** Services in a namespace (DefaultSelector for topology spread). */
  services(namespace: string): KubeObject[];
  /** A namespaced controller by kind (ReplicaSet, StatefulSet, ReplicationController). */
  controller(kind: string, namespace: string, name: string): KubeObject | undefined;
}

export interface Handle {
  readonly cache: SchedulerCache;
  readonly listers: Listers;
  /** For plugins that write (preBind); absent in pure unit setups. */
  readonly client?: Client;
}

export interface Plugin {
  readonly name: string;
  /** May return Status.SKIP (filter not needed for this pod) or a rejection for all nodes. */
  preFilter?(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): Status | null;
  /** Keep preFilter state in step when pods are added to / removed from a node copy. */
  addPod?(state: CycleState, pod: PodInfo, podToAdd: PodInfo, node: NodeInfo): void;
  removePod?(state: CycleState, pod: PodInfo, podToRemove: PodInfo, node: NodeInfo): void;
  filter?(state: CycleState, pod: PodInfo, node: NodeInfo): Status | null;
  /** `nodes`: the feasible ones. May return Status.SKIP. */
  preScore?(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): Status | null;
  score?(state: CycleState, pod: PodInfo, node: NodeInfo): number;
  /** Rewrite `scores` (parallel to `nodes`) into 0–100. */
  normalizeScore?(state: CycleState, pod: PodInfo, scores: number[], nodes: readonly NodeInfo[]): void;
  /** Before binding (e.g. VolumeBinding's selected-node annotation). Throwing fails the binding. */
  preBind?(pod: PodInfo, nodeName: string): Promise<void>;
  readonly events?: readonly EventRegistration[];
}

/** What every plugin file exports. */
export interface PluginModule {
  readonly name: string;
  create(handle: Handle): Plugin;
}

// ---- helpers -----------------------------------------------------------------------------------

/** helper.DefaultNormalizeScore: scale to 0–100 by the maximum; `reverse` flips it. */
export function defaultNormalizeScore(scores: number[], reverse: boolean): void {
  let max = 0;
  for (const s of scores) if (s > max) max = s;
  if (max === 0) {
    if (reverse) scores.fill(MAX_NODE_SCORE);
    return;
  }
  for (let i = 0; i < scores.length; i++) {
    let s = Math.trunc((MAX_NODE_SCORE * scores[i]!) / max);
    if (reverse) s = MAX_NODE_SCORE - s;
    scores[i] = s;
  }
}

export const NO_NODE_AVAILABLE = (n: number) => `0/${n} nodes are available`;
export const ERR_NO_NODES = 'no nodes available to schedule pods';

/**
 * FitError.Error(): "0/3 nodes are available: <sorted histogram>." plus the preFilter message,
 * plus the postFilter (preemption) message. Reasons are counted per node and sorted as strings,
 * exactly as kube-scheduler does (so "1 node(s) …" sorts before "2 Insufficient memory").
 */
export function fitErrorMessage(
  numAllNodes: number,
  statuses: ReadonlyMap<string, Status>,
  opts: { preFilterMsg?: string; postFilterMsg?: string; absent?: Status } = {},
): string {
  let msg = `${NO_NODE_AVAILABLE(numAllNodes)}:`;
  if (opts.preFilterMsg) {
    msg += ` ${opts.preFilterMsg}.`;
  } else {
    const counts = new Map<string, number>();
    for (const s of statuses.values()) for (const r of s.reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
    const missing = numAllNodes - statuses.size;
    if (missing > 0 && opts.absent) for (const r of opts.absent.reasons) counts.set(r, (counts.get(r) ?? 0) + missing);
    const parts = [...counts].map(([r, n]) => `${n} ${r}`).sort(byCodeUnit);
    if (parts.length) msg += ` ${parts.join(', ')}.`;
  }
  if (opts.postFilterMsg) msg += ` ${opts.postFilterMsg}`;
  return msg;
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
