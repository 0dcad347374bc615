/**
 * PodInfo: a pod plus everything the plugins need from it, computed once per pod version
 * (framework.PodInfo): requests as integers, host ports, compiled affinity terms, tolerations,
 * normalized images and the resolved priority. Objects are read, never copied or changed.
 */
import type { KubeObject } from '../api/types.ts';
import { keyOf } from '../controllers/informer.ts';
import {
  compileAffinityTerm,
  compilePreferredNodeTerms,
  compileRequiredNodeAffinity,
  type AffinityTerm,
  type Labels,
  type NodeMatcher,
  type PreferredNodeTerm,
  type Toleration,
} from './affinity.ts';
import { podRequests, type Resources } from './resources.ts';

export interface HostPort {
  ip: string;
  protocol: string;
  port: number;
}

export interface PodInfo {
  pod: KubeObject;
  key: string;
  namespace: string;
  name: string;
  uid: string;
  labels: Labels;
  priority: number;
  /** PreemptLowerPriority (default) or Never. */
  preemptionPolicy: string;
  requests: Resources;
  /** Requests with the 100m / 200Mi defaults for containers that ask for nothing (scoring). */
  nonZero: Resources;
  hostPorts: HostPort[] | null;
  tolerations: Toleration[];
  requiredNodeAffinity: NodeMatcher | undefined;
  preferredNodeTerms: PreferredNodeTerm[];
  requiredAffinityTerms: AffinityTerm[];
  requiredAntiAffinityTerms: AffinityTerm[];
  preferredAffinityTerms: AffinityTerm[];
  preferredAntiAffinityTerms: AffinityTerm[];
  /** Normalized image names of init and app containers. */
  images: string[];
  /** The node it is bound or assumed to (set by the cache), '' when pending. */
  nodeName: string;
  terminating: boolean;
}

/** Resolves a pod's priority and preemption policy (PriorityClass lookup). */
export type PriorityResolver = (pod: KubeObject) => { priority: number; preemptionPolicy: string };

export const defaultPriority: PriorityResolver = (pod) => ({
  priority: typeof pod.spec?.priority === 'number' ? pod.spec.priority : 0,
  preemptionPolicy: pod.spec?.preemptionPolicy ?? 'PreemptLowerPriority',
});

/** `nginx` → `nginx:latest`, as the kubelet and ImageLocality normalize. */
export function normalizedImageName(name: string): string {
  if (name.includes('@')) return name;
  const slash = name.lastIndexOf('/');
  return name.indexOf(':', slash + 1) < 0 ? `${name}:latest` : name;
}

function addHostPorts(out: HostPort[] | null, c: any): HostPort[] | null {
  const ports = c?.ports;
  if (!ports) return out;
  for (const p of ports) {
    const port = Number(p?.hostPort ?? 0);
    if (!(port > 0)) continue;
    (out ??= []).push({ ip: p.hostIP || '0.0.0.0', protocol: p.protocol || 'TCP', port });
  }
  return out;
}

function hostPortsOf(spec: any): HostPort[] | null {
  let out: HostPort[] | null = null;
  for (const c of spec.containers ?? []) out = addHostPorts(out, c);
  for (const c of spec.initContainers ?? []) if (c?.restartPolicy === 'Always') out = addHostPorts(out, c);
  return out;
}

function terms(ns: string, list: any[] | undefined, weighted: boolean): AffinityTerm[] {
  const out: AffinityTerm[] = [];
  for (const t of list ?? []) {
    const term = weighted ? compileAffinityTerm(ns, t?.podAffinityTerm, Number(t?.weight ?? 0)) : compileAffinityTerm(ns, t);
    if (term && (!weighted || term.weight)) out.push(term);
  }
  return out;
}

const NO_TERMS: AffinityTerm[] = [];

export function newPodInfo(pod: KubeObject, resolve: PriorityResolver = defaultPriority): PodInfo {
  const m = pod.metadata;
  const spec = pod.spec ?? {};
  const ns = m.namespace ?? 'default';
  const aff = spec.affinity;
  const pa = aff?.podAffinity;
  const paa = aff?.podAntiAffinity;
  const images: string[] = [];
  for (const c of spec.initContainers ?? []) if (c?.image) images.push(normalizedImageName(c.image));
  for (const c of spec.containers ?? []) if (c?.image) images.push(normalizedImageName(c.image));
  const { priority, preemptionPolicy } = resolve(pod);
  return {
    pod,
    key: keyOf(pod),
    namespace: ns,
    name: m.name ?? '',
    uid: m.uid ?? '',
    labels: (m.labels ?? {}) as Labels,
    priority,
    preemptionPolicy,
    requests: podRequests(pod, false),
    nonZero: podRequests(pod, true),
    hostPorts: hostPortsOf(spec),
    tolerations: Array.isArray(spec.tolerations) ? spec.tolerations : [],
    requiredNodeAffinity: compileRequiredNodeAffinity(pod),
    preferredNodeTerms: compilePreferredNodeTerms(aff?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution),
    requiredAffinityTerms: pa ? terms(ns, pa.requiredDuringSchedulingIgnoredDuringExecution, false) : NO_TERMS,
    requiredAntiAffinityTerms: paa ? terms(ns, paa.requiredDuringSchedulingIgnoredDuringExecution, false) : NO_TERMS,
    preferredAffinityTerms: pa ? terms(ns, pa.preferredDuringSchedulingIgnoredDuringExecution, true) : NO_TERMS,
    preferredAntiAffinityTerms: paa ? terms(ns, paa.preferredDuringSchedulingIgnoredDuringExecution, true) : NO_TERMS,
    images,
    nodeName: spec.nodeName ?? '',
    terminating: !!m.deletionTimestamp,
  };
}

export function hasAffinity(pi: PodInfo): boolean {
  return (
    pi.requiredAffinityTerms.length > 0 ||
    pi.requiredAntiAffinityTerms.length > 0 ||
    pi.preferredAffinityTerms.length > 0 ||
    pi.preferredAntiAffinityTerms.length > 0
  );
}

/** Pod start time for preemption ordering: status.startTime, else creation time. */
export function podStartTime(pi: PodInfo): number {
  const t = pi.pod.status?.startTime ?? pi.pod.metadata.creationTimestamp;
  const ms = t ? Date.parse(t) : NaN;
  return Number.isFinite(ms) ? ms : 0;
}

/** util.MoreImportantPod: higher priority first, then the one that started earlier. */
export function moreImportant(a: PodInfo, b: PodInfo): boolean {
  if (a.priority !== b.priority) return a.priority > b.priority;
  return podStartTime(a) < podStartTime(b);
}
