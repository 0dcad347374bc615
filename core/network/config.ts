/**
 * The cluster's service network settings, shared by the API server (ClusterIP and NodePort
 * allocation), the service proxy, cluster DNS and the node agents (pods' resolv.conf).
 *
 * Service IPs are virtual: nothing owns them; the proxy's rules translate them to endpoints.
 * The default range is Kubernetes' usual 10.96.0.0/12 narrowed to a /16 (65,534 services is
 * plenty for a desktop); the 1st address is the `kubernetes` Service's, the 10th cluster DNS's,
 * as kubeadm lays them out.
 */
import { NODE_PORT_RANGE } from '../api/validation/service.ts';

export const DEFAULT_SERVICE_CIDR = '10.96.0.0/16';
export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';
export { NODE_PORT_RANGE };

export interface Cidr {
  /** The network address as a 32-bit unsigned number. */
  base: number;
  bits: number;
  /** Number of addresses in the range (including network and broadcast). */
  size: number;
}

export function parseCidr(cidr: string): Cidr {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(cidr.trim());
  if (!m) throw new Error(`invalid IPv4 CIDR "${cidr}" (expected e.g. 10.96.0.0/16)`);
  const bits = Number(m[2]);
  if (bits < 8 || bits > 30) throw new Error(`invalid IPv4 CIDR "${cidr}": the prefix must be between /8 and /30`);
  const ip = ipToInt(m[1]!);
  const size = 2 ** (32 - bits);
  return { base: ip - (ip % size), bits, size };
}

export function ipToInt(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`invalid IPv4 address "${ip}"`);
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** The n-th address of the range (1 = the first usable one). */
export function nthAddress(cidr: string, n: number): string {
  const c = parseCidr(cidr);
  if (n <= 0 || n >= c.size - 1) throw new Error(`address ${n} is outside ${cidr}`);
  return intToIp(c.base + n);
}

/** Cluster DNS (`kube-system/kube-dns`): the tenth address. */
export function dnsServiceIP(serviceCIDR: string): string {
  return nthAddress(serviceCIDR, 10);
}
