/**
 * The downward API: pod fields (`fieldRef`) and container resources (`resourceFieldRef`) as the
 * kubelet renders them, for env values and downwardAPI volume files.
 */
import type * as k8s from 'kubernetes-types/core/v1.js';
import { parseQuantity, type ResourceList } from '../api/quantity.ts';
import type { Pod } from './util.ts';

export class DownwardError extends Error {}

export interface PodAddresses {
  podIP?: string;
  hostIP?: string;
}

/** The value of `fieldPath` (metadata.name, metadata.labels['app'], status.podIP …). */
export function fieldRefValue(pod: Pod, fieldPath: string, addr: PodAddresses): string {
  const m = pod.metadata;
  const sub = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(fieldPath);
  if (sub) {
    const map = (sub[1] === 'labels' ? m.labels : m.annotations) ?? {};
    return map[sub[2]!] ?? '';
  }
  switch (fieldPath) {
    case 'metadata.name':
      return m.name ?? '';
    case 'metadata.namespace':
      return m.namespace ?? '';
    case 'metadata.uid':
      return m.uid ?? '';
    case 'metadata.labels':
      return formatMap(m.labels);
    case 'metadata.annotations':
      return formatMap(m.annotations);
    case 'spec.nodeName':
      return pod.spec.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec.serviceAccountName ?? '';
    case 'status.podIP':
    case 'status.podIPs':
      return addr.podIP ?? '';
    case 'status.hostIP':
    case 'status.hostIPs':
      return addr.hostIP ?? '';
    default:
      throw new DownwardError(`unsupported fieldPath: ${fieldPath}`);
  }
}

/** `key="value"` lines sorted by key, values quoted as Go's %q: the labels/annotations file format. */
export function formatMap(map: Record<string, string> | undefined): string {
  return Object.keys(map ?? {})
    .sort()
    .map((k) => `${k}=${JSON.stringify(map![k])}`)
    .join('\n');
}

/**
 * `resourceFieldRef` (limits.cpu, requests.memory, limits.ephemeral-storage …) with its divisor;
 * an unset limit is the node's allocatable, as the kubelet does.
 */
export function resourceFieldValue(
  pod: Pod,
  ref: k8s.ResourceFieldSelector,
  defaultContainer: string | undefined,
  allocatable: ResourceList,
): string {
  const name = ref.containerName || defaultContainer;
  const c = [...(pod.spec.containers ?? []), ...(pod.spec.initContainers ?? [])].find((x) => x.name === name);
  if (!c) throw new DownwardError(`container ${name ?? '""'} not found in pod`);
  const [kind, ...rest] = ref.resource.split('.');
  const resource = rest.join('.');
  if ((kind !== 'limits' && kind !== 'requests') || !resource) throw new DownwardError(`unsupported container resource: ${ref.resource}`);
  const limits = (c.resources?.limits ?? {}) as Record<string, string>;
  const requests = (c.resources?.requests ?? {}) as Record<string, string>;
  let v = kind === 'limits' ? limits[resource] : requests[resource];
  if (v === undefined && kind === 'limits') v = allocatable[resource];
  if (v === undefined) v = '0';
  const divisor = parseQuantity(String(ref.divisor ?? (resource === 'cpu' ? '1' : '1')));
  const q = parseQuantity(String(v));
  if (resource === 'cpu') {
    const d = Number(divisor.milliValue()) || 1;
    return String(Math.ceil(Number(q.milliValue()) / d));
  }
  const d = Number(divisor.value()) || 1;
  return String(Math.ceil(Number(q.value()) / d));
}
