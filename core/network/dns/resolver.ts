/**
 * Cluster DNS records, as a pure function: a question and a view of Services, Endpoints and Pods
 * in, the answer out. It follows the Kubernetes DNS-based service discovery spec (schema 1.1.0,
 * github.com/kubernetes/dns docs/specification.md), the records CoreDNS's kubernetes plugin serves:
 *
 * - `<svc>.<ns>.svc.<zone>` A/AAAA: the cluster IP(s); for a headless Service (clusterIP None)
 *   every ready endpoint address (not-ready ones too with publishNotReadyAddresses or the
 *   tolerate-unready-endpoints annotation); for an ExternalName Service a CNAME to externalName.
 * - `<hostname>.<svc>.<ns>.svc.<zone>` A/AAAA (headless): the endpoint whose `hostname` matches
 *   (StatefulSet pods: web-0.web.ns.svc.cluster.local) or, without one, whose dashed IP does.
 * - `_<port>._<proto>.<svc>.<ns>.svc.<zone>` SRV for named ports, the targets' addresses in the
 *   additional section.
 * - `<a-b-c-d>.<ns>.pod.<zone>` A (CoreDNS `pods insecure` by default; `verified` checks a pod in
 *   that namespace has the IP), `dns-version.<zone>` TXT, the zone's SOA, and PTR for cluster IPs
 *   and headless endpoints (other reverse names are forwarded).
 *
 * Missing names in the zone are NXDOMAIN, names that exist without a record of the asked type are
 * NODATA (NOERROR, empty); both carry the SOA in the authority section. Names outside the zone are
 * `forward`ed. Matching is case-insensitive; answers keep the asker's spelling. TTL is 5 s (CoreDNS
 * uses 30): on a desktop, scaling or recreating a workload should show up in seconds.
 */
import type { Answer as RR } from 'dns-packet';
import type { KubeObject } from '../../api/types.ts';
import { DEFAULT_CLUSTER_DOMAIN } from '../config.ts';

export const DNS_TTL = 5;
export const DNS_SCHEMA_VERSION = '1.1.0';
const TOLERATE_UNREADY = 'service.alpha.kubernetes.io/tolerate-unready-endpoints';

/** What the resolver reads. Objects are plain Kubernetes JSON; the optional lookups enable PTR and verified pods. */
export interface DnsView {
  service(namespace: string, name: string): KubeObject | undefined;
  endpoints(namespace: string, name: string): KubeObject | undefined;
  /** Services whose cluster IP(s) include `ip` (PTR). */
  servicesByIP?(ip: string): KubeObject[];
  /** Endpoints objects listing `ip` (PTR for headless endpoints). */
  endpointsByIP?(ip: string): KubeObject[];
  /** Pods whose status.podIP(s) include `ip` (`pods: 'verified'`). */
  podsByIP?(ip: string): KubeObject[];
}

export interface DnsQuestion {
  name: string;
  /** A record type as dns-packet spells it: 'A', 'AAAA', 'SRV', 'ANY' … */
  type: string;
}

/** `<a-b-c-d>.<ns>.pod.<zone>` records: answered for any IP, only for pods' IPs, or not at all. */
export type PodRecords = 'insecure' | 'verified' | 'disabled';

export interface ResolveOptions {
  ttl?: number;
  pods?: PodRecords;
}

export type Rcode = 'NOERROR' | 'NXDOMAIN';

export type Resolution =
  | { kind: 'forward' }
  | {
      kind: 'answer';
      rcode: Rcode;
      answers: RR[];
      authorities: RR[];
      additionals: RR[];
      /** An ExternalName CNAME left the zone: the server should look up this name upstream and append. */
      chase?: DnsQuestion;
    };

interface Ctx {
  view: DnsView;
  zone: string;
  ttl: number;
  pods: PodRecords;
}

/** What one owner name holds for the asked type; `exists: false` is NXDOMAIN. */
interface Found {
  exists: boolean;
  records: RR[];
  additionals: RR[];
  cname?: string;
}

const NONE: Found = { exists: false, records: [], additionals: [] };
const EMPTY: Found = { exists: true, records: [], additionals: [] };
const MAX_CNAME_HOPS = 8;

export function resolve(q: DnsQuestion, view: DnsView, domain: string = DEFAULT_CLUSTER_DOMAIN, opts: ResolveOptions = {}): Resolution {
  const c: Ctx = { view, zone: trimDot(domain).toLowerCase(), ttl: opts.ttl ?? DNS_TTL, pods: opts.pods ?? 'insecure' };
  const name = trimDot(q.name);
  const type = String(q.type).toUpperCase();
  if (type === 'PTR' && name.toLowerCase().endsWith('.in-addr.arpa')) return reverse(name, c) ?? { kind: 'forward' };
  if (!inZone(name, c.zone)) return { kind: 'forward' };

  const answers: RR[] = [];
  const additionals: RR[] = [];
  let owner = name;
  let found: Found = NONE;
  for (let hop = 0; hop <= MAX_CNAME_HOPS; hop++) {
    found = lookup(owner, type, c);
    answers.push(...found.records);
    additionals.push(...found.additionals);
    if (!found.cname || type === 'CNAME' || type === 'ANY') break;
    if (!inZone(found.cname, c.zone)) {
      return { kind: 'answer', rcode: 'NOERROR', answers, authorities: [], additionals, chase: { name: found.cname, type } };
    }
    owner = found.cname;
  }
  const authorities = found.records.length ? [] : [soa(c)];
  return { kind: 'answer', rcode: found.exists ? 'NOERROR' : 'NXDOMAIN', answers, authorities, additionals };
}

function lookup(owner: string, type: string, c: Ctx): Found {
  const lower = owner.toLowerCase();
  const rel = lower === c.zone ? [] : lower.slice(0, -(c.zone.length + 1)).split('.');
  if (rel.length === 0) return want(type, 'SOA') ? found([soa(c)]) : EMPTY;
  const top = rel[rel.length - 1];
  if (rel.length === 1 && top === 'dns-version') {
    return want(type, 'TXT') ? found([{ type: 'TXT', name: owner, ttl: c.ttl, data: DNS_SCHEMA_VERSION }]) : EMPTY;
  }
  if (top === 'svc') return serviceRecords(owner, rel.slice(0, -1), type, c);
  if (top === 'pod') return podRecords(owner, rel.slice(0, -1), type, c);
  return NONE;
}

/** `rel`: the labels before `svc.<zone>`, lowercased: [svc, ns], [host, svc, ns] or [_port, _proto, svc, ns]. */
function serviceRecords(owner: string, rel: string[], type: string, c: Ctx): Found {
  if (rel.length <= 1) return EMPTY; // svc.<zone> and <ns>.svc.<zone> are empty non-terminals
  if (rel.length > 4) return NONE;
  const ns = rel[rel.length - 1]!;
  const name = rel[rel.length - 2]!;
  const svc = c.view.service(ns, name);
  if (!svc) return NONE;
  const spec = svc.spec ?? {};
  const base = `${name}.${ns}.svc.${c.zone}`;

  if (spec.type === 'ExternalName') {
    if (rel.length > 2) return NONE;
    const target = trimDot(String(spec.externalName ?? ''));
    if (!target) return EMPTY;
    return { exists: true, records: [{ type: 'CNAME', name: owner, ttl: c.ttl, data: target }], additionals: [], cname: target };
  }

  const headless = spec.clusterIP === 'None';
  const ready = headless ? readyAddresses(svc, c.view.endpoints(ns, name)) : [];
  if (rel.length === 2) return addressRecords(owner, type, headless ? ready.map((a) => a.ip) : clusterIPs(svc), c);

  const ports: any[] = spec.ports ?? [];
  if (rel.length === 3) {
    const first = rel[0]!;
    if (first.startsWith('_')) {
      // _<proto>.<svc>.<ns>.svc.<zone>: exists when a named port uses that protocol.
      return ports.some((p) => p.name && protocolLabel(p) === first) ? EMPTY : NONE;
    }
    if (!headless) return NONE;
    const ips = ready.filter((a) => endpointHostname(a) === first).map((a) => a.ip);
    return ips.length ? addressRecords(owner, type, ips, c) : NONE;
  }

  const [portLabel, protoLabel] = rel as [string, string];
  if (!portLabel.startsWith('_') || !protoLabel.startsWith('_')) return NONE;
  const matches = (p: any) => typeof p.name === 'string' && `_${p.name.toLowerCase()}` === portLabel && protocolLabel(p) === protoLabel;
  const svcPort = ports.find(matches);
  if (!svcPort) return NONE;
  if (!want(type, 'SRV')) return EMPTY;

  if (!headless) {
    const srv: RR = { type: 'SRV', name: owner, ttl: c.ttl, data: { priority: 0, weight: 100, port: svcPort.port, target: base } };
    return { exists: true, records: [srv], additionals: addressRecords(base, 'ANY', clusterIPs(svc), c).records };
  }
  const targets = ready.flatMap((a) => {
    const p = a.ports.find(matches);
    return p ? [{ host: `${endpointHostname(a)}.${base}`, ip: a.ip, port: Number(p.port) }] : [];
  });
  const weight = Math.max(1, Math.floor(100 / Math.max(1, targets.length)));
  return {
    exists: true,
    records: targets.map((t) => ({ type: 'SRV', name: owner, ttl: c.ttl, data: { priority: 0, weight, port: t.port, target: t.host } }) as RR),
    additionals: targets.flatMap((t) => addressRecords(t.host, 'ANY', [t.ip], c).records),
  };
}

/** `rel`: the labels before `pod.<zone>`: [a-b-c-d, ns]. */
function podRecords(owner: string, rel: string[], type: string, c: Ctx): Found {
  if (rel.length <= 1) return EMPTY;
  if (rel.length > 2 || c.pods === 'disabled') return NONE;
  const ip = undashIPv4(rel[0]!);
  if (!ip) return NONE;
  if (c.pods === 'verified' && !(c.view.podsByIP?.(ip) ?? []).some((p) => p.metadata.namespace === rel[1])) return NONE;
  return addressRecords(owner, type, [ip], c);
}

function reverse(name: string, c: Ctx): Resolution | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.in-addr\.arpa$/i.exec(name);
  if (!m) return undefined;
  const ip = [m[4], m[3], m[2], m[1]].map(Number).join('.');
  const targets = new Set<string>();
  for (const s of c.view.servicesByIP?.(ip) ?? []) targets.add(`${s.metadata.name}.${s.metadata.namespace}.svc.${c.zone}`);
  for (const e of c.view.endpointsByIP?.(ip) ?? []) {
    const { namespace: ns = '', name: svcName = '' } = e.metadata;
    const svc = c.view.service(ns, svcName);
    if (svc?.spec?.clusterIP !== 'None') continue;
    for (const a of readyAddresses(svc, e)) if (a.ip === ip) targets.add(`${endpointHostname(a)}.${svcName}.${ns}.svc.${c.zone}`);
  }
  if (!targets.size) return undefined;
  const answers = [...targets].map((t) => ({ type: 'PTR', name, ttl: c.ttl, data: t }) as RR);
  return { kind: 'answer', rcode: 'NOERROR', answers, authorities: [], additionals: [] };
}

interface Address {
  ip: string;
  hostname?: string;
  /** The subset's ports (named like the Service's, numbered like the pods'). */
  ports: any[];
}

/** The endpoint addresses DNS publishes: ready ones, plus not-ready ones when the Service asks. */
export function readyAddresses(svc: KubeObject, eps: KubeObject | undefined): Address[] {
  const withUnready = !!svc.spec?.publishNotReadyAddresses || svc.metadata.annotations?.[TOLERATE_UNREADY] === 'true';
  const out: Address[] = [];
  const seen = new Set<string>();
  for (const subset of (eps?.subsets as any[] | undefined) ?? []) {
    const addrs: any[] = [...(subset.addresses ?? []), ...(withUnready ? (subset.notReadyAddresses ?? []) : [])];
    for (const a of addrs) {
      if (typeof a?.ip !== 'string' || seen.has(`${a.ip}/${a.hostname ?? ''}`)) continue;
      seen.add(`${a.ip}/${a.hostname ?? ''}`);
      out.push({ ip: a.ip, hostname: a.hostname || undefined, ports: subset.ports ?? [] });
    }
  }
  return out;
}

/** The spec's _hostname_: the endpoint's `hostname`, else its IP with dashes (10-1-0-7). */
export function endpointHostname(a: { ip: string; hostname?: string }): string {
  return (a.hostname || a.ip.replace(/[.:]/g, '-')).toLowerCase();
}

function clusterIPs(svc: KubeObject): string[] {
  const spec = svc.spec ?? {};
  const ips: unknown[] = spec.clusterIPs?.length ? spec.clusterIPs : [spec.clusterIP];
  return ips.filter((ip): ip is string => typeof ip === 'string' && ip !== '' && ip !== 'None');
}

function addressRecords(owner: string, type: string, ips: string[], c: Ctx): Found {
  const records: RR[] = [];
  for (const ip of new Set(ips)) {
    const rrType = ip.includes(':') ? 'AAAA' : 'A';
    if (want(type, rrType)) records.push({ type: rrType, name: owner, ttl: c.ttl, data: ip });
  }
  return { exists: true, records, additionals: [] };
}

function protocolLabel(p: { protocol?: string }): string {
  return `_${(p.protocol ?? 'TCP').toLowerCase()}`;
}

function soa(c: Ctx): RR {
  const data = { mname: `ns.dns.${c.zone}`, rname: `hostmaster.${c.zone}`, serial: 1, refresh: 7200, retry: 1800, expire: 86400, minimum: c.ttl };
  return { type: 'SOA', name: c.zone, ttl: c.ttl, data };
}

function found(records: RR[]): Found {
  return { exists: true, records, additionals: [] };
}

function want(asked: string, rrType: string): boolean {
  return asked === rrType || asked === 'ANY';
}

function inZone(name: string, zone: string): boolean {
  const n = trimDot(name).toLowerCase();
  return n === zone || n.endsWith(`.${zone}`);
}

function trimDot(name: string): string {
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

function undashIPv4(label: string): string | undefined {
  const parts = label.split('-');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.map(Number).join('.');
}
