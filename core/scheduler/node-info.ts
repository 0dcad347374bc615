/**
 * NodeInfo: a node with running aggregates of the pods bound or assumed to it (framework.NodeInfo):
 * requested and non-zero-requested resources, used host ports, pods with (anti-)affinity, the
 * node's taints and images. Adding and removing a pod is O(1); nothing is recomputed per cycle.
 */
import type { KubeObject } from '../api/types.ts';
import type { Labels, Taint } from './affinity.ts';
import type { PodInfo } from './pod-info.ts';
import { emptyResources, nodeAllocatable, type Allocatable, type Resources } from './resources.ts';
import { hasAffinity, normalizedImageName } from './pod-info.ts';

const NO_LABELS: Labels = Object.freeze({}) as Labels;

export interface ImageState {
  size: number;
}

export class NodeInfo {
  node: KubeObject | null = null;
  readonly name: string;
  labels: Labels = NO_LABELS;
  allocatable: Allocatable = { ...emptyResources(), pods: 0 };
  unschedulable = false;
  taints: Taint[] = [];
  /** Taints with effect NoSchedule or NoExecute (what the filter checks). */
  hardTaints: Taint[] = [];
  /** Normalized image name → size in bytes (node.status.images). */
  images: Map<string, number> = new Map();

  requested: Resources = emptyResources();
  nonZeroRequested: Resources = emptyResources();
  pods: PodInfo[] = [];
  podsWithAffinity: PodInfo[] = [];
  podsWithRequiredAntiAffinity: PodInfo[] = [];
  /** ip → "protocol/port" → count. */
  usedPorts: Map<string, Map<string, number>> = new Map();
  private index = new Map<string, number>();

  constructor(name: string) {
    this.name = name;
  }

  setNode(node: KubeObject): void {
    this.node = node;
    this.labels = (node.metadata.labels ?? NO_LABELS) as Labels;
    this.allocatable = nodeAllocatable(node);
    this.unschedulable = !!node.spec?.unschedulable;
    this.taints = Array.isArray(node.spec?.taints) ? node.spec.taints : [];
    this.hardTaints = this.taints.filter((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute');
    const images = new Map<string, number>();
    for (const img of node.status?.images ?? []) {
      const size = Number(img?.sizeBytes ?? 0);
      for (const n of img?.names ?? []) images.set(normalizedImageName(n), size);
    }
    this.images = images;
  }

  hasPod(key: string): boolean {
    return this.index.has(key);
  }

  addPod(pi: PodInfo): void {
    if (this.index.has(pi.key)) this.removePod(pi.key);
    this.index.set(pi.key, this.pods.length);
    this.pods.push(pi);
    if (hasAffinity(pi)) this.podsWithAffinity.push(pi);
    if (pi.requiredAntiAffinityTerms.length) this.podsWithRequiredAntiAffinity.push(pi);
    this.account(pi, 1);
  }

  /** @returns the removed PodInfo, if the pod was here. */
  removePod(key: string): PodInfo | undefined {
    const i = this.index.get(key);
    if (i === undefined) return undefined;
    const pi = this.pods[i]!;
    const last = this.pods.pop()!;
    if (last !== pi) {
      this.pods[i] = last;
      this.index.set(last.key, i);
    }
    this.index.delete(key);
    if (hasAffinity(pi)) this.podsWithAffinity = this.podsWithAffinity.filter((p) => p !== pi);
    if (pi.requiredAntiAffinityTerms.length) this.podsWithRequiredAntiAffinity = this.podsWithRequiredAntiAffinity.filter((p) => p !== pi);
    this.account(pi, -1);
    return pi;
  }

  private account(pi: PodInfo, sign: 1 | -1): void {
    addTo(this.requested, pi.requests, sign);
    this.nonZeroRequested.milliCpu += sign * pi.nonZero.milliCpu;
    this.nonZeroRequested.memory += sign * pi.nonZero.memory;
    if (pi.hostPorts) {
      for (const hp of pi.hostPorts) {
        let m = this.usedPorts.get(hp.ip);
        if (!m) this.usedPorts.set(hp.ip, (m = new Map()));
        const k = `${hp.protocol}/${hp.port}`;
        const n = (m.get(k) ?? 0) + sign;
        if (n > 0) m.set(k, n);
        else m.delete(k);
        if (!m.size) this.usedPorts.delete(hp.ip);
      }
    }
  }

  /** A copy whose pod list and aggregates can change without touching this one (preemption). */
  clone(): NodeInfo {
    const c = new NodeInfo(this.name);
    c.node = this.node;
    c.labels = this.labels;
    c.allocatable = this.allocatable;
    c.unschedulable = this.unschedulable;
    c.taints = this.taints;
    c.hardTaints = this.hardTaints;
    c.images = this.images;
    c.requested = { ...this.requested, scalar: this.requested.scalar ? new Map(this.requested.scalar) : null };
    c.nonZeroRequested = { ...this.nonZeroRequested, scalar: null };
    c.pods = [...this.pods];
    c.podsWithAffinity = [...this.podsWithAffinity];
    c.podsWithRequiredAntiAffinity = [...this.podsWithRequiredAntiAffinity];
    c.usedPorts = new Map([...this.usedPorts].map(([ip, m]) => [ip, new Map(m)]));
    c.index = new Map(this.index);
    return c;
  }
}

function addTo(to: Resources, r: Resources, sign: 1 | -1): void {
  to.milliCpu += sign * r.milliCpu;
  to.memory += sign * r.memory;
  to.ephemeral += sign * r.ephemeral;
  if (r.scalar) {
    to.scalar ??= new Map();
    for (const [k, v] of r.scalar) to.scalar.set(k, (to.scalar.get(k) ?? 0) + sign * v);
  }
}

/** HostPortInfo.CheckConflict: 0.0.0.0 conflicts with every address; others with themselves and 0.0.0.0. */
export function portConflicts(used: Map<string, Map<string, number>>, ip: string, protocol: string, port: number): boolean {
  if (port <= 0 || used.size === 0) return false;
  const k = `${protocol || 'TCP'}/${port}`;
  const addr = ip || '0.0.0.0';
  if (addr === '0.0.0.0') {
    for (const m of used.values()) if (m.has(k)) return true;
    return false;
  }
  return !!used.get('0.0.0.0')?.has(k) || !!used.get(addr)?.has(k);
}
