import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../core/store/index.ts';
import { ApiServer } from '../../../core/server/api-server.ts';
import { ApiError, isApiError } from '../../../core/api/errors.ts';
import type { KubeObject } from '../../../core/api/types.ts';

const SVC = { apiVersion: 'v1', kind: 'Service' };

function svc(name: string, spec: Record<string, unknown> = {}, namespace = 'default'): KubeObject {
  return { ...SVC, metadata: { name, namespace }, spec: { selector: { app: name }, ports: [{ port: 80 }], ...spec } } as KubeObject;
}

async function expectInvalid(p: Promise<unknown>, message: string): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    expect(isApiError(e, 'Invalid')).toBe(true);
    expect((e as ApiError).code).toBe(422);
    expect((e as ApiError).message).toBe(message);
    return e as ApiError;
  }
  throw new Error('expected Invalid, got success');
}

const inRange = (ip: string) => /^10\.96\.\d{1,3}\.\d{1,3}$/.test(ip) && ip !== '10.96.0.0' && ip !== '10.96.255.255';

describe('Service cluster IP and node port allocation', () => {
  let store: Store;
  let api: ApiServer;

  beforeEach(async () => {
    store = await openStore('memory:');
    api = new ApiServer({ store });
    await api.bootstrap();
  });
  afterEach(async () => {
    await store.close();
  });

  const get = (name: string, namespace = 'default') => api.get({ ...SVC, namespace, name });

  it('gives a ClusterIP Service a free address of 10.96.0.0/16, never .1 or .10', async () => {
    const s = await api.create(svc('web'));
    expect(inRange(s.spec.clusterIP)).toBe(true);
    expect(s.spec.clusterIPs).toEqual([s.spec.clusterIP]);
    expect(['10.96.0.1', '10.96.0.10']).not.toContain(s.spec.clusterIP);
    expect((await get('web')).spec.clusterIP).toBe(s.spec.clusterIP);
    expect(s.spec.ports[0].nodePort).toBeUndefined();
  });

  it('never hands out the same address twice among 200 concurrent creates', async () => {
    // A /24 (252 dynamic addresses): without reservations, random picks would collide.
    const api24 = new ApiServer({ store, serviceCIDR: '10.97.0.0/24' });
    const created = await Promise.all(Array.from({ length: 200 }, (_, i) => api24.create(svc(`s${i}`, i % 2 ? { type: 'NodePort' } : {}))));
    const ips = created.map((s) => s.spec.clusterIP);
    expect(ips.every((ip) => /^10\.97\.0\.\d+$/.test(ip) && !['10.97.0.0', '10.97.0.1', '10.97.0.10', '10.97.0.255'].includes(ip))).toBe(true);
    expect(new Set(ips).size).toBe(200);
    const ports = created.filter((s) => s.spec.type === 'NodePort').map((s) => s.spec.ports[0].nodePort);
    expect(ports.every((p) => p >= 30000 && p <= 32767)).toBe(true);
    expect(new Set(ports).size).toBe(100);
  });

  it('keeps concurrent creates apart on the lowdb store too (writes in flight to disk)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wh-svc-'));
    const disk = await openStore(`lowdb:${join(dir, 'store.json')}`);
    try {
      const dapi = new ApiServer({ store: disk, serviceCIDR: '10.98.0.0/26', nodePortRange: { min: 30000, max: 30059 } });
      await dapi.bootstrap();
      // /26: 62 usable, 60 dynamic; 60 node ports.
      const first = await Promise.all(Array.from({ length: 30 }, (_, i) => dapi.create(svc(`a${i}`, { type: 'NodePort' }))));
      const second = await Promise.all(Array.from({ length: 30 }, (_, i) => dapi.create(svc(`b${i}`, { type: 'NodePort' }))));
      const all = [...first, ...second];
      expect(new Set(all.map((s) => s.spec.clusterIP)).size).toBe(60);
      expect(new Set(all.map((s) => s.spec.ports[0].nodePort)).size).toBe(60);
    } finally {
      await disk.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('allocates from a small configured range until it is full', async () => {
    const small = new ApiServer({ store, serviceCIDR: '10.0.0.0/29', nodePortRange: { min: 31000, max: 31001 } });
    // /29: .1–.6 usable; .1 is kept for the `kubernetes` Service, so 5 dynamic addresses.
    const made = await Promise.all([1, 2, 3, 4, 5].map((i) => small.create(svc(`t${i}`))));
    expect(made.map((s) => s.spec.clusterIP).sort()).toEqual(['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6']);
    await expect(small.create(svc('t6'))).rejects.toThrow('failed to allocate a serviceIP: range is full');
    // The reserved first address is still there for whoever asks for it.
    expect((await small.create(svc('kubernetes', { clusterIP: '10.0.0.1' }))).spec.clusterIP).toBe('10.0.0.1');
    for (const n of ['t1', 't2', 't3']) await small.delete({ ...SVC, namespace: 'default', name: n });
    const nps = await Promise.all(['n1', 'n2'].map((n) => small.create(svc(n, { type: 'NodePort' }))));
    expect(nps.map((s) => s.spec.ports[0].nodePort).sort()).toEqual([31000, 31001]);
    await expect(small.create(svc('n3', { type: 'NodePort' }))).rejects.toThrow('failed to allocate a nodePort: range is full');
  });

  it('honours a requested cluster IP in the range, and rejects one outside it or taken', async () => {
    const dns = await api.create(svc('kube-dns', { clusterIP: '10.96.0.10' }));
    expect(dns.spec.clusterIP).toBe('10.96.0.10');
    expect(dns.spec.clusterIPs).toEqual(['10.96.0.10']);
    await expectInvalid(
      api.create(svc('out', { clusterIP: '1.2.3.4' })),
      'Service "out" is invalid: spec.clusterIPs: Invalid value: ["1.2.3.4"]: failed to allocate IP 1.2.3.4: the provided IP (1.2.3.4) is not in the valid range. The range of valid IPs is 10.96.0.0/16',
    );
    await expectInvalid(
      api.create(svc('net', { clusterIP: '10.96.0.0' })),
      'Service "net" is invalid: spec.clusterIPs: Invalid value: ["10.96.0.0"]: failed to allocate IP 10.96.0.0: the provided IP (10.96.0.0) is not in the valid range. The range of valid IPs is 10.96.0.0/16',
    );
    // Cluster IPs are unique across namespaces.
    await api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } });
    const e = await expectInvalid(
      api.create(svc('dup', { clusterIP: '10.96.0.10' }, 'other')),
      'Service "dup" is invalid: spec.clusterIPs: Invalid value: ["10.96.0.10"]: failed to allocate IP 10.96.0.10: provided IP is already allocated',
    );
    expect(e.causes).toEqual([{ reason: 'FieldValueInvalid', field: 'spec.clusterIPs', message: expect.stringContaining('already allocated') }]);
    // Of two concurrent requests for one free address exactly one wins.
    const both = await Promise.allSettled([api.create(svc('a', { clusterIP: '10.96.0.20' })), api.create(svc('b', { clusterIP: '10.96.0.20' }))]);
    expect(both.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
  });

  it('gives headless and ExternalName Services no address', async () => {
    const headless = await api.create(svc('db', { clusterIP: 'None' }));
    expect(headless.spec.clusterIP).toBe('None');
    expect(headless.spec.clusterIPs).toEqual(['None']);
    const ext = await api.create<KubeObject>({ ...SVC, metadata: { name: 'ext' }, spec: { type: 'ExternalName', externalName: 'example.com' } });
    expect(ext.spec.clusterIP).toBeUndefined();
    expect(ext.spec.clusterIPs).toBeUndefined();
  });

  it('allocates node ports for NodePort and LoadBalancer Services and rejects a taken one', async () => {
    const np = await api.create(svc('np', { type: 'NodePort', ports: [{ name: 'http', port: 80 }, { name: 'fixed', port: 81, nodePort: 30080 }] }));
    const [http, fixed] = np.spec.ports;
    expect(http.nodePort).toBeGreaterThanOrEqual(30000);
    expect(http.nodePort).toBeLessThanOrEqual(32767);
    expect(fixed.nodePort).toBe(30080);
    await expectInvalid(
      api.create(svc('np2', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] })),
      'Service "np2" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated',
    );
    // DNS-style: 53/UDP and 53/TCP share one node port.
    const dns = await api.create(svc('dns', { type: 'NodePort', ports: [{ name: 'u', port: 53, protocol: 'UDP' }, { name: 't', port: 53, protocol: 'TCP' }] }));
    expect(dns.spec.ports[0].nodePort).toBe(dns.spec.ports[1].nodePort);

    const lb = await api.create(svc('lb', { type: 'LoadBalancer' }));
    expect(lb.spec.ports[0].nodePort).toBeGreaterThanOrEqual(30000);
    const lbNone = await api.create(svc('lb-none', { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false }));
    expect(lbNone.spec.ports[0].nodePort).toBeUndefined();
    const local = await api.create(svc('lb-local', { type: 'LoadBalancer', externalTrafficPolicy: 'Local' }));
    expect(local.spec.healthCheckNodePort).toBeGreaterThanOrEqual(30000);
    expect(local.spec.healthCheckNodePort).not.toBe(local.spec.ports[0].nodePort);
  });

  it('keeps allocated values when an update or a re-applied manifest leaves them out', async () => {
    const s = await api.create(svc('web', { type: 'NodePort', ports: [{ name: 'http', port: 80 }] }));
    const { clusterIP } = s.spec;
    const nodePort = s.spec.ports[0].nodePort;
    // PUT of the original manifest (no clusterIP, no nodePort): a no-op, same revision.
    const again = await api.update(svc('web', { type: 'NodePort', ports: [{ name: 'http', port: 80 }] }));
    expect(again.spec.clusterIP).toBe(clusterIP);
    expect(again.spec.ports[0].nodePort).toBe(nodePort);
    expect(again.metadata.resourceVersion).toBe(s.metadata.resourceVersion);
    // A real change keeps them too; an added port gets its own.
    const changed = await api.update(svc('web', { type: 'NodePort', ports: [{ name: 'http', port: 80 }, { name: 'admin', port: 9000 }] }));
    expect(changed.spec.clusterIP).toBe(clusterIP);
    expect(changed.spec.clusterIPs).toEqual([clusterIP]);
    expect(changed.spec.ports[0].nodePort).toBe(nodePort);
    expect(changed.spec.ports[1].nodePort).toBeGreaterThanOrEqual(30000);
    expect(changed.spec.ports[1].nodePort).not.toBe(nodePort);
    // A merge patch that does not touch them.
    const patched = await api.patch({ ...SVC, namespace: 'default', name: 'web' }, 'merge', { metadata: { labels: { tier: 'front' } } });
    expect(patched.spec.clusterIP).toBe(clusterIP);
    // Changing the cluster IP is still refused.
    await expect(api.update(svc('web', { type: 'NodePort', clusterIP: '10.96.1.1', ports: [{ name: 'http', port: 80 }] }))).rejects.toThrow('field is immutable');
  });

  it('follows type changes: nodePorts come and go, ExternalName gives the IP back', async () => {
    const s = await api.create(svc('web'));
    const ip = s.spec.clusterIP;
    const np = await api.update({ ...s, spec: { ...s.spec, type: 'NodePort' } });
    expect(np.spec.clusterIP).toBe(ip);
    const port = np.spec.ports[0].nodePort;
    expect(port).toBeGreaterThanOrEqual(30000);

    // NodePort → ClusterIP with the object as read: nodePort and externalTrafficPolicy are dropped.
    const back = await api.update({ ...np, spec: { ...np.spec, type: 'ClusterIP' } });
    expect(back.spec.ports[0].nodePort).toBeUndefined();
    expect(back.spec.externalTrafficPolicy).toBeUndefined();
    expect(back.spec.clusterIP).toBe(ip);
    // …and the port is free again.
    expect((await api.create(svc('other', { type: 'NodePort', ports: [{ port: 80, nodePort: port }] }))).spec.ports[0].nodePort).toBe(port);

    // ClusterIP → ExternalName with the object as read: the IP is released.
    const ext = await api.update({ ...back, spec: { ...back.spec, type: 'ExternalName', externalName: 'example.com' } });
    expect(ext.spec.clusterIP).toBeUndefined();
    expect(ext.spec.clusterIPs).toBeUndefined();
    expect((await api.create(svc('taker', { clusterIP: ip }))).spec.clusterIP).toBe(ip);

    // ExternalName → ClusterIP: a new address.
    const again = await api.update<KubeObject>({ ...ext, spec: { type: 'ClusterIP', selector: { app: 'web' }, ports: [{ port: 80 }] } });
    expect(inRange(again.spec.clusterIP)).toBe(true);
    expect(again.spec.clusterIP).not.toBe(ip);
    expect(again.spec.clusterIPs).toEqual([again.spec.clusterIP]);
  });

  it('frees the address and node ports of a deleted Service', async () => {
    const s = await api.create(svc('web', { type: 'NodePort', ports: [{ port: 80, nodePort: 30123 }] }));
    const ip = s.spec.clusterIP;
    await expect(api.create(svc('web2', { clusterIP: ip }))).rejects.toThrow('provided IP is already allocated');
    await api.delete({ ...SVC, namespace: 'default', name: 'web' });
    const reused = await api.create(svc('web2', { type: 'NodePort', clusterIP: ip, ports: [{ port: 80, nodePort: 30123 }] }));
    expect(reused.spec.clusterIP).toBe(ip);
    expect(reused.spec.ports[0].nodePort).toBe(30123);
  });

  it('dryRun shows what would be allocated but holds nothing', async () => {
    const dry = await api.create(svc('web', { clusterIP: '10.96.3.3', type: 'NodePort', ports: [{ port: 80, nodePort: 30300 }] }), undefined, { dryRun: true });
    expect(dry.spec.clusterIP).toBe('10.96.3.3');
    const dry2 = await api.create(svc('auto', { type: 'NodePort' }), undefined, { dryRun: true });
    expect(inRange(dry2.spec.clusterIP)).toBe(true);
    expect(dry2.spec.ports[0].nodePort).toBeGreaterThanOrEqual(30000);
    await expect(get('web')).rejects.toThrow('not found');
    // Nothing was taken: the same values are free for a real create.
    const real = await api.create(svc('web', { clusterIP: '10.96.3.3', type: 'NodePort', ports: [{ port: 80, nodePort: 30300 }] }));
    expect(real.spec.clusterIP).toBe('10.96.3.3');
    // A dry-run type change allocates nothing either.
    const c = await api.create(svc('c'));
    const dryUpd = await api.update({ ...c, spec: { ...c.spec, type: 'NodePort', ports: [{ port: 80, nodePort: 30400 }] } }, undefined, { dryRun: true });
    expect(dryUpd.spec.ports[0].nodePort).toBe(30400);
    expect((await get('c')).spec.type).toBe('ClusterIP');
    expect((await api.create(svc('d', { type: 'NodePort', ports: [{ port: 80, nodePort: 30400 }] }))).spec.ports[0].nodePort).toBe(30400);
  });
});
