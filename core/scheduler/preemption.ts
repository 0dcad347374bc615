/**
 * DefaultPreemption (the PostFilter step). When a pod fits nowhere, look for a node where
 * removing lower-priority pods makes it fit: on each node a filter rejected as Unschedulable
 * (not Unresolvable), take away every lower-priority pod, check the pod fits, then give back as
 * many as possible, most important first; the rest are the victims. Among candidate nodes pick
 * the one whose most important victim is least important, then the lowest sum of priorities, the
 * fewest victims, the latest start time. The result is a plan; the scheduler carries it out
 * (DisruptionTarget condition, delete with the pod's grace period, `Preempted` event) and
 * nominates the node for the preemptor, which schedules there once the victims are gone.
 *
 * Messages are kube-scheduler's: "preemption: 0/3 nodes are available: 1 Preemption is not
 * helpful for scheduling, 2 No preemption victims found for incoming pod." etc.
 */
import type { CycleState } from './framework.ts';
import { fitErrorMessage, Status } from './framework.ts';
import type { NodeInfo } from './node-info.ts';
import { moreImportant, podStartTime, type PodInfo } from './pod-info.ts';
import type { SchedulerCache } from './cache.ts';
import type { Diagnosis, Framework, NominatedPods } from './runtime.ts';

export const NOT_HELPFUL = 'Preemption is not helpful for scheduling';
export const NO_VICTIMS = 'No preemption victims found for incoming pod';
export const NOT_ELIGIBLE_POLICY = 'not eligible due to preemptionPolicy=Never.';
export const NOT_ELIGIBLE_TERMINATING = 'not eligible due to a terminating pod on the nominated node.';
const MIN_CANDIDATE_NODES_PERCENTAGE = 10;
const MIN_CANDIDATE_NODES_ABSOLUTE = 100;
const INT32_SPAN = 2 ** 31;

export interface PreemptionPlan {
  node: string;
  /** Most important first. */
  victims: PodInfo[];
  /** Lower-priority pods nominated to the same node: their nomination is cleared. */
  lowerNominated: PodInfo[];
}

export interface PreemptionResult {
  /** The PostFilter message ("preemption: …"), '' on success. */
  message: string;
  /** undefined: leave the pod's nomination as is; '': clear it; else: nominate this node. */
  nominatedNode?: string;
  plan?: PreemptionPlan;
}

/** A victim already being removed by an earlier preemption (DisruptionTarget, deletionTimestamp). */
export function terminatingByPreemption(pi: PodInfo): boolean {
  if (!pi.terminating) return false;
  const c = (pi.pod.status?.conditions ?? []).find((x: any) => x.type === 'DisruptionTarget');
  return !!c && c.status === 'True' && c.reason === 'PreemptionByScheduler';
}

export class DefaultPreemption {
  constructor(
    private readonly fw: Framework,
    private readonly cache: SchedulerCache,
    private readonly nominated: NominatedPods,
    private readonly random: () => number = Math.random,
  ) {}

  preempt(state: CycleState, pod: PodInfo, diagnosis: Diagnosis, nominatedNode: string | undefined): PreemptionResult {
    const statusOf = (name: string): Status =>
      diagnosis.statuses.get(name) ?? diagnosis.preFilterStatus ?? Status.unresolvable();
    // 1) Is the pod allowed to preempt (again)?
    if (pod.preemptionPolicy === 'Never') return { message: `preemption: ${NOT_ELIGIBLE_POLICY}` };
    if (nominatedNode && statusOf(nominatedNode).code !== 'UnschedulableAndUnresolvable') {
      const node = this.cache.nodes.get(nominatedNode);
      if (node?.pods.some((p) => p.priority < pod.priority && terminatingByPreemption(p))) {
        return { message: `preemption: ${NOT_ELIGIBLE_TERMINATING}` };
      }
    }
    // 2) Candidate nodes: those a filter rejected in a way removing pods might fix.
    const all = this.cache.nodeList();
    const potential = all.filter((n) => statusOf(n.name).code === 'Unschedulable');
    const statuses = new Map<string, Status>();
    const notHelpful = { absent: Status.unresolvable(NOT_HELPFUL) };
    if (!potential.length) {
      return { message: `preemption: ${fitErrorMessage(all.length, statuses, notHelpful)}`, nominatedNode: '' };
    }
    // 3) Dry run, from a random offset, until enough candidates are found.
    const want = numCandidates(potential.length);
    const offset = Math.floor(this.random() * potential.length);
    const candidates: Array<{ node: string; victims: PodInfo[] }> = [];
    for (let i = 0; i < potential.length && candidates.length < want; i++) {
      const node = potential[(offset + i) % potential.length]!;
      const r = this.selectVictimsOnNode(state.clone(), pod, node.clone());
      if (r instanceof Status) statuses.set(node.name, r);
      else candidates.push({ node: node.name, victims: r });
    }
    if (!candidates.length) {
      return { message: `preemption: ${fitErrorMessage(all.length, statuses, notHelpful)}`, nominatedNode: '' };
    }
    // 4) The best candidate, and the plan.
    const best = pickOne(candidates);
    const lowerNominated = (this.nominated.podsOn(best.node) ?? []).filter((p) => p.priority < pod.priority && p.key !== pod.key);
    return { message: '', nominatedNode: best.node, plan: { node: best.node, victims: best.victims, lowerNominated } };
  }

  /** SelectVictimsOnNode on copies of the state and node. @returns the victims, or why none. */
  selectVictimsOnNode(state: CycleState, pod: PodInfo, node: NodeInfo): PodInfo[] | Status {
    const plugins = this.fw.plugins;
    const potential = node.pods.filter((p) => p.priority < pod.priority);
    if (!potential.length) return Status.unresolvable(NO_VICTIMS);
    const remove = (p: PodInfo) => {
      node.removePod(p.key);
      for (const pl of plugins) pl.removePod?.(state, pod, p, node);
    };
    const add = (p: PodInfo) => {
      node.addPod(p);
      for (const pl of plugins) pl.addPod?.(state, pod, p, node);
    };
    for (const p of potential) remove(p);
    const filters = this.fw.activeFilters(state);
    const fits = () => this.fw.runFiltersWithNominated(filters, state, pod, node, this.nominated);
    const first = fits();
    if (first) return first.status;
    potential.sort((a, b) => (moreImportant(a, b) ? -1 : moreImportant(b, a) ? 1 : 0));
    const victims: PodInfo[] = [];
    for (const p of potential) {
      add(p);
      if (fits()) {
        remove(p);
        victims.push(p);
      }
    }
    if (!victims.length) return Status.error(`expected at least one victim pod on node "${node.name}"`);
    return victims;
  }
}

function numCandidates(numNodes: number): number {
  let n = Math.trunc((numNodes * MIN_CANDIDATE_NODES_PERCENTAGE) / 100);
  if (n < MIN_CANDIDATE_NODES_ABSOLUTE) n = MIN_CANDIDATE_NODES_ABSOLUTE;
  return Math.min(n, numNodes);
}

/** pickOneNodeForPreemption (no PodDisruptionBudgets on the desktop: no violations to count). */
function pickOne(cands: Array<{ node: string; victims: PodInfo[] }>): { node: string; victims: PodInfo[] } {
  const scoreFns: Array<(c: { victims: PodInfo[] }) => number> = [
    (c) => -c.victims[0]!.priority,
    (c) => -c.victims.reduce((s, p) => s + p.priority + INT32_SPAN, 0),
    (c) => -c.victims.length,
    (c) => {
      const top = c.victims[0]!.priority;
      let earliest = Infinity;
      for (const p of c.victims) if (p.priority === top) earliest = Math.min(earliest, podStartTime(p));
      return earliest;
    },
  ];
  let pool = cands;
  for (const f of scoreFns) {
    let max = -Infinity;
    let next: typeof cands = [];
    for (const c of pool) {
      const s = f(c);
      if (s > max) {
        max = s;
        next = [c];
      } else if (s === max) next.push(c);
    }
    if (next.length === 1) return next[0]!;
    pool = next;
  }
  return pool[0]!;
}
