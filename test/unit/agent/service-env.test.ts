import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeEnv } from '../../../core/agent/container-config.ts';
import { serviceVars } from '../../../core/agent/service-env.ts';
import type { ConfigSources } from '../../../core/agent/types.ts';
import type { Pod } from '../../../core/agent/util.ts';
import type { KubeObject } from '../../../core/api/types.ts';
import { IMAGE, harness, running, type Harness } from './harness.ts';

function svc(namespace: string, name: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace, name }, spec } as KubeObject;
}

const SERVICES = [
  svc('default', 'kubernetes', { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP' }] }),
  svc('default', 'other-ns', { clusterIP: '10.96.0.50', ports: [{ port: 80 }] }),
  svc('ns1', 'redis-master', { clusterIP: '10.96.4.7', ports: [{ port: 6379, protocol: 'TCP' }] }),
  svc('ns1', 'dns', { clusterIP: '10.96.4.8', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }] }),
  svc('ns1', 'headless', { clusterIP: 'None', ports: [{ port: 5432 }] }),
  svc('ns1', 'ext', { type: 'ExternalName', externalName: 'example.com' }),
  svc('ns1', 'unallocated', { ports: [{ port: 81 }] }),
];

function sources(services: KubeObject[] = SERVICES): ConfigSources {
  return {
    configMap: () => undefined,
    secret: () => undefined,
    pvc: () => undefined,
    services: (ns) => services.filter((s) => s.metadata.namespace === ns),
  };
}

function pod(namespace: string, extra: Record<string, unknown> = {}): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace, uid: 'u' }, spec: { containers: [], ...extra } } as Pod;
}

const envOf = (p: Pod, container: any = { name: 'c' }, services?: KubeObject[]) =>
  Object.fromEntries(makeEnv({ pod: p, container, sources: sources(services), addr: {}, allocatable: {} }).map((e) => [e.name, e.value]));

describe('service environment variables', () => {
  it('names a Service host, ports and Docker links as the kubelet does', () => {
    expect(Object.fromEntries(serviceVars(SERVICES[3]!))).toEqual({
      DNS_SERVICE_HOST: '10.96.4.8',
      DNS_SERVICE_PORT: '53',
      DNS_SERVICE_PORT_DNS: '53',
      DNS_SERVICE_PORT_DNS_TCP: '53',
      DNS_PORT: 'udp://10.96.4.8:53',
      DNS_PORT_53_UDP: 'udp://10.96.4.8:53',
      DNS_PORT_53_UDP_PROTO: 'udp',
      DNS_PORT_53_UDP_PORT: '53',
      DNS_PORT_53_UDP_ADDR: '10.96.4.8',
      DNS_PORT_53_TCP: 'tcp://10.96.4.8:53',
      DNS_PORT_53_TCP_PROTO: 'tcp',
      DNS_PORT_53_TCP_PORT: '53',
      DNS_PORT_53_TCP_ADDR: '10.96.4.8',
    });
    expect(serviceVars(SERVICES[4]!)).toEqual([]);
    expect(serviceVars(SERVICES[5]!)).toEqual([]);
  });

  it("injects the namespace's Services with a cluster IP, and the master service", () => {
    const env = envOf(pod('ns1'));
    expect(env.REDIS_MASTER_SERVICE_HOST).toBe('10.96.4.7');
    expect(env.REDIS_MASTER_SERVICE_PORT).toBe('6379');
    expect(env.REDIS_MASTER_PORT).toBe('tcp://10.96.4.7:6379');
    expect(env.REDIS_MASTER_PORT_6379_TCP_ADDR).toBe('10.96.4.7');
    expect(env.KUBERNETES_SERVICE_HOST).toBe('10.96.0.1');
    expect(env.KUBERNETES_SERVICE_PORT).toBe('443');
    expect(env.KUBERNETES_SERVICE_PORT_HTTPS).toBe('443');
    expect(env.KUBERNETES_PORT).toBe('tcp://10.96.0.1:443');
    expect(env.DNS_SERVICE_HOST).toBe('10.96.4.8');
    // Other namespaces, headless, ExternalName and IP-less Services: nothing.
    const names = Object.keys(env);
    for (const prefix of ['OTHER_NS_', 'HEADLESS_', 'EXT_', 'UNALLOCATED_']) expect(names.filter((n) => n.startsWith(prefix))).toEqual([]);
  });

  it('with enableServiceLinks: false only the master service is injected', () => {
    const env = envOf(pod('ns1', { enableServiceLinks: false }));
    expect(Object.keys(env).every((n) => n.startsWith('KUBERNETES_'))).toBe(true);
    expect(env.KUBERNETES_SERVICE_HOST).toBe('10.96.0.1');
    expect(envOf(pod('ns1', { enableServiceLinks: false }), { name: 'c' }, [])).toEqual({});
  });

  it('a Service named kubernetes in the pod namespace takes the master service’s place', () => {
    const own = svc('ns1', 'kubernetes', { clusterIP: '10.96.9.9', ports: [{ port: 8443 }] });
    expect(envOf(pod('ns1'), { name: 'c' }, [...SERVICES, own]).KUBERNETES_SERVICE_HOST).toBe('10.96.9.9');
    expect(envOf(pod('ns1', { enableServiceLinks: false }), { name: 'c' }, [...SERVICES, own]).KUBERNETES_SERVICE_HOST).toBe('10.96.0.1');
  });

  it('explicit env overrides service variables and may refer to them; they come after the explicit ones', () => {
    const c = {
      name: 'c',
      env: [
        { name: 'REDIS_MASTER_SERVICE_HOST', value: 'redis.local' },
        { name: 'URL', value: 'redis://$(REDIS_MASTER_SERVICE_HOST):$(REDIS_MASTER_SERVICE_PORT)' },
      ],
    };
    const list = makeEnv({ pod: pod('ns1'), container: c, sources: sources(), addr: {}, allocatable: {} });
    const env = Object.fromEntries(list.map((e) => [e.name, e.value]));
    expect(env.REDIS_MASTER_SERVICE_HOST).toBe('redis.local');
    expect(env.URL).toBe('redis://redis.local:6379');
    expect(list.slice(0, 2).map((e) => e.name)).toEqual(['REDIS_MASTER_SERVICE_HOST', 'URL']);
    expect(list.filter((e) => e.name === 'REDIS_MASTER_SERVICE_HOST')).toHaveLength(1);
  });
});

describe('node agent: service environment (fake runtime)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
  });
  afterEach(() => h.close());

  it('a container gets the variables of the Services that exist when it starts', async () => {
    const web = await h.client.create<KubeObject>({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'default' },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80 }] },
    });
    const ip = web.spec.clusterIP;
    expect(ip).toMatch(/^10\.96\./);
    // The agent starts once its caches hold the first list, so the Service is known.
    await h.agent.start();
    await h.createPod('client', { containers: [{ name: 'c', image: IMAGE }] });
    await h.waitPod('client', running());
    const env = h.runtime.containers.get(h.containersOf('client')[0]!.id)!.config.env;
    expect(env).toContainEqual({ name: 'WEB_SERVICE_HOST', value: ip });
    expect(env).toContainEqual({ name: 'WEB_SERVICE_PORT_HTTP', value: '80' });
    expect(env).toContainEqual({ name: 'WEB_PORT', value: `tcp://${ip}:80` });
  });
});
