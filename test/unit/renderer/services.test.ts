/** The Services view's rows and details (renderer/src/lib/services.ts): plain functions over Kubernetes JSON. */
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../core/api/types.ts';
import { dnsNames, endpointAddresses, hostAddresses, portErrors, serviceRow } from '../../../renderer/src/lib/services.ts';

const svc = (name: string, spec: Record<string, unknown>, status: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'default', uid: `uid-${name}`, creationTimestamp: '2024-01-01T00:00:00Z' },
  spec: { type: 'ClusterIP', ...spec },
  status,
});

const endpoints = (name: string, subsets: unknown[]): KubeObject => ({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace: 'default' }, subsets });

const bindEvent = (service: string, message: string, uid = `uid-${service}`): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Event',
  metadata: { name: `${service}.1`, namespace: 'default' },
  involvedObject: { kind: 'Service', namespace: 'default', name: service, uid },
  type: 'Warning',
  reason: 'FailedToBindPort',
  message,
  lastTimestamp: '2024-01-01T00:01:00Z',
});

describe('serviceRow', () => {
  it('words ports as kubectl does and counts ready endpoints once per address', () => {
    const s = svc('web', { type: 'NodePort', clusterIP: '10.96.0.20', clusterIPs: ['10.96.0.20'], ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }] });
    const ep = endpoints('web', [
      { addresses: [{ ip: '10.1.0.5', targetRef: { kind: 'Pod', name: 'web-a' } }], notReadyAddresses: [{ ip: '10.1.0.6', targetRef: { kind: 'Pod', name: 'web-b' } }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] },
      { addresses: [{ ip: '10.1.0.5', targetRef: { kind: 'Pod', name: 'web-a' } }], ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] },
    ]);
    const r = serviceRow(s, ep);
    expect(r.portsText).toBe('80:30080/TCP → 8080, 53/UDP');
    expect(r.endpointsText).toBe('1/2');
    expect(r.clusterIP).toBe('10.96.0.20');
    expect(r.external.map((a) => a.url)).toEqual(['http://127.0.0.1:30080/']);
    const addrs = endpointAddresses(ep);
    expect(addrs.map((a) => [a.pod, a.ready, a.ports.length])).toEqual([['web-a', true, 2], ['web-b', false, 1]]);
  });

  it('shows a LoadBalancer on its ingress address, headless as None, ExternalName without endpoints', () => {
    const lb = svc('lb', { type: 'LoadBalancer', clusterIP: '10.96.0.30', ports: [{ port: 8080, targetPort: 80, nodePort: 31000, protocol: 'TCP' }] }, { loadBalancer: { ingress: [{ ip: '127.0.0.1' }] } });
    expect(hostAddresses(lb).map((a) => `${a.kind} ${a.address}`)).toEqual(['loadBalancer 127.0.0.1:8080', 'nodePort 127.0.0.1:31000']);
    expect(serviceRow(svc('db', { clusterIP: 'None', ports: [{ port: 5432 }] }), undefined).clusterIP).toBe('None');
    const ext = serviceRow(svc('ext', { type: 'ExternalName', externalName: 'example.org' }), undefined);
    expect([ext.endpointsText, ext.externalName]).toEqual(['—', 'example.org']);
  });
});

describe('portErrors', () => {
  it('reads a LoadBalancer port error from the status', () => {
    const lb = svc('lb', { type: 'LoadBalancer', ports: [{ port: 8080, nodePort: 31000 }] }, { loadBalancer: { ingress: [{ ip: '127.0.0.1', ports: [{ port: 8080, protocol: 'TCP', error: 'port 8080/TCP on 127.0.0.1 is already used by service default/other' }] }] } });
    const errors = portErrors(lb);
    expect(errors).toEqual([{ port: 8080, protocol: 'TCP', kind: 'loadBalancer', message: expect.stringContaining('already used') }]);
    expect(hostAddresses(lb, errors)[0]!.error).toContain('already used');
  });

  it('counts a node-port event only while the collision still holds', () => {
    const mine = svc('mine', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] });
    const holder = svc('holder', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] });
    const ev = bindEvent('mine', 'port 30080/TCP on 127.0.0.1 is already used by service default/holder');
    expect(portErrors(mine, [ev], [mine, holder]).map((e) => e.port)).toEqual([30080]);
    // The holder was deleted, or moved to another port: the event is history.
    expect(portErrors(mine, [ev], [mine])).toEqual([]);
    expect(portErrors(mine, [ev], [mine, svc('holder', { type: 'NodePort', ports: [{ port: 80, nodePort: 30081 }] })])).toEqual([]);
    // An event of an earlier Service of the same name.
    expect(portErrors(mine, [bindEvent('mine', ev.message as string, 'old-uid')], [mine, holder])).toEqual([]);
    // Another program holds the port: nothing to check it against, it counts.
    expect(portErrors(mine, [bindEvent('mine', 'cannot listen on 127.0.0.1:30080/TCP: the port is in use by another program')], [mine])).toHaveLength(1);
  });
});

describe('dnsNames', () => {
  it('names the Service, and for a headless one each ready endpoint by hostname or dashed IP', () => {
    const s = svc('db', { clusterIP: 'None', ports: [{ port: 5432 }] });
    const ep = endpoints('db', [{ addresses: [{ ip: '10.1.0.7', hostname: 'db-0', targetRef: { kind: 'Pod', name: 'db-0' } }, { ip: '10.1.0.8' }], notReadyAddresses: [{ ip: '10.1.0.9' }] }]);
    const d = dnsNames(s, ep);
    expect(d.service).toBe('db.default.svc.cluster.local');
    expect(d.pods.map((p) => p.name)).toEqual(['10-1-0-8.db.default.svc.cluster.local', 'db-0.db.default.svc.cluster.local']);
    expect(dnsNames(svc('web', { clusterIP: '10.96.0.5' }), ep).pods).toEqual([]);
  });
});
