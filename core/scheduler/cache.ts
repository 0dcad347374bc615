/**
 * The scheduler cache (internal/cache): nodes with the pods bound to them, plus *assumed* pods —
 * a pod is placed on its node the moment the scheduler decides, before the binding is written, so
 * the next cycle already counts it. The informer's update later confirms it; a failed binding
 * forgets it. Because a scheduling cycle runs synchronously, the cache itself is the cycle's
 * snapshot: nothing can change it while filters and scores run.
 */
import type { KubeObject } from '../api/types.ts';
import { keyOf } from '../controllers/informer.ts';
import { log } from '../log.ts';
import { NodeInfo } from './node-info.ts';
import { newPodInfo, hasAffinity, defaultPriority, type PodInfo, type PriorityResolver } from './pod-info.ts';
import { PodIndex } from './pod-index.ts';

interface PodState {
  pi: PodInfo;
  assumed: boolean;
  bindingFinished: boolean;
}

export class SchedulerCache {
  /** Every NodeInfo, including placeholders for pods whose node is not (yet) known. */
  readonly nodes = new Map<string, NodeInfo>();
  private list: NodeInfo[] = [];
  private listDirty = false;
  private readonly pods = new Map<string, PodState>();
  readonly index = new PodIndex();
  readonly podsWithAffinity = new Set<PodInfo>();
  readonly podsWithRequiredAntiAffinity = new Set<PodInfo>();
  /** Normalized image → number of nodes that have it (ImageLocality's spread). */
  readonly imageNodes = new Map<string, number>();
  /**
   * Cluster-wide counts that let plugins skip work that cannot change the outcome: cordoned
   * nodes, nodes with NoSchedule/NoExecute taints, nodes with PreferNoSchedule taints.
   */
  readonly counts = { unschedulable: 0, hardTainted: 0, softTainted: 0 };
  /** Bumped whenever a node is added, changed or removed (plugins' derived caches check it). */
  nodeGeneration = 0;
  private readonly podObservers: Array<(pi: PodInfo, delta: 1 | -1) => void> = [];

  constructor(private readonly resolve: PriorityResolver = defaultPriority) {}

  /** Be told of every pod placed on (+1) or taken off (-1) a node, assumed ones included. */
  observePods(fn: (pi: PodInfo, delta: 1 | -1) => void): void {
    this.podObservers.push(fn);
  }

  /** Nodes that exist (have a Node object), in a stable order. */
  nodeList(): NodeInfo[] {
    if (this.listDirty) {
      this.list = [...this.nodes.values()].filter((n) => n.node !== null);
      this.listDirty = false;
    }
    return this.list;
  }

  get numNodes(): number {
    return this.nodeList().length;
  }

  podInfo(pod: KubeObject): PodInfo {
    return newPodInfo(pod, this.resolve);
  }

  // ---- nodes ---------------------------------------------------------------------------------

  addNode(node: KubeObject): NodeInfo {
    const name = node.metadata.name!;
    let ni = this.nodes.get(name);
    if (!ni) this.nodes.set(name, (ni = new NodeInfo(name)));
    this.countImages(ni, -1);
    this.countFlags(ni, -1);
    const had = ni.node !== null;
    ni.setNode(node);
    this.countImages(ni, 1);
    this.countFlags(ni, 1);
    if (!had) this.listDirty = true;
    this.nodeGeneration++;
    return ni;
  }

  removeNode(node: KubeObject): void {
    const ni = this.nodes.get(node.metadata.name!);
    if (!ni) return;
    this.countImages(ni, -1);
    this.countFlags(ni, -1);
    ni.node = null;
    this.listDirty = true;
    this.nodeGeneration++;
    // Pods still bound to it stay accounted (a ghost node) until they are deleted.
    if (ni.pods.length === 0) this.nodes.delete(ni.name);
  }

  private countFlags(ni: NodeInfo, sign: 1 | -1): void {
    if (!ni.node) return;
    if (ni.unschedulable) this.counts.unschedulable += sign;
    if (ni.hardTaints.length) this.counts.hardTainted += sign;
    if (ni.taints.some((t) => t.effect === 'PreferNoSchedule')) this.counts.softTainted += sign;
  }

  private countImages(ni: NodeInfo, sign: 1 | -1): void {
    if (!ni.node) return;
    for (const img of ni.images.keys()) {
      const n = (this.imageNodes.get(img) ?? 0) + sign;
      if (n > 0) this.imageNodes.set(img, n);
      else this.imageNodes.delete(img);
    }
  }

  // ---- pods ----------------------------------------------------------------------------------

  isAssumed(key: string): boolean {
    return !!this.pods.get(key)?.assumed;
  }

  getPod(key: string): PodInfo | undefined {
    return this.pods.get(key)?.pi;
  }

  /** Place a pod on the node it was just scheduled to, before the binding is written. */
  assumePod(pi: PodInfo, nodeName: string): void {
    if (this.pods.has(pi.key)) throw new Error(`pod ${pi.key} is already in the scheduler cache`);
    pi.nodeName = nodeName;
    this.place(pi);
    this.pods.set(pi.key, { pi, assumed: true, bindingFinished: false });
  }

  finishBinding(key: string): void {
    const st = this.pods.get(key);
    if (st?.assumed) st.bindingFinished = true;
  }

  /** The binding failed: take the assumed pod off its node again. */
  forgetPod(key: string): PodInfo | undefined {
    const st = this.pods.get(key);
    if (!st || !st.assumed) return undefined;
    this.unplace(st.pi);
    this.pods.delete(key);
    st.pi.nodeName = '';
    return st.pi;
  }

  /**
   * The informer saw the binding of an assumed pod, and nothing else changed since the version the
   * scheduler decided on (`previous` is that version): keep the PodInfo, swap in the new object.
   * @returns false when the pod must go through addPod instead.
   */
  confirmBinding(pod: KubeObject, previous: KubeObject): boolean {
    const st = this.pods.get(keyOf(pod));
    if (!st?.assumed || st.pi.nodeName !== pod.spec?.nodeName) return false;
    if (st.pi.pod.metadata.resourceVersion !== previous.metadata.resourceVersion || pod.metadata.deletionTimestamp) return false;
    st.pi.pod = pod;
    st.assumed = false;
    st.bindingFinished = true;
    return true;
  }

  /** A bound pod from the informer (confirms an assumed one). */
  addPod(pod: KubeObject): PodInfo {
    const key = keyOf(pod);
    const st = this.pods.get(key);
    const pi = this.podInfo(pod);
    pi.nodeName = pod.spec.nodeName;
    if (st) {
      if (!st.assumed) log.debug('scheduler cache: pod added twice', { pod: key });
      this.unplace(st.pi);
    }
    this.place(pi);
    this.pods.set(key, { pi, assumed: false, bindingFinished: true });
    return pi;
  }

  updatePod(pod: KubeObject): PodInfo {
    return this.addPod(pod);
  }

  /** @returns the PodInfo that was removed, if any. */
  removePod(pod: KubeObject): PodInfo | undefined {
    const key = keyOf(pod);
    const st = this.pods.get(key);
    if (!st) return undefined;
    this.unplace(st.pi);
    this.pods.delete(key);
    return st.pi;
  }

  private place(pi: PodInfo): void {
    let ni = this.nodes.get(pi.nodeName);
    if (!ni) this.nodes.set(pi.nodeName, (ni = new NodeInfo(pi.nodeName)));
    ni.addPod(pi);
    this.index.add(pi);
    if (hasAffinity(pi)) this.podsWithAffinity.add(pi);
    if (pi.requiredAntiAffinityTerms.length) this.podsWithRequiredAntiAffinity.add(pi);
    for (const o of this.podObservers) o(pi, 1);
  }

  private unplace(pi: PodInfo): void {
    const ni = this.nodes.get(pi.nodeName);
    if (ni) {
      ni.removePod(pi.key);
      if (!ni.node && ni.pods.length === 0) this.nodes.delete(ni.name);
    }
    this.index.remove(pi);
    this.podsWithAffinity.delete(pi);
    this.podsWithRequiredAntiAffinity.delete(pi);
    for (const o of this.podObservers) o(pi, -1);
  }

  /** Pods bound or assumed, for tests and diagnostics. */
  podCount(): number {
    return this.pods.size;
  }
}
