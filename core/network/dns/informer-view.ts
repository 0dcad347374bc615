/**
 * The DnsView the cluster runs with: Service, Endpoints and (optionally) Pod informers over a
 * Client, indexed by IP for PTR and verified pod records. Either it owns its informers (built from
 * a Client, started and stopped with it) or it reads informers the caller already runs (the
 * service proxy's, say), adding its indexes to them and leaving their lifecycle alone.
 */
import type { KubeObject } from '../../api/types.ts';
import type { Client } from '../../client/client.ts';
import { Informer } from '../../controllers/informer.ts';
import type { DnsView } from './resolver.ts';

export interface DnsInformers {
  services: Informer;
  endpoints: Informer;
  pods?: Informer;
}

export interface InformerDnsViewOptions {
  /** Watch Pods too (for `pods: 'verified'`); only when built from a Client. Default false. */
  pods?: boolean;
}

const BY_CLUSTER_IP = 'dns/clusterIP';
const BY_ENDPOINT_IP = 'dns/endpointIP';
const BY_POD_IP = 'dns/podIP';

export class InformerDnsView implements DnsView {
  readonly informers: DnsInformers;
  private readonly owned: boolean;

  constructor(source: Client | DnsInformers, opts: InformerDnsViewOptions = {}) {
    if (isInformers(source)) {
      this.informers = source;
      this.owned = false;
    } else {
      this.informers = {
        services: new Informer(source, { apiVersion: 'v1', kind: 'Service' }),
        endpoints: new Informer(source, { apiVersion: 'v1', kind: 'Endpoints' }),
        pods: opts.pods ? new Informer(source, { apiVersion: 'v1', kind: 'Pod' }) : undefined,
      };
      this.owned = true;
    }
    this.informers.services.addIndex(BY_CLUSTER_IP, serviceIPs);
    this.informers.endpoints.addIndex(BY_ENDPOINT_IP, endpointIPs);
    this.informers.pods?.addIndex(BY_POD_IP, podIPs);
  }

  /** Resolves once the owned informers have listed (no-op for borrowed ones). */
  async start(): Promise<void> {
    if (!this.owned) return;
    const { services, endpoints, pods } = this.informers;
    await Promise.all([services.start(), endpoints.start(), pods?.start()]);
  }

  stop(): void {
    if (!this.owned) return;
    const { services, endpoints, pods } = this.informers;
    services.stop();
    endpoints.stop();
    pods?.stop();
  }

  service(namespace: string, name: string): KubeObject | undefined {
    return this.informers.services.get(`${namespace}/${name}`);
  }

  endpoints(namespace: string, name: string): KubeObject | undefined {
    return this.informers.endpoints.get(`${namespace}/${name}`);
  }

  servicesByIP(ip: string): KubeObject[] {
    return this.informers.services.byIndex(BY_CLUSTER_IP, ip);
  }

  endpointsByIP(ip: string): KubeObject[] {
    return this.informers.endpoints.byIndex(BY_ENDPOINT_IP, ip);
  }

  podsByIP(ip: string): KubeObject[] {
    return this.informers.pods?.byIndex(BY_POD_IP, ip) ?? [];
  }
}

function isInformers(source: Client | DnsInformers): source is DnsInformers {
  return (source as DnsInformers).services instanceof Informer;
}

function serviceIPs(svc: KubeObject): string[] {
  const ips: unknown[] = [svc.spec?.clusterIP, ...(svc.spec?.clusterIPs ?? [])];
  return [...new Set(ips.filter((ip): ip is string => typeof ip === 'string' && ip !== '' && ip !== 'None'))];
}

function endpointIPs(eps: KubeObject): string[] {
  const ips = new Set<string>();
  for (const s of (eps.subsets as any[] | undefined) ?? []) {
    for (const a of [...(s.addresses ?? []), ...(s.notReadyAddresses ?? [])]) if (typeof a?.ip === 'string') ips.add(a.ip);
  }
  return [...ips];
}

function podIPs(pod: KubeObject): string[] {
  const ips: unknown[] = [pod.status?.podIP, ...(pod.status?.podIPs ?? []).map((p: { ip?: string }) => p?.ip)];
  return [...new Set(ips.filter((ip): ip is string => typeof ip === 'string' && ip !== ''))];
}
