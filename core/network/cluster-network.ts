/**
 * The cluster's service network, started by the composition root before the node agents:
 *
 *  - the pod network (one Docker bridge per cluster; pods get their IPs from it),
 *  - the service proxy (cluster IPs, NodePort and LoadBalancer ports, service port-forward),
 *  - cluster DNS: a DNS server in this process listening on the pod network's gateway address,
 *    published in the cluster as `kube-system/kube-dns` (the 10th address of the service range,
 *    as kubeadm does) with an Endpoints object pointing at that listener — so pods reach it
 *    through the same proxy rules as any Service, and `kubectl get svc -n kube-system` shows it.
 *
 * The gateway can change when the engine re-creates the network; `refresh()` (run periodically)
 * re-binds the DNS listener and updates the Endpoints.
 */
import { isApiError } from '../api/errors.ts';
import type { KubeObject } from '../api/types.ts';
import type { Client } from '../client/client.ts';
import { log } from '../log.ts';
import { LABEL, type ContainerRuntime } from '../runtime/runtime.ts';
import { dnsServiceIP } from './config.ts';
import { DnsServer, InformerDnsView } from './dns/server.ts';
import { ServiceProxy } from './proxy/service-proxy.ts';

export interface ClusterNetworkOptions {
  client: Client;
  runtime: ContainerRuntime;
  cluster: string;
  /** Distinguishes this cluster's host rules from other clusters' (name + data folder). */
  clusterId: string;
  /** The Docker network pods join. */
  network: string;
  serviceCIDR: string;
  clusterDomain: string;
  /** Where NodePort/LoadBalancer ports listen (default 127.0.0.1). */
  hostAddress?: string;
  /** false: user-space proxy only (no host iptables). */
  iptables?: boolean;
  /** Upstream resolvers for names outside the cluster (default: the host's /etc/resolv.conf). */
  upstreamDNS?: string[];
  refreshMs?: number;
}

const DNS_LABELS = { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'ClusterDNS' };

export class ClusterNetwork {
  readonly proxy: ServiceProxy;
  /** kube-dns's cluster IP: the 10th of the range, or what the Service already has. */
  dnsIP: string;
  private readonly view: InformerDnsView;
  private dns?: DnsServer;
  private dnsAt?: { host: string; port: number };
  private timer?: NodeJS.Timeout;
  private refreshing?: Promise<void>;

  constructor(private readonly opts: ClusterNetworkOptions) {
    this.dnsIP = dnsServiceIP(opts.serviceCIDR);
    this.proxy = new ServiceProxy({
      client: opts.client,
      clusterId: opts.clusterId,
      serviceCIDR: opts.serviceCIDR,
      podSubnet: async () => (await this.ensureNetwork())?.subnet,
      liveSubnets: async () => (await opts.runtime.listNetworks()).flatMap((n) => (n.subnet ? [n.subnet] : [])),
      ...(opts.hostAddress ? { hostAddress: opts.hostAddress } : {}),
      ...(opts.iptables === false ? { iptables: false as const } : {}),
    });
    this.view = new InformerDnsView(this.proxy.informers); // the proxy's Service/Endpoints caches, not a second copy
  }

  /** DNS servers for pods with dnsPolicy ClusterFirst: cluster DNS when pods can reach it, else none (the engine's). */
  clusterDNS(): string[] {
    return this.proxy.mode === 'iptables' && this.dnsAt ? [this.dnsIP] : [];
  }

  async start(): Promise<void> {
    await this.ensureNetwork();
    await this.view.start();
    await this.proxy.start();
    await this.ensureDnsService().catch((e) => log.warn('kube-dns Service not created: pods get the engine\'s DNS', { error: (e as Error).message }));
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.opts.refreshMs ?? 10_000);
    this.timer.unref();
  }

  async stop(opts: { removeRules?: boolean } = {}): Promise<void> {
    clearInterval(this.timer);
    await this.refreshing;
    try {
      await this.proxy.stop(opts);
    } finally {
      await this.dns?.stop();
      this.view.stop();
    }
  }

  /** Re-bind cluster DNS on the pod network's gateway if it moved, and publish where it listens. */
  refresh(): Promise<void> {
    this.refreshing ??= this.doRefresh().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async doRefresh(): Promise<void> {
    const net = await this.ensureNetwork();
    const gw = net?.gateway;
    if (!gw) return;
    if (!this.dns || this.dnsAt?.host !== gw) {
      await this.dns?.stop();
      this.dns = undefined;
      this.dnsAt = undefined;
      const server = new DnsServer({ view: this.view, domain: this.opts.clusterDomain, ...(this.opts.upstreamDNS ? { upstream: this.opts.upstreamDNS } : {}) });
      try {
        const port = await server.start({ host: gw, port: 0 });
        this.dns = server;
        this.dnsAt = { host: gw, port };
        log.info('cluster DNS listening', { address: `${gw}:${port}`, service: `${this.dnsIP}:53` });
      } catch (e) {
        log.warn('cluster DNS cannot listen on the pod network gateway (is the engine remote?)', { gateway: gw, error: (e as Error).message });
        return;
      }
    }
    await this.publishDnsEndpoints().catch((e) => log.warn('kube-dns endpoints not written', { error: (e as Error).message }));
  }

  private async ensureNetwork(): Promise<{ subnet?: string; gateway?: string } | undefined> {
    try {
      return await this.opts.runtime.ensureNetwork(this.opts.network, { [LABEL.cluster]: this.opts.cluster });
    } catch (e) {
      log.warn('cluster network unavailable', { network: this.opts.network, error: (e as Error).message });
      return undefined;
    }
  }

  private async ensureDnsService(): Promise<void> {
    const svc: KubeObject = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kube-dns', namespace: 'kube-system', labels: DNS_LABELS },
      spec: {
        clusterIP: this.dnsIP,
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
          { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
        ],
      },
    };
    const ref = { apiVersion: 'v1', kind: 'Service', namespace: 'kube-system', name: 'kube-dns' };
    try {
      const existing = await this.opts.client.get(ref);
      // Made at an earlier start, perhaps with another service range: pods use the IP it has.
      if (existing.spec?.clusterIP && existing.spec.clusterIP !== 'None') this.dnsIP = existing.spec.clusterIP;
      return;
    } catch (e) {
      if (!isApiError(e, 'NotFound')) throw e;
    }
    try {
      await this.opts.client.create(svc);
    } catch (e) {
      if (!isApiError(e, 'AlreadyExists')) throw e;
    }
  }

  private async publishDnsEndpoints(): Promise<void> {
    if (!this.dnsAt) return;
    const subsets = [
      {
        addresses: [{ ip: this.dnsAt.host }],
        ports: [
          { name: 'dns', port: this.dnsAt.port, protocol: 'UDP' },
          { name: 'dns-tcp', port: this.dnsAt.port, protocol: 'TCP' },
        ],
      },
    ];
    const ref = { apiVersion: 'v1', kind: 'Endpoints', namespace: 'kube-system', name: 'kube-dns' };
    let current: KubeObject | undefined;
    try {
      current = await this.opts.client.get(ref);
    } catch (e) {
      if (!isApiError(e, 'NotFound')) throw e;
    }
    if (!current) {
      await this.opts.client.create({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'kube-dns', namespace: 'kube-system', labels: DNS_LABELS }, subsets });
      return;
    }
    if (JSON.stringify(current.subsets) === JSON.stringify(subsets)) return;
    await this.opts.client.update({ ...current, subsets });
  }
}
