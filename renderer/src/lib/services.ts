/**
 * Services as rows and details: type, cluster IP, ports the way `kubectl get svc` words them
 * (`80:30080/TCP → 8080`), ready endpoints from the Service's Endpoints object, the addresses the
 * host reaches it on (LoadBalancer `127.0.0.1:<port>`, node ports `127.0.0.1:<nodePort>`), ports
 * that could not be bound, and its DNS names. Plain functions over plain JSON (no Svelte here:
 * the unit tests import this file under Node).
 */
import type { KubeObject } from '../../../core/api/types.ts';

/** The DNS zone of the cluster (Wheelhouse's default, as Kubernetes'). */
export const CLUSTER_DOMAIN = 'cluster.local';
/** Where NodePort and LoadBalancer ports are bound when the Service's status does not say. */
export const HOST_ADDRESS = '127.0.0.1';

export interface ServicePort {
  name: string;
  protocol: string;
  port: number;
  targetPort: string;
  nodePort?: number;
  appProtocol?: string;
}

export interface PortError {
  port: number;
  protocol: string;
  /** `loadBalancer` (from status.loadBalancer) or `nodePort` (from a FailedToBindPort event). */
  kind: 'loadBalancer' | 'nodePort';
  message: string;
}

/** An address on this machine a Service answers on. */
export interface HostAddress {
  address: string;
  /** `http://127.0.0.1:<port>/` for TCP ports; none for UDP/SCTP. */
  url?: string;
  port: number;
  protocol: string;
  kind: 'loadBalancer' | 'nodePort';
  /** The Service's port this address leads to. */
  servicePort: number;
  error?: string;
}

export interface EndpointAddress {
  ip: string;
  ready: boolean;
  /** The pod (targetRef of kind Pod), if any. */
  pod?: string;
  node?: string;
  hostname?: string;
  ports: Array<{ name?: string; port: number; protocol: string }>;
}

export interface ServiceRow {
  key: string;
  namespace: string;
  name: string;
  type: string;
  headless: boolean;
  clusterIP: string;
  ports: ServicePort[];
  /** `80:30080/TCP → 8080, 53/UDP` */
  portsText: string;
  ready: number;
  notReady: number;
  /** `1/1`, or `—` for an ExternalName Service. */
  endpointsText: string;
  external: HostAddress[];
  /** ExternalName: the name it is an alias of. */
  externalName?: string;
  errors: PortError[];
  created: string;
  /** Lower-cased text the filter box matches. */
  search: string;
  svc: KubeObject;
}

export function servicePorts(svc: KubeObject): ServicePort[] {
  return ((svc.spec?.ports ?? []) as any[]).map((p) => ({
    name: String(p.name ?? ''),
    protocol: String(p.protocol ?? 'TCP'),
    port: Number(p.port),
    targetPort: String(p.targetPort ?? p.port),
    ...(p.nodePort ? { nodePort: Number(p.nodePort) } : {}),
    ...(p.appProtocol ? { appProtocol: String(p.appProtocol) } : {}),
  }));
}

/** `80:30080/TCP → 8080` (the target port only when it differs). */
export function portText(p: ServicePort): string {
  return `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol}${p.targetPort !== String(p.port) ? ` → ${p.targetPort}` : ''}`;
}

export function isHeadless(svc: KubeObject): boolean {
  return svc.spec?.clusterIP === 'None';
}

/** Every address of the Endpoints object, ready ones first; one entry per IP (its ports merged across subsets). */
export function endpointAddresses(ep: KubeObject | undefined): EndpointAddress[] {
  const byIp = new Map<string, EndpointAddress>();
  for (const subset of (ep?.subsets ?? []) as any[]) {
    const ports = ((subset.ports ?? []) as any[]).map((p) => ({ ...(p.name ? { name: String(p.name) } : {}), port: Number(p.port), protocol: String(p.protocol ?? 'TCP') }));
    for (const [list, ready] of [[subset.addresses, true], [subset.notReadyAddresses, false]] as const) {
      for (const a of (list ?? []) as any[]) {
        if (typeof a?.ip !== 'string') continue;
        const seen = byIp.get(a.ip);
        if (seen) {
          seen.ready &&= ready;
          for (const p of ports) if (!seen.ports.some((x) => x.port === p.port && x.protocol === p.protocol)) seen.ports.push(p);
          continue;
        }
        byIp.set(a.ip, {
          ip: a.ip,
          ready,
          ...(a.targetRef?.kind === 'Pod' && a.targetRef.name ? { pod: String(a.targetRef.name) } : {}),
          ...(a.nodeName ? { node: String(a.nodeName) } : {}),
          ...(a.hostname ? { hostname: String(a.hostname) } : {}),
          ports: [...ports],
        });
      }
    }
  }
  return [...byIp.values()].sort((a, b) => Number(b.ready) - Number(a.ready) || (a.pod ?? a.ip).localeCompare(b.pod ?? b.ip));
}

/**
 * Ports that could not be bound on the host: a LoadBalancer's from its status
 * (`status.loadBalancer.ingress[].ports[].error`, kept current by the service proxy); node ports
 * from `FailedToBindPort` Warning events, counted only while they still apply — the port is still
 * this Service's node port, and a Service the message names as the holder still holds it.
 */
export function portErrors(svc: KubeObject, events: KubeObject[] = [], services: KubeObject[] = []): PortError[] {
  const out: PortError[] = [];
  const ports = servicePorts(svc);
  for (const ing of (svc.status?.loadBalancer?.ingress ?? []) as any[]) {
    for (const p of (ing?.ports ?? []) as any[]) {
      if (!p?.error) continue;
      if (out.some((e) => e.port === Number(p.port) && e.protocol === String(p.protocol ?? 'TCP'))) continue;
      out.push({ port: Number(p.port), protocol: String(p.protocol ?? 'TCP'), kind: 'loadBalancer', message: String(p.error) });
    }
  }
  const ns = svc.metadata.namespace;
  const name = svc.metadata.name;
  const newest = [...events]
    .filter((e) => e.reason === 'FailedToBindPort' && e.type === 'Warning')
    .filter((e) => {
      const io = (e.involvedObject ?? {}) as { kind?: string; namespace?: string; name?: string; uid?: string };
      return io.kind === 'Service' && io.namespace === ns && io.name === name && (!io.uid || !svc.metadata.uid || io.uid === svc.metadata.uid);
    })
    .sort((a, b) => eventTime(b) - eventTime(a));
  for (const e of newest) {
    const message = String(e.message ?? '');
    const m = /(?:port |:)(\d+)\/(TCP|UDP|SCTP)/.exec(message);
    if (!m) continue;
    const port = Number(m[1]);
    const protocol = m[2]!;
    if (out.some((x) => x.port === port && x.protocol === protocol)) continue;
    // Only node ports here: a LoadBalancer port's state is in the status (read above).
    if (!ports.some((p) => p.nodePort === port && p.protocol === protocol)) continue;
    const holder = /already used by service ([^/\s]+)\/([^\s]+)/.exec(message);
    if (holder) {
      const other = services.find((s) => s.metadata.namespace === holder[1] && s.metadata.name === holder[2]);
      if (!other || !claims(other, port, protocol)) continue;
    }
    out.push({ port, protocol, kind: 'nodePort', message });
  }
  return out;
}

function claims(svc: KubeObject, port: number, protocol: string): boolean {
  const lb = svc.spec?.type === 'LoadBalancer';
  return servicePorts(svc).some((p) => p.protocol === protocol && (p.nodePort === port || (lb && p.port === port)));
}

function eventTime(e: KubeObject): number {
  const t = String(e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata.creationTimestamp ?? '');
  return t ? Date.parse(t) : 0;
}

/** Where the host reaches the Service: LoadBalancer ports on the ingress address, node ports on 127.0.0.1. */
export function hostAddresses(svc: KubeObject, errors: PortError[] = []): HostAddress[] {
  const type = svc.spec?.type ?? 'ClusterIP';
  const out: HostAddress[] = [];
  const err = (port: number, protocol: string, kind: PortError['kind']) => errors.find((e) => e.port === port && e.protocol === protocol && e.kind === kind)?.message;
  const entry = (host: string, port: number, protocol: string, kind: HostAddress['kind'], servicePort: number): HostAddress => {
    const error = err(port, protocol, kind);
    return { address: `${host}:${port}`, ...(protocol === 'TCP' ? { url: `http://${host}:${port}/` } : {}), port, protocol, kind, servicePort, ...(error ? { error } : {}) };
  };
  if (type === 'LoadBalancer') {
    const ingress = ((svc.status?.loadBalancer?.ingress ?? []) as any[]).find((i) => i?.ip || i?.hostname);
    const host = ingress ? String(ingress.ip ?? ingress.hostname) : undefined;
    if (host) for (const p of servicePorts(svc)) if (p.protocol !== 'SCTP') out.push(entry(host, p.port, p.protocol, 'loadBalancer', p.port));
  }
  if (type === 'NodePort' || type === 'LoadBalancer') {
    for (const p of servicePorts(svc)) if (p.nodePort && p.protocol !== 'SCTP') out.push(entry(HOST_ADDRESS, p.nodePort, p.protocol, 'nodePort', p.port));
  }
  return out;
}

const rowCache = new WeakMap<KubeObject, { ep: KubeObject | undefined; errors: PortError[]; row: ServiceRow }>();

export function serviceRow(svc: KubeObject, ep: KubeObject | undefined, errors: PortError[] = []): ServiceRow {
  const hit = rowCache.get(svc);
  if (hit && hit.ep === ep && sameErrors(hit.errors, errors)) return hit.row;
  const namespace = svc.metadata.namespace ?? '';
  const name = svc.metadata.name ?? '';
  const type = String(svc.spec?.type ?? 'ClusterIP');
  const headless = isHeadless(svc);
  const ports = servicePorts(svc);
  const addrs = endpointAddresses(ep);
  const ready = addrs.filter((a) => a.ready).length;
  const external = hostAddresses(svc, errors);
  const externalName = type === 'ExternalName' ? String(svc.spec?.externalName ?? '') : undefined;
  const clusterIPs = ((svc.spec?.clusterIPs as string[] | undefined) ?? (svc.spec?.clusterIP ? [svc.spec.clusterIP] : [])).filter(Boolean);
  const clusterIP = headless ? 'None' : clusterIPs.join(', ');
  const portsText = ports.map(portText).join(', ');
  const row: ServiceRow = {
    key: `${namespace}/${name}`,
    namespace,
    name,
    type,
    headless,
    clusterIP,
    ports,
    portsText,
    ready,
    notReady: addrs.length - ready,
    endpointsText: type === 'ExternalName' ? '—' : `${ready}/${addrs.length}`,
    external,
    ...(externalName !== undefined ? { externalName } : {}),
    errors,
    created: String(svc.metadata.creationTimestamp ?? ''),
    search: `${namespace}/${name} ${type} ${headless ? 'headless' : ''} ${clusterIP} ${portsText} ${externalName ?? ''} ${external.map((a) => a.address).join(' ')}`.toLowerCase(),
    svc,
  };
  rowCache.set(svc, { ep, errors, row });
  return row;
}

function sameErrors(a: PortError[], b: PortError[]): boolean {
  return a.length === b.length && a.every((e, i) => e.port === b[i]!.port && e.protocol === b[i]!.protocol && e.kind === b[i]!.kind && e.message === b[i]!.message);
}

/**
 * The Service's names in cluster DNS: `<svc>.<ns>.svc.<zone>` (the short forms work from pods of
 * the same namespace), and for a headless Service one name per endpoint — its hostname
 * (StatefulSet pods: `web-0.web.ns.svc.cluster.local`) or else its dashed IP.
 */
export function dnsNames(svc: KubeObject, ep: KubeObject | undefined, domain = CLUSTER_DOMAIN): { service: string; short: string[]; pods: Array<{ name: string; ip: string; pod?: string; ready: boolean }> } {
  const ns = svc.metadata.namespace ?? 'default';
  const name = svc.metadata.name ?? '';
  const service = `${name}.${ns}.svc.${domain}`;
  const short = [name, `${name}.${ns}`, `${name}.${ns}.svc`];
  if (!isHeadless(svc)) return { service, short, pods: [] };
  const withUnready = !!svc.spec?.publishNotReadyAddresses;
  const pods = endpointAddresses(ep)
    .filter((a) => a.ready || withUnready)
    .map((a) => ({ name: `${(a.hostname || a.ip.replace(/[.:]/g, '-')).toLowerCase()}.${service}`, ip: a.ip, ready: a.ready, ...(a.pod ? { pod: a.pod } : {}) }))
    .sort((a, b) => a.name.localeCompare(b.name));
  return { service, short, pods };
}

/** `app=web, tier=front`, or '' for a Service without a selector (its Endpoints are managed by hand). */
export function selectorText(svc: KubeObject): string {
  return Object.entries((svc.spec?.selector ?? {}) as Record<string, string>).map(([k, v]) => `${k}=${v}`).join(', ');
}
