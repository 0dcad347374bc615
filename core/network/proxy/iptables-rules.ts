/**
 * kube-proxy's iptables mode, for one cluster, as `iptables-restore --noflush` input. Pure.
 *
 *   nat  PREROUTING (pods: -s <pod subnet> -d <service CIDR>) and OUTPUT (the desktop) → <p>-SVC
 *        <p>-SVC: one rule per cluster IP:port → that service port's chain <p>-S…
 *        <p>-S…:  with ClientIP affinity, "recently seen" checks first; then a random pick among
 *                 the ready endpoints (probability 1/n, 1/(n-1), …, last unconditional) → <p>-E…
 *        <p>-E…:  marks hairpin traffic (a pod reaching itself through its service) and DNATs to
 *                 the endpoint
 *        POSTROUTING → <p>-POST: masquerades marked (hairpin) packets
 *   filter OUTPUT and FORWARD → <p>-REJ: a service port with no ready endpoint rejects at once
 *        (ICMP port unreachable) instead of timing out.
 *
 * Only this cluster's chains are written; chains it wrote before and no longer needs are
 * flushed and deleted in the same transaction. Existing connections keep their conntrack entry,
 * so a removed endpoint's open connections drain while new ones go elsewhere.
 */
import { createHash } from 'node:crypto';
import type { ServicePortEntry } from './model.ts';

/** The packet mark for hairpin masquerade (kube-proxy uses 0x4000; a different bit avoids clashing with it). */
export const MASQ_MARK = '0x40000/0x40000';

export interface ChainNames {
  svc: string;
  post: string;
  reject: string;
}

/** Per-cluster chain prefix: `WH-` + 8 hex digits of the cluster's identity (chain names max 28 chars). */
export function chainPrefix(clusterId: string): string {
  return `WH-${createHash('sha256').update(clusterId).digest('hex').slice(0, 8)}`;
}

export function baseChains(prefix: string): ChainNames {
  return { svc: `${prefix}-SVC`, post: `${prefix}-POST`, reject: `${prefix}-REJ` };
}

function chainHash(prefix: string, kind: 'S' | 'E', key: string): string {
  return `${prefix}-${kind}${createHash('sha256').update(key).digest('hex').slice(0, 12).toUpperCase()}`;
}

export function serviceChain(prefix: string, e: ServicePortEntry): string {
  return chainHash(prefix, 'S', e.id);
}

export function endpointChain(prefix: string, e: ServicePortEntry, ip: string, port: number): string {
  return chainHash(prefix, 'E', `${e.id}|${ip}:${port}`);
}

export interface RenderedRules {
  /** iptables-restore input (both tables). */
  text: string;
  /** The chains this rule set owns per table (the caller remembers them to delete them later). */
  natChains: string[];
  filterChains: string[];
}

const quote = (s: string) => `"${s.replace(/["\\]/g, '')}"`;
const proto = (p: string) => p.toLowerCase();

/**
 * @param stale chains written before and not wanted any more: flushed and deleted here.
 */
export function renderRules(prefix: string, entries: ServicePortEntry[], stale: { nat: string[]; filter: string[] } = { nat: [], filter: [] }): RenderedRules {
  const base = baseChains(prefix);
  const natChains = [base.svc, base.post];
  const nat: string[] = [`-A ${base.post} -m mark --mark ${MASQ_MARK} -j MASQUERADE`];
  const reject: string[] = [];
  for (const e of entries) {
    if (!e.clusterIP) continue;
    const match = `-d ${e.clusterIP}/32 -p ${proto(e.protocol)} -m ${proto(e.protocol)} --dport ${e.port}`;
    const comment = `-m comment --comment ${quote(`${e.id} cluster IP`)}`;
    if (!e.endpoints.length) {
      reject.push(`-A ${base.reject} ${match} -m comment --comment ${quote(`${e.id} has no endpoints`)} -j REJECT --reject-with icmp-port-unreachable`);
      continue;
    }
    const sChain = serviceChain(prefix, e);
    natChains.push(sChain);
    nat.push(`-A ${base.svc} ${match} ${comment} -j ${sChain}`);
    const eps = e.endpoints.map((b) => ({ ...b, chain: endpointChain(prefix, e, b.ip, b.port) }));
    if (e.affinitySeconds !== undefined) {
      for (const b of eps) {
        nat.push(`-A ${sChain} -m recent --name ${b.chain} --rcheck --seconds ${e.affinitySeconds} --reap -j ${b.chain}`);
      }
    }
    eps.forEach((b, i) => {
      const left = eps.length - i;
      const pick = left > 1 ? `-m statistic --mode random --probability ${(1 / left).toFixed(10)} ` : '';
      nat.push(`-A ${sChain} ${pick}-j ${b.chain}`);
    });
    for (const b of eps) {
      natChains.push(b.chain);
      nat.push(`-A ${b.chain} -s ${b.ip}/32 -j MARK --set-xmark ${MASQ_MARK}`);
      const recent = e.affinitySeconds !== undefined ? `-m recent --name ${b.chain} --set ` : '';
      nat.push(`-A ${b.chain} -p ${proto(e.protocol)} ${recent}-j DNAT --to-destination ${b.ip}:${b.port}`);
    }
  }
  const wantNat = new Set(natChains);
  const goneNat = stale.nat.filter((c) => !wantNat.has(c));
  const filterChains = [base.reject];
  const goneFilter = stale.filter.filter((c) => c !== base.reject);
  const lines = [
    '*nat',
    ...[...natChains, ...goneNat].map((c) => `:${c} - [0:0]`),
    ...nat,
    ...goneNat.map((c) => `-X ${c}`),
    'COMMIT',
    '*filter',
    ...[...filterChains, ...goneFilter].map((c) => `:${c} - [0:0]`),
    ...reject,
    ...goneFilter.map((c) => `-X ${c}`),
    'COMMIT',
    '',
  ];
  return { text: lines.join('\n'), natChains, filterChains };
}

/** Rules in the built-in chains that send traffic to this cluster's chains (added once, idempotently). */
export function jumpRules(prefix: string, serviceCIDR: string, podSubnet: string | undefined): Array<{ table: 'nat' | 'filter'; chain: string; rule: string[]; insert?: boolean }> {
  const base = baseChains(prefix);
  const tag = ['-m', 'comment', '--comment', `wheelhouse:${prefix}`];
  const out: Array<{ table: 'nat' | 'filter'; chain: string; rule: string[]; insert?: boolean }> = [
    { table: 'nat', chain: 'OUTPUT', rule: ['-d', serviceCIDR, ...tag, '-j', base.svc] },
    { table: 'nat', chain: 'POSTROUTING', rule: [...tag, '-j', base.post] },
    { table: 'filter', chain: 'OUTPUT', rule: ['-d', serviceCIDR, ...tag, '-j', base.reject] },
    // Before Docker's own FORWARD rules, which would accept the packet first.
    { table: 'filter', chain: 'FORWARD', rule: ['-d', serviceCIDR, ...tag, '-j', base.reject], insert: true },
  ];
  if (podSubnet) out.push({ table: 'nat', chain: 'PREROUTING', rule: ['-s', podSubnet, '-d', serviceCIDR, ...tag, '-j', base.svc] });
  return out;
}
