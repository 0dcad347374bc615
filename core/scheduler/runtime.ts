/**
 * The framework runtime for one profile (frameworkImpl + schedule_one's algorithm): plugins
 * built from the profile, PreFilter → Filter (over a round-robin window of nodes sized by
 * percentageOfNodesToScore, with higher-priority nominated pods counted) → PreScore → Score →
 * NormalizeScore → weighted sum → pick the best (random among ties).
 */
import type { KubeObject } from '../api/types.ts';
import {
  CycleState,
  ERR_NO_NODES,
  fitErrorMessage,
  Status,
  type ClusterEvent,
  type EventRegistration,
  type Handle,
  type Plugin,
} from './framework.ts';
import type { NodeInfo } from './node-info.ts';
import type { PodInfo } from './pod-info.ts';
import type { Profile } from './profile.ts';

const MIN_FEASIBLE_NODES = 100;
const MIN_FEASIBLE_PERCENTAGE = 5;

/** Pods nominated to nodes (by preemption), visible to the filters of lower-priority pods. */
export interface NominatedPods {
  /** How many pods are nominated anywhere (0: nothing to add, the common case). */
  readonly size: number;
  podsOn(nodeName: string): readonly PodInfo[] | undefined;
}

/** Why a pod fits nowhere, node by node (framework.Diagnosis). */
export interface Diagnosis {
  statuses: Map<string, Status>;
  /** Set when a PreFilter rejected the pod outright: every node counts with this status. */
  preFilterStatus?: Status;
  unschedulablePlugins: Set<string>;
  numAllNodes: number;
}

export type ScheduleResult =
  | { ok: true; node: NodeInfo; evaluated: number; feasible: number }
  | { ok: false; diagnosis: Diagnosis; error?: string };

/** kube-scheduler's numFeasibleNodesToFind. */
export function numFeasibleNodesToFind(percentage: number, numAllNodes: number): number {
  if (numAllNodes < MIN_FEASIBLE_NODES) return numAllNodes;
  let p = percentage;
  if (p <= 0) {
    p = 50 - Math.trunc(numAllNodes / 125);
    if (p < MIN_FEASIBLE_PERCENTAGE) p = MIN_FEASIBLE_PERCENTAGE;
  }
  if (p >= 100) return numAllNodes;
  const n = Math.trunc((numAllNodes * p) / 100);
  return n < MIN_FEASIBLE_NODES ? MIN_FEASIBLE_NODES : n;
}

interface Weighted {
  plugin: Plugin;
  weight: number;
}

export class Framework {
  readonly plugins: Plugin[];
  private readonly scorers: Weighted[];
  /** event → plugin name → registrations. */
  private readonly interest = new Map<ClusterEvent, Array<{ plugin: string; reg: EventRegistration }>>();
  private nextStartNodeIndex = 0;

  constructor(
    readonly profile: Profile,
    readonly handle: Handle,
    private readonly random: () => number = Math.random,
  ) {
    this.plugins = profile.plugins.map((p) => p.plugin.create(handle));
    this.scorers = profile.plugins
      .map((p, i) => ({ plugin: this.plugins[i]!, weight: p.weight ?? 0 }))
      .filter((w) => w.weight > 0 && w.plugin.score);
    for (const p of this.plugins) {
      for (const reg of p.events ?? []) {
        let list = this.interest.get(reg.event);
        if (!list) this.interest.set(reg.event, (list = []));
        list.push({ plugin: p.name, reg });
      }
    }
  }

  /**
   * Whether `event` may make a pod that these plugins rejected schedulable (queueing hints).
   * A pod rejected by no plugin in particular is always worth another try.
   */
  podMaybeSchedulable(pod: PodInfo, rejectors: ReadonlySet<string>, event: ClusterEvent, oldObj?: KubeObject, newObj?: KubeObject): boolean {
    if (event === 'UnschedulableTimeout' || rejectors.size === 0) return true;
    const regs = this.interest.get(event);
    if (!regs) return false;
    for (const { plugin, reg } of regs) {
      if (!rejectors.has(plugin)) continue;
      if (!reg.hint || reg.hint(pod, oldObj, newObj)) return true;
    }
    return false;
  }

  // ---- filtering -------------------------------------------------------------------------------

  runPreFilter(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): { status: Status; plugin: string } | null {
    for (const p of this.plugins) {
      if (!p.preFilter) continue;
      const s = p.preFilter(state, pod, nodes);
      if (!s || s.isSuccess()) continue;
      if (s.code === 'Skip') {
        state.skipFilter.add(p.name);
        continue;
      }
      return { status: s.isRejected() ? s : Status.error(`running PreFilter plugin "${p.name}": ${s.message}`), plugin: p.name };
    }
    return null;
  }

  /** The filters this cycle runs (after preFilter skips). */
  activeFilters(state: CycleState): Plugin[] {
    const out: Plugin[] = [];
    for (const p of this.plugins) if (p.filter && !state.skipFilter.has(p.name)) out.push(p);
    return out;
  }

  runFilters(filters: readonly Plugin[], state: CycleState, pod: PodInfo, node: NodeInfo): { status: Status; plugin: string } | null {
    for (const p of filters) {
      const s = p.filter!(state, pod, node);
      if (s) return { status: s, plugin: p.name };
    }
    return null;
  }

  /** Adds nominated pods of at least this pod's priority to copies of the state and node. */
  addNominatedPods(state: CycleState, pod: PodInfo, node: NodeInfo, nominated: NominatedPods | undefined): { state: CycleState; node: NodeInfo } | null {
    if (!nominated || nominated.size === 0) return null;
    const noms = nominated.podsOn(node.name);
    if (!noms || !noms.length) return null;
    let out: { state: CycleState; node: NodeInfo } | null = null;
    for (const p of noms) {
      if (p.key === pod.key || p.priority < pod.priority) continue;
      out ??= { state: state.clone(), node: node.clone() };
      out.node.addPod(p);
      for (const pl of this.plugins) pl.addPod?.(out.state, pod, p, out.node);
    }
    return out;
  }

  /** RunFilterPluginsWithNominatedPods: passes only if the node fits with and without them. */
  runFiltersWithNominated(
    filters: readonly Plugin[],
    state: CycleState,
    pod: PodInfo,
    node: NodeInfo,
    nominated: NominatedPods | undefined,
  ): { status: Status; plugin: string } | null {
    const withNominated = this.addNominatedPods(state, pod, node, nominated);
    if (!withNominated) return this.runFilters(filters, state, pod, node);
    const first = this.runFilters(filters, withNominated.state, pod, withNominated.node);
    if (first) return first;
    return this.runFilters(filters, state, pod, node);
  }

  /** Finds nodes that pass every filter, starting where the previous cycle stopped. */
  findFeasible(
    state: CycleState,
    pod: PodInfo,
    nodes: readonly NodeInfo[],
    nominated: NominatedPods | undefined,
    diagnosis: Diagnosis,
  ): NodeInfo[] {
    const filters = this.activeFilters(state);
    const noms = nominated && nominated.size > 0 ? nominated : undefined;
    const n = nodes.length;
    const want = numFeasibleNodesToFind(this.profile.percentageOfNodesToScore, n);
    const feasible: NodeInfo[] = [];
    if (this.nextStartNodeIndex >= n) this.nextStartNodeIndex = 0;
    let processed = 0;
    for (let i = 0; i < n && feasible.length < want; i++) {
      const node = nodes[(this.nextStartNodeIndex + i) % n]!;
      processed++;
      const failed = noms ? this.runFiltersWithNominated(filters, state, pod, node, noms) : this.runFilters(filters, state, pod, node);
      if (!failed) {
        feasible.push(node);
        continue;
      }
      diagnosis.statuses.set(node.name, failed.status);
      if (failed.status.isRejected()) diagnosis.unschedulablePlugins.add(failed.plugin);
    }
    this.nextStartNodeIndex = (this.nextStartNodeIndex + processed) % n;
    return feasible;
  }

  // ---- scoring ---------------------------------------------------------------------------------

  /** Weighted totals, parallel to `nodes`. */
  prioritize(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): number[] {
    const totals = new Array<number>(nodes.length).fill(0);
    for (const { plugin } of this.scorers) {
      if (!plugin.preScore) continue;
      const s = plugin.preScore(state, pod, nodes);
      if (s && s.code === 'Skip') state.skipScore.add(plugin.name);
    }
    for (const { plugin, weight } of this.scorers) {
      if (state.skipScore.has(plugin.name)) continue;
      const scores = new Array<number>(nodes.length);
      for (let i = 0; i < nodes.length; i++) scores[i] = plugin.score!(state, pod, nodes[i]!);
      plugin.normalizeScore?.(state, pod, scores, nodes);
      for (let i = 0; i < nodes.length; i++) totals[i]! += scores[i]! * weight;
    }
    return totals;
  }

  /** selectHost: the highest total, a uniformly random one among ties (reservoir sampling). */
  selectHost(totals: readonly number[]): number {
    let best = 0;
    let ties = 1;
    for (let i = 1; i < totals.length; i++) {
      if (totals[i]! > totals[best]!) {
        best = i;
        ties = 1;
      } else if (totals[i] === totals[best]) {
        ties++;
        if (Math.floor(this.random() * ties) === 0) best = i;
      }
    }
    return best;
  }

  /**
   * One pod's scheduling decision over the cache's nodes (synchronous: the cache is the
   * snapshot). A pod with a nominated node tries that node first.
   */
  schedule(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[], nominated: NominatedPods | undefined, nominatedNode?: string): ScheduleResult {
    const diagnosis: Diagnosis = { statuses: new Map(), unschedulablePlugins: new Set(), numAllNodes: nodes.length };
    if (nodes.length === 0) return { ok: false, diagnosis, error: ERR_NO_NODES };
    const pre = this.runPreFilter(state, pod, nodes);
    if (pre) {
      if (pre.status.code === 'Error') return { ok: false, diagnosis, error: pre.status.message };
      diagnosis.preFilterStatus = pre.status;
      diagnosis.unschedulablePlugins.add(pre.plugin);
      return { ok: false, diagnosis };
    }
    if (nominatedNode) {
      const node = this.handle.cache.nodes.get(nominatedNode);
      if (node?.node && !this.runFiltersWithNominated(this.activeFilters(state), state, pod, node, nominated)) {
        return { ok: true, node, evaluated: 1, feasible: 1 };
      }
    }
    const feasible = this.findFeasible(state, pod, nodes, nominated, diagnosis);
    if (!feasible.length) return { ok: false, diagnosis };
    if (feasible.length === 1) return { ok: true, node: feasible[0]!, evaluated: diagnosis.statuses.size + 1, feasible: 1 };
    const totals = this.prioritize(state, pod, feasible);
    return { ok: true, node: feasible[this.selectHost(totals)]!, evaluated: diagnosis.statuses.size + feasible.length, feasible: feasible.length };
  }
}

/** The FitError message for a diagnosis (without the preemption part). */
export function diagnosisMessage(d: Diagnosis, postFilterMsg?: string): string {
  return fitErrorMessage(d.numAllNodes, d.statuses, {
    preFilterMsg: d.preFilterStatus?.message,
    postFilterMsg,
  });
}
