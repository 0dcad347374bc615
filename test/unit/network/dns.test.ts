import { describe, it, expect, afterEach } from 'vitest';
import type { Answer } from 'dns-packet';
import { resolve, type Resolution } from '../../../core/network/dns/resolver.ts';
import { InformerDnsView } from '../../../core/network/dns/informer-view.ts';
import { openStore, type Store } from '../../../core/store/index.ts';
import { ApiServer } from '../../../core/server/api-server.ts';
import { InProcessClient } from '../../../core/client/in-process-client.ts';
import type { KubeObject } from '../../../core/api/types.ts';
import type { DnsView } from '../../../core/network/dns/resolver.ts';

const svc = (ns: string, name: string, spec: Record<string, unknown>, annotations?: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { namespace: ns, name, ...(annotations ? { annotations } : {}) },
  spec,
});

const eps = (ns: string, name: string, subsets: unknown[]): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Endpoints',
  metadata: { namespace: ns, name },
  subsets,
});

const pod = (ns: string, name: string, ip: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { namespace: ns, name },
  spec: {},
  status: { podIP: ip, podIPs: [{ ip }] },
});

/** A DnsView over plain maps. */
class MapView implements DnsView {
  readonly services = new Map<string, KubeObject>();
  readonly endpointsMap = new Map<string, KubeObject>();
  readonly pods: KubeObject[] = [];

  constructor(objs: KubeObject[] = []) {
    for (const o of objs) this.add(o);
  }

  add(o: KubeObject): this {
    const key = `${o.metadata.namespace}/${o.metadata.name}`;
    if (o.kind === 'Service') this.services.set(key, o);
    else if (o.kind === 'Endpoints') this.endpointsMap.set(key, o);
    else this.pods.push(o);
    return this;
  }

  service(ns: string, name: string) {
    return this.services.get(`${ns}/${name}`);
  }
  endpoints(ns: string, name: string) {
    return this.endpointsMap.get(`${ns}/${name}`);
  }
  servicesByIP(ip: string) {
    return [...this.services.values()].filter((s) => s.spec?.clusterIP === ip);
  }
  endpointsByIP(ip: string) {
    return [...this.endpointsMap.values()].filter((e) => JSON.stringify(e.subsets).includes(`"ip":"${ip}"`));
  }
  podsByIP(ip: string) {
    return this.pods.filter((p) => p.status?.podIP === ip);
  }
}

/** A typical cluster: a ClusterIP service, a headless StatefulSet service, an ExternalName. */
function sampleCluster(): MapView {
  return new MapView([
    svc('default', 'kubernetes', { type: 'ClusterIP', clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP' }] }),
    svc('shop', 'web', {
      type: 'ClusterIP',
      clusterIP: '10.96.0.20',
      ports: [
        { name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 },
        { name: 'dns', port: 53, protocol: 'UDP' },
        { port: 9000 },
      ],
    }),
    svc('shop', 'db', { clusterIP: 'None', ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] }),
    eps('shop', 'db', [
      {
        addresses: [
          { ip: '10.244.0.10', hostname: 'db-0' },
          { ip: '10.244.0.11', hostname: 'db-1' },
          { ip: '10.244.0.12' },
        ],
        notReadyAddresses: [{ ip: '10.244.0.13', hostname: 'db-2' }],
        ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
      },
    ]),
    svc('shop', 'empty', { clusterIP: 'None', ports: [{ name: 'pg', port: 5432 }] }),
    svc('shop', 'ext', { type: 'ExternalName', externalName: 'db.example.com' }),
    svc('shop', 'alias', { type: 'ExternalName', externalName: 'web.shop.svc.cluster.local.' }),
  ]);
}

type Answered = Extract<Resolution, { kind: 'answer' }>;

function ask(view: DnsView, name: string, type = 'A', opts = {}): Answered {
  const r = resolve({ name, type }, view, 'cluster.local', opts);
  if (r.kind !== 'answer') throw new Error(`${name} ${type} was forwarded`);
  return r;
}

const data = (rrs: Answer[]) => rrs.map((a) => (a as { data: unknown }).data);

describe('cluster DNS resolver', () => {
  const view = sampleCluster();

  it('answers a ClusterIP service with its cluster IP, TTL 5, authoritative NOERROR', () => {
    const r = ask(view, 'web.shop.svc.cluster.local');
    expect(r.rcode).toBe('NOERROR');
    expect(r.answers).toEqual([{ type: 'A', name: 'web.shop.svc.cluster.local', ttl: 5, data: '10.96.0.20' }]);
    expect(r.authorities).toEqual([]);
  });

  it('is case-insensitive, takes a trailing dot and answers in the asker spelling', () => {
    const r = ask(view, 'Web.SHOP.svc.Cluster.Local.');
    expect(r.rcode).toBe('NOERROR');
    expect(r.answers).toEqual([{ type: 'A', name: 'Web.SHOP.svc.Cluster.Local', ttl: 5, data: '10.96.0.20' }]);
    expect(data(ask(view, '_HTTP._TCP.web.shop.svc.cluster.local', 'srv').answers)).toHaveLength(1);
  });

  it('answers a headless service with its ready endpoints only', () => {
    const r = ask(view, 'db.shop.svc.cluster.local');
    expect(data(r.answers).sort()).toEqual(['10.244.0.10', '10.244.0.11', '10.244.0.12']);
  });

  it('includes not-ready endpoints with publishNotReadyAddresses or the tolerate-unready annotation', () => {
    const base = sampleCluster();
    const spec = { ...base.service('shop', 'db')!.spec };
    base.add(svc('shop', 'db', { ...spec, publishNotReadyAddresses: true }));
    expect(data(ask(base, 'db.shop.svc.cluster.local').answers)).toContain('10.244.0.13');
    base.add(svc('shop', 'db', spec, { 'service.alpha.kubernetes.io/tolerate-unready-endpoints': 'true' }));
    expect(data(ask(base, 'db-2.db.shop.svc.cluster.local').answers)).toEqual(['10.244.0.13']);
  });

  it('resolves a StatefulSet pod by hostname, and an endpoint without one by its dashed IP', () => {
    expect(data(ask(view, 'db-1.db.shop.svc.cluster.local').answers)).toEqual(['10.244.0.11']);
    expect(data(ask(view, '10-244-0-12.db.shop.svc.cluster.local').answers)).toEqual(['10.244.0.12']);
    // Not ready, so not published; and no hostnames under a ClusterIP service.
    expect(ask(view, 'db-2.db.shop.svc.cluster.local').rcode).toBe('NXDOMAIN');
    expect(ask(view, 'x.web.shop.svc.cluster.local').rcode).toBe('NXDOMAIN');
  });

  it('answers SRV for a ClusterIP named port with the service as target and its A record in additional', () => {
    const r = ask(view, '_http._tcp.web.shop.svc.cluster.local', 'SRV');
    expect(r.answers).toEqual([
      { type: 'SRV', name: '_http._tcp.web.shop.svc.cluster.local', ttl: 5, data: { priority: 0, weight: 100, port: 80, target: 'web.shop.svc.cluster.local' } },
    ]);
    expect(r.additionals).toEqual([{ type: 'A', name: 'web.shop.svc.cluster.local', ttl: 5, data: '10.96.0.20' }]);
    expect(data(ask(view, '_dns._udp.web.shop.svc.cluster.local', 'SRV').answers)).toMatchObject([{ port: 53 }]);
    // Wrong protocol, unknown port name: no such name.
    expect(ask(view, '_dns._tcp.web.shop.svc.cluster.local', 'SRV').rcode).toBe('NXDOMAIN');
    expect(ask(view, '_nope._tcp.web.shop.svc.cluster.local', 'SRV').rcode).toBe('NXDOMAIN');
    // The SRV name exists: an A question for it is NODATA; _tcp.<svc> is an empty non-terminal.
    expect(ask(view, '_http._tcp.web.shop.svc.cluster.local', 'A')).toMatchObject({ rcode: 'NOERROR', answers: [] });
    expect(ask(view, '_tcp.web.shop.svc.cluster.local', 'A')).toMatchObject({ rcode: 'NOERROR', answers: [] });
  });

  it('answers SRV for a headless service with one record per ready endpoint', () => {
    const r = ask(view, '_pg._tcp.db.shop.svc.cluster.local', 'SRV');
    const targets = data(r.answers) as Array<{ target: string; port: number }>;
    expect(targets.map((t) => t.target).sort()).toEqual([
      '10-244-0-12.db.shop.svc.cluster.local',
      'db-0.db.shop.svc.cluster.local',
      'db-1.db.shop.svc.cluster.local',
    ]);
    expect(targets.every((t) => t.port === 5432)).toBe(true);
    expect(r.additionals).toContainEqual({ type: 'A', name: 'db-0.db.shop.svc.cluster.local', ttl: 5, data: '10.244.0.10' });
    // A headless service without endpoints: the port exists, no records.
    expect(ask(view, '_pg._tcp.empty.shop.svc.cluster.local', 'SRV')).toMatchObject({ rcode: 'NOERROR', answers: [] });
  });

  it('answers an ExternalName service with a CNAME, asking the server to chase it out of the zone', () => {
    const r = ask(view, 'ext.shop.svc.cluster.local', 'A');
    expect(r.answers).toEqual([{ type: 'CNAME', name: 'ext.shop.svc.cluster.local', ttl: 5, data: 'db.example.com' }]);
    expect(r.chase).toEqual({ name: 'db.example.com', type: 'A' });
    expect(ask(view, 'ext.shop.svc.cluster.local', 'CNAME').chase).toBeUndefined();
    // A target inside the zone is followed here.
    const alias = ask(view, 'alias.shop.svc.cluster.local', 'A');
    expect(alias.answers.map((a) => a.type)).toEqual(['CNAME', 'A']);
    expect(data(alias.answers)[1]).toBe('10.96.0.20');
  });

  it('tells NXDOMAIN (no such name) from NODATA (no record of that type), both with the SOA', () => {
    const nx = ask(view, 'missing.shop.svc.cluster.local');
    expect(nx.rcode).toBe('NXDOMAIN');
    expect(nx.authorities).toMatchObject([{ type: 'SOA', name: 'cluster.local', data: { minimum: 5 } }]);
    expect(ask(view, 'web.nowhere.svc.cluster.local').rcode).toBe('NXDOMAIN');
    expect(ask(view, 'random.cluster.local').rcode).toBe('NXDOMAIN');
    const nodata = ask(view, 'web.shop.svc.cluster.local', 'AAAA');
    expect(nodata).toMatchObject({ rcode: 'NOERROR', answers: [] });
    expect(nodata.authorities[0]!.type).toBe('SOA');
    expect(ask(view, 'db.shop.svc.cluster.local', 'MX')).toMatchObject({ rcode: 'NOERROR', answers: [] });
    // Headless with no endpoints exists (spec: empty, not NXDOMAIN); namespaces are empty non-terminals.
    expect(ask(view, 'empty.shop.svc.cluster.local')).toMatchObject({ rcode: 'NOERROR', answers: [] });
    expect(ask(view, 'shop.svc.cluster.local')).toMatchObject({ rcode: 'NOERROR', answers: [] });
  });

  it('answers the zone SOA and the schema version TXT', () => {
    expect(ask(view, 'cluster.local', 'SOA').answers).toMatchObject([{ type: 'SOA', data: { mname: 'ns.dns.cluster.local' } }]);
    expect(data(ask(view, 'dns-version.cluster.local', 'TXT').answers)).toEqual(['1.1.0']);
  });

  it('answers pod A records from the dashed IP, verified against pods when asked', () => {
    expect(ask(view, '10-244-1-7.shop.pod.cluster.local').answers).toEqual([
      { type: 'A', name: '10-244-1-7.shop.pod.cluster.local', ttl: 5, data: '10.244.1.7' },
    ]);
    expect(ask(view, '10-244-1-300.shop.pod.cluster.local').rcode).toBe('NXDOMAIN');
    const withPod = sampleCluster().add(pod('shop', 'p', '10.244.1.7'));
    expect(ask(withPod, '10-244-1-7.shop.pod.cluster.local', 'A', { pods: 'verified' }).answers).toHaveLength(1);
    expect(ask(withPod, '10-244-1-7.other.pod.cluster.local', 'A', { pods: 'verified' }).rcode).toBe('NXDOMAIN');
    expect(ask(withPod, '10-244-1-7.shop.pod.cluster.local', 'A', { pods: 'disabled' }).rcode).toBe('NXDOMAIN');
  });

  it('answers PTR for cluster IPs and headless endpoints, forwarding other reverse names', () => {
    expect(data(ask(view, '20.0.96.10.in-addr.arpa', 'PTR').answers)).toEqual(['web.shop.svc.cluster.local']);
    expect(data(ask(view, '11.0.244.10.in-addr.arpa.', 'PTR').answers)).toEqual(['db-1.db.shop.svc.cluster.local']);
    expect(resolve({ name: '8.8.8.8.in-addr.arpa', type: 'PTR' }, view)).toEqual({ kind: 'forward' });
  });

  it('forwards names outside the cluster domain, and honours another domain', () => {
    expect(resolve({ name: 'example.com', type: 'A' }, view)).toEqual({ kind: 'forward' });
    expect(resolve({ name: 'notcluster.local', type: 'A' }, view)).toEqual({ kind: 'forward' });
    expect(resolve({ name: 'web.shop.svc.cluster.local', type: 'A' }, view, 'corp.internal')).toEqual({ kind: 'forward' });
    const r = resolve({ name: 'web.shop.svc.corp.internal', type: 'A' }, view, 'corp.internal.');
    expect(r).toMatchObject({ kind: 'answer', rcode: 'NOERROR', answers: [{ data: '10.96.0.20' }] });
  });

  it('serves AAAA for IPv6 cluster IPs', () => {
    const v6 = new MapView([svc('x', 'dual', { clusterIP: '10.96.0.5', clusterIPs: ['10.96.0.5', 'fd00::5'] })]);
    expect(data(ask(v6, 'dual.x.svc.cluster.local', 'AAAA').answers)).toEqual(['fd00::5']);
    expect(data(ask(v6, 'dual.x.svc.cluster.local', 'A').answers)).toEqual(['10.96.0.5']);
  });
});

describe('InformerDnsView', () => {
  let store: Store | undefined;
  let view: InformerDnsView | undefined;
  afterEach(async () => {
    view?.stop();
    await store?.close();
  });

  it('follows Services and Endpoints through informers, indexed by IP', async () => {
    store = await openStore('memory:');
    const api = new ApiServer({ store });
    await api.bootstrap();
    const client = new InProcessClient(api);
    await client.create(svc('default', 'hl', { clusterIP: 'None', ports: [{ name: 'http', port: 80 }] }));
    view = new InformerDnsView(client);
    await view.start();
    expect(ask(view, 'hl.default.svc.cluster.local')).toMatchObject({ rcode: 'NOERROR', answers: [] });
    await client.create(eps('default', 'hl', [{ addresses: [{ ip: '10.244.0.9', hostname: 'hl-0' }], ports: [{ name: 'http', port: 80 }] }]));
    const deadline = Date.now() + 3000;
    while (!ask(view, 'hl-0.hl.default.svc.cluster.local').answers.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(data(ask(view, 'hl-0.hl.default.svc.cluster.local').answers)).toEqual(['10.244.0.9']);
    expect(data(ask(view, '9.0.244.10.in-addr.arpa', 'PTR').answers)).toEqual(['hl-0.hl.default.svc.cluster.local']);
    const kubernetes = view.service('default', 'kubernetes');
    if (kubernetes?.spec?.clusterIP) {
      const rev = kubernetes.spec.clusterIP.split('.').reverse().join('.');
      expect(data(ask(view, `${rev}.in-addr.arpa`, 'PTR').answers)).toEqual(['kubernetes.default.svc.cluster.local']);
    }
  });
});
