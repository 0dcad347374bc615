/**
 * Service cluster IPs and node ports, allocated by the API server as kube-apiserver's Service
 * registry does (pkg/registry/core/service/storage/alloc.go with ipallocator and portallocator):
 *
 * - create: ClusterIP/NodePort/LoadBalancer Services without `spec.clusterIP` get a free address of
 *   the service CIDR (`clusterIP` and `clusterIPs`); a requested one must be in the range and free.
 *   Headless (`None`) and ExternalName Services get none. NodePort/LoadBalancer ports without a
 *   `nodePort` get a free one (unless `allocateLoadBalancerNodePorts: false`); a LoadBalancer with
 *   `externalTrafficPolicy: Local` gets a `healthCheckNodePort`.
 * - update: `patchServiceUpdate` first carries over what the client left out (patchAllocatedValues)
 *   and drops what the new type does not use (dropTypeDependentFields); then only what is new is
 *   allocated (ExternalName → ClusterIP, ClusterIP → NodePort, an added port).
 *
 * There is no allocation bitmap: what is in use is read from the Services in the store, so deleting
 * a Service, or changing it to a type that does not use them, frees its IP and ports. Creates and
 * updates racing in this process are kept apart by reservations: an allocation holds its values
 * from the moment it picks them until its store write has settled (`Allocation.release`), and
 * picking is serialized. As in Kubernetes, dynamic picks are random, from the upper part of the
 * range first, so that the lower part stays for static requests (the 1st address is the
 * `kubernetes` Service's, the 10th cluster DNS's: never given out unless asked for).
 */
import { randomInt } from 'node:crypto';
import { ApiError, Inv, invalid } from '../api/errors.ts';
import type { KubeObject } from '../api/types.ts';
import { DEFAULT_SERVICE_CIDR, NODE_PORT_RANGE, ipToInt, intToIp, parseCidr, type Cidr } from '../network/config.ts';

export interface PortRange {
  min: number;
  max: number;
}

export interface ServiceAllocatorOptions {
  /** Default DEFAULT_SERVICE_CIDR (10.96.0.0/16). */
  serviceCIDR?: string;
  /** Default NODE_PORT_RANGE (30000–32767). */
  nodePortRange?: PortRange;
  /** Every Service in the store, all namespaces. */
  listServices: () => Promise<KubeObject[]>;
  /** A random integer in [0, n); default crypto.randomInt. */
  random?: (n: number) => number;
}

/** Values picked for one write; `release()` once the write has settled (stored or failed). */
export interface Allocation {
  release(): void;
}

interface Reservation {
  ips: Set<number>;
  ports: Set<number>;
}

const NOTHING: Allocation = { release() {} };

export class ServiceAllocator {
  readonly cidr: Cidr;
  readonly cidrText: string;
  readonly nodePorts: PortRange;
  private readonly listServices: () => Promise<KubeObject[]>;
  private readonly random: (n: number) => number;
  private readonly reservations = new Set<Reservation>();
  private tail: Promise<unknown> = Promise.resolve();

  constructor(opts: ServiceAllocatorOptions) {
    this.cidrText = opts.serviceCIDR ?? DEFAULT_SERVICE_CIDR;
    this.cidr = parseCidr(this.cidrText);
    this.nodePorts = opts.nodePortRange ?? NODE_PORT_RANGE;
    if (!(Number.isInteger(this.nodePorts.min) && Number.isInteger(this.nodePorts.max) && this.nodePorts.min > 0 && this.nodePorts.min <= this.nodePorts.max && this.nodePorts.max <= 65535)) {
      throw new Error(`invalid node port range ${this.nodePorts.min}-${this.nodePorts.max}`);
    }
    this.listServices = opts.listServices;
    this.random = opts.random ?? randomInt;
  }

  /** Fills in `svc` (already defaulted and validated) for a create. */
  allocateCreate(svc: KubeObject, dryRun: boolean): Promise<Allocation> {
    return this.allocate(svc, undefined, dryRun);
  }

  /** Fills in `svc` (after patchServiceUpdate and validation) for an update of `old`. */
  allocateUpdate(svc: KubeObject, old: KubeObject, dryRun: boolean): Promise<Allocation> {
    return this.allocate(svc, old, dryRun);
  }

  private async allocate(svc: KubeObject, old: KubeObject | undefined, dryRun: boolean): Promise<Allocation> {
    const spec = (svc.spec ??= {});
    normalizeClusterIPs(spec);
    const oldSpec = old?.spec ?? {};
    const oldIPs = new Set<string>(needsClusterIP(oldSpec) ? [oldSpec.clusterIP, ...(oldSpec.clusterIPs ?? [])].filter(Boolean) : []);
    const wantIP = needsClusterIP(spec) && spec.clusterIP !== 'None' && !oldIPs.has(spec.clusterIP);
    const oldPorts = new Set(needsNodePort(oldSpec) ? nodePortsOf(oldSpec) : []);
    const portsToDo = needsNodePort(spec)
      ? (spec.ports ?? []).some((p: any) => (p.nodePort ? !oldPorts.has(p.nodePort) : shouldAllocateNodePorts(spec)))
      : false;
    const oldHC = needsHCNodePort(oldSpec) ? oldSpec.healthCheckNodePort : undefined;
    const hcToDo = needsHCNodePort(spec) && (!spec.healthCheckNodePort || spec.healthCheckNodePort !== oldHC);
    if (!wantIP && !portsToDo && !hcToDo) return NOTHING;

    const self = old ? `${old.metadata.namespace}/${old.metadata.name}` : undefined;
    return this.serialized(async () => {
      // Reservations held now may be released (their write done) while the list is read; their
      // values are then in the list, or in this copy.
      const held = [...this.reservations];
      const services = await this.listServices();
      const usedIPs = new Set<number>();
      const usedPorts = new Set<number>();
      for (const s of services) {
        if (self && `${s.metadata.namespace}/${s.metadata.name}` === self) continue;
        const ss = s.spec ?? {};
        if (needsClusterIP(ss)) for (const ip of new Set<string>([ss.clusterIP, ...(ss.clusterIPs ?? [])])) this.addIP(usedIPs, ip);
        for (const p of nodePortsOf(ss)) usedPorts.add(p);
        if (ss.healthCheckNodePort) usedPorts.add(ss.healthCheckNodePort);
      }
      for (const r of [...held, ...this.reservations]) {
        for (const ip of r.ips) usedIPs.add(ip);
        for (const p of r.ports) usedPorts.add(p);
      }
      const mine: Reservation = { ips: new Set(), ports: new Set() };
      if (wantIP) this.allocIP(svc, usedIPs, mine);
      if (portsToDo) this.allocNodePorts(svc, oldPorts, usedPorts, mine);
      if (hcToDo) this.allocHealthCheckPort(svc, usedPorts, mine);
      if (dryRun) return NOTHING;
      this.reservations.add(mine);
      return { release: () => void this.reservations.delete(mine) };
    });
  }

  private allocIP(svc: KubeObject, used: Set<number>, mine: Reservation): void {
    const spec = svc.spec;
    const first = this.cidr.base + 1;
    const last = this.cidr.base + this.cidr.size - 2;
    let n: number;
    if (spec.clusterIP) {
      const requested = spec.clusterIP as string;
      const fail = (why: string) => {
        throw invalid(target(svc), [Inv('spec.clusterIPs', spec.clusterIPs ?? [requested], `failed to allocate IP ${requested}: ${why}`)]);
      };
      let v: number | undefined;
      try {
        v = ipToInt(requested);
      } catch {
        v = undefined;
      }
      if (v === undefined || v < first || v > last) {
        return fail(`the provided IP (${requested}) is not in the valid range. The range of valid IPs is ${this.cidrText}`);
      }
      if (used.has(v)) return fail('provided IP is already allocated');
      n = v;
    } else {
      const reserved = new Set([first, first + 9]); // the `kubernetes` Service's and cluster DNS's
      const found = pickFree(first, last, rangeOffset(last - first + 1, 16, 256, 16), (v) => !used.has(v) && !reserved.has(v), this.random);
      if (found === undefined) throw new ApiError('InternalError', 'Internal error occurred: failed to allocate a serviceIP: range is full');
      n = found;
    }
    used.add(n);
    mine.ips.add(n);
    spec.clusterIP = intToIp(n);
    spec.clusterIPs = [spec.clusterIP];
  }

  /**
   * portallocator's rules: a requested port must be in the range and free (unless the Service
   * already had it); a port without one gets the node port of another port with the same number
   * (53/UDP and 53/TCP share one, as initNodePorts does), else a free one.
   */
  private allocNodePorts(svc: KubeObject, oldPorts: Set<number>, used: Set<number>, mine: Reservation): void {
    const spec = svc.spec;
    const ports: any[] = spec.ports ?? [];
    ports.forEach((p, i) => {
      if (p.nodePort && !oldPorts.has(p.nodePort) && !mine.ports.has(p.nodePort)) this.claimPort(svc, `spec.ports[${i}].nodePort`, p.nodePort, used, mine);
    });
    if (!shouldAllocateNodePorts(spec)) return;
    for (const p of ports) {
      if (p.nodePort) continue;
      const same = ports.find((q) => q !== p && q.port === p.port && q.nodePort);
      p.nodePort = same?.nodePort ?? this.nextPort(used, mine, 'nodePort');
    }
  }

  private allocHealthCheckPort(svc: KubeObject, used: Set<number>, mine: Reservation): void {
    const spec = svc.spec;
    if (spec.healthCheckNodePort) this.claimPort(svc, 'spec.healthCheckNodePort', spec.healthCheckNodePort, used, mine);
    else spec.healthCheckNodePort = this.nextPort(used, mine, 'HealthCheck NodePort');
  }

  private claimPort(svc: KubeObject, field: string, port: number, used: Set<number>, mine: Reservation): void {
    const { min, max } = this.nodePorts;
    let why: string | undefined;
    if (port < min || port > max) why = `provided port is not in the valid range. The range of valid ports is ${min}-${max}`;
    else if (used.has(port)) why = 'provided port is already allocated';
    if (why) throw invalid(target(svc), [Inv(field, port, why)]);
    used.add(port);
    mine.ports.add(port);
  }

  private nextPort(used: Set<number>, mine: Reservation, what: string): number {
    const { min, max } = this.nodePorts;
    const port = pickFree(min, max, rangeOffset(max - min + 1, 16, 128, 32), (v) => !used.has(v), this.random);
    if (port === undefined) throw new ApiError('InternalError', `Internal error occurred: failed to allocate a ${what}: range is full`);
    used.add(port);
    mine.ports.add(port);
    return port;
  }

  private addIP(set: Set<number>, ip: unknown): void {
    if (typeof ip !== 'string' || !ip || ip === 'None') return;
    try {
      set.add(ipToInt(ip));
    } catch {
      // IPv6 or junk: not from this range.
    }
  }

  /** Runs `fn` after every earlier call has finished (a mutex over picking). */
  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }
}

/**
 * Before validating an update (Kubernetes' patchAllocatedValues, normalizeClusterIPs and
 * dropTypeDependentFields): values the client left out but we allocated are kept, so re-applying
 * the original YAML is a no-op; values the new type does not use are dropped if the client left
 * them as they were, so they are freed.
 */
export function patchServiceUpdate(svc: KubeObject, old: KubeObject): void {
  const spec = (svc.spec ??= {});
  const os = old.spec ?? {};
  // normalizeClusterIPs (update): an old client that knows only clusterIP.
  if (os.clusterIPs?.length && !spec.clusterIPs?.length && os.clusterIP === spec.clusterIP) spec.clusterIPs = structuredClone(os.clusterIPs);
  if (needsClusterIP(os) && needsClusterIP(spec)) {
    if (!spec.clusterIP && os.clusterIP) spec.clusterIP = os.clusterIP;
    if (!spec.clusterIPs?.length && os.clusterIPs?.length) spec.clusterIPs = structuredClone(os.clusterIPs);
  }
  if (needsNodePort(os) && needsNodePort(spec)) {
    const newUsed = new Set(nodePortsOf(spec));
    const byName = new Map<string, number>();
    for (const p of os.ports ?? []) if (p.nodePort) byName.set(p.name ?? '', p.nodePort);
    for (const p of spec.ports ?? []) {
      const v = byName.get(p.name ?? '');
      if (!p.nodePort && v && !newUsed.has(v)) p.nodePort = v;
    }
  }
  if (needsHCNodePort(os) && needsHCNodePort(spec) && !spec.healthCheckNodePort) spec.healthCheckNodePort = os.healthCheckNodePort;

  if (needsClusterIP(os) && !needsClusterIP(spec)) {
    if ((spec.clusterIP ?? '') === (os.clusterIP ?? '') && sameList(spec.clusterIPs, os.clusterIPs)) {
      delete spec.clusterIP;
      delete spec.clusterIPs;
    }
    if (sameList(spec.ipFamilies, os.ipFamilies)) delete spec.ipFamilies;
    if (spec.ipFamilyPolicy === os.ipFamilyPolicy) delete spec.ipFamilyPolicy;
  }
  if (needsNodePort(os) && !needsNodePort(spec)) {
    const oldPorts = new Set(nodePortsOf(os));
    if (nodePortsOf(spec).every((p) => oldPorts.has(p))) for (const p of spec.ports ?? []) delete p.nodePort;
  }
  if (needsHCNodePort(os) && !needsHCNodePort(spec) && spec.healthCheckNodePort === os.healthCheckNodePort) delete spec.healthCheckNodePort;
  if (os.type === 'LoadBalancer' && spec.type !== 'LoadBalancer' && spec.allocateLoadBalancerNodePorts === os.allocateLoadBalancerNodePorts) {
    delete spec.allocateLoadBalancerNodePorts;
  }
  if (externallyAccessible(os) && !externallyAccessible(spec) && spec.externalTrafficPolicy === os.externalTrafficPolicy) {
    delete spec.externalTrafficPolicy;
  }
}

/** A create that names only clusterIP gets clusterIPs = [clusterIP] (and the other way round). */
function normalizeClusterIPs(spec: any): void {
  if (!needsClusterIP(spec)) return;
  if (spec.clusterIP && !spec.clusterIPs?.length) spec.clusterIPs = [spec.clusterIP];
  else if (!spec.clusterIP && spec.clusterIPs?.length) spec.clusterIP = spec.clusterIPs[0];
}

const needsClusterIP = (spec: any) => (spec.type ?? 'ClusterIP') !== 'ExternalName';
const needsNodePort = (spec: any) => spec.type === 'NodePort' || spec.type === 'LoadBalancer';
const needsHCNodePort = (spec: any) => spec.type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local';
const shouldAllocateNodePorts = (spec: any) => spec.type === 'NodePort' || (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts !== false);
const externallyAccessible = (spec: any) => needsNodePort(spec) || ((spec.type ?? 'ClusterIP') === 'ClusterIP' && (spec.externalIPs ?? []).length > 0);

function nodePortsOf(spec: any): number[] {
  return (spec.ports ?? []).map((p: any) => p?.nodePort).filter((n: unknown): n is number => typeof n === 'number' && n > 0);
}

function sameList(a: unknown[] | undefined, b: unknown[] | undefined): boolean {
  const x = a ?? [];
  const y = b ?? [];
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

function target(svc: KubeObject) {
  return { kind: 'Service', group: '', name: svc.metadata?.name };
}

/** Kubernetes' calculateRangeOffset: min(max(min, size/step), max); 0 for a small range. */
function rangeOffset(size: number, min: number, max: number, step: number): number {
  if (size < min) return 0;
  return Math.min(max, Math.max(min, Math.floor(size / step)));
}

/** A random free value of [lo, hi], from [lo+offset, hi] first; a scan from a random start in each band. */
function pickFree(lo: number, hi: number, offset: number, free: (v: number) => boolean, random: (n: number) => number): number | undefined {
  const bands: Array<[number, number]> = offset > 0 && lo + offset <= hi ? [[lo + offset, hi], [lo, lo + offset - 1]] : [[lo, hi]];
  for (const [a, b] of bands) {
    const n = b - a + 1;
    const start = random(n);
    for (let i = 0; i < n; i++) {
      const v = a + ((start + i) % n);
      if (free(v)) return v;
    }
  }
  return undefined;
}
