/**
 * What the service proxy programs, computed from Services and their Endpoints: one entry per
 * service port with its cluster IP, node port, whether it is a LoadBalancer, its session affinity
 * and its ready backends (kube-proxy's ServicePortMap + EndpointsMap, flattened). Pure.
 */
import type { KubeObject } from '../../api/types.ts';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface Backend {
  ip: string;
  port: number;
}

export interface ServicePortEntry {
  /** `namespace/name:portName/protocol` (portName may be empty). */
  id: string;
  namespace: string;
  name: string;
  portName: string;
  protocol: Protocol;
  /** The virtual IP, absent for headless services. */
  clusterIP?: string;
  port: number;
  nodePort?: number;
  /** type LoadBalancer: also reachable on the desktop at `<host address>:port`. */
  loadBalancer: boolean;
  /** sessionAffinity ClientIP: the stickiness timeout. */
  affinitySeconds?: number;
  /** The Service's creationTimestamp: the older service keeps a contested host port. */
  createdAt?: string;
  /** Ready backends, in a stable order. */
  endpoints: Backend[];
}

export function entryId(namespace: string, name: string, portName: string, protocol: string): string {
  return `${namespace}/${name}:${portName}/${protocol}`;
}

export function buildServicePorts(
  services: Iterable<KubeObject>,
  endpointsOf: (namespace: string, name: string) => KubeObject | undefined,
): ServicePortEntry[] {
  const out: ServicePortEntry[] = [];
  for (const svc of services) {
    const spec = svc.spec ?? {};
    const type = spec.type ?? 'ClusterIP';
    if (type === 'ExternalName') continue;
    const ns = svc.metadata.namespace ?? 'default';
    const name = svc.metadata.name ?? '';
    const clusterIP = typeof spec.clusterIP === 'string' && spec.clusterIP && spec.clusterIP !== 'None' ? spec.clusterIP : undefined;
    const ep = endpointsOf(ns, name);
    const affinitySeconds =
      spec.sessionAffinity === 'ClientIP' ? Number(spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800) : undefined;
    for (const p of spec.ports ?? []) {
      const protocol = (p.protocol ?? 'TCP') as Protocol;
      const portName = p.name ?? '';
      out.push({
        id: entryId(ns, name, portName, protocol),
        namespace: ns,
        name,
        portName,
        protocol,
        ...(clusterIP ? { clusterIP } : {}),
        port: p.port,
        ...((type === 'NodePort' || type === 'LoadBalancer') && p.nodePort ? { nodePort: p.nodePort } : {}),
        loadBalancer: type === 'LoadBalancer',
        ...(affinitySeconds !== undefined ? { affinitySeconds } : {}),
        ...(svc.metadata.creationTimestamp ? { createdAt: svc.metadata.creationTimestamp } : {}),
        endpoints: ep ? readyBackends(ep, portName, protocol) : [],
      });
    }
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The ready addresses of an Endpoints object for one service port (matched by name and protocol). */
export function readyBackends(ep: KubeObject, portName: string, protocol: string): Backend[] {
  const seen = new Set<string>();
  const out: Backend[] = [];
  for (const subset of (ep.subsets ?? []) as any[]) {
    const port = (subset.ports ?? []).find((p: any) => (p.name ?? '') === portName && (p.protocol ?? 'TCP') === protocol);
    if (!port) continue;
    for (const a of subset.addresses ?? []) {
      const key = `${a.ip}:${port.port}`;
      if (!a.ip || seen.has(key)) continue;
      seen.add(key);
      out.push({ ip: a.ip, port: port.port });
    }
  }
  return out.sort((a, b) => (a.ip === b.ip ? a.port - b.port : a.ip < b.ip ? -1 : 1));
}
