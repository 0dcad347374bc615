import { describe, expect, it } from 'vitest';
import { applyDefaults } from '../../../../core/api/defaults.ts';
import { validateObject, validateUpdate } from '../../../../core/api/validation/index.ts';
import { causes, expectOne, obj } from './helpers.ts';

const svc = (spec: Record<string, unknown>) => obj('v1', 'Service', { spec }, 'web');

describe('Service', () => {
  it('a valid ClusterIP, NodePort, headless and ExternalName service pass, defaulted or not', () => {
    const samples = [
      svc({ selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] }),
      svc({ type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30080 }, { name: 'https', port: 443, targetPort: 'https' }] }),
      svc({ clusterIP: 'None', selector: { app: 'db' } }),
      svc({ type: 'ExternalName', externalName: 'db.example.com.' }),
      svc({ clusterIP: '10.96.0.10', ports: [{ port: 53, protocol: 'UDP' }, { name: 'tcp', port: 53 }].map((p, i) => ({ ...p, name: `p${i}` })) }),
    ];
    for (const s of samples) {
      expect(validateObject(s)).toEqual([]);
      expect(validateObject(applyDefaults(s))).toEqual([]);
    }
  });

  it('needs ports (except headless and ExternalName) and a known type', () => {
    expect(causes(validateObject(svc({ selector: { app: 'web' } })))).toEqual([['spec.ports', 'Required']]);
    expect(causes(validateObject(svc({ type: 'Ingress', ports: [{ port: 80 }] })))).toEqual([['spec.type', 'NotSupported']]);
    expect(causes(validateObject(svc({ type: 'ExternalName' })))).toEqual([['spec.externalName', 'Required']]);
    expect(causes(validateObject(svc({ type: 'ExternalName', externalName: 'x', clusterIP: '10.0.0.1' })))).toEqual([['spec.clusterIP', 'Forbidden']]);
  });

  it('ports: names required and unique when more than one, ranges, protocols, duplicates', () => {
    const errs = validateObject(svc({
      ports: [
        { port: 80 },
        { name: 'web', port: 0, targetPort: 70000 },
        { name: 'web', port: 443, targetPort: 'Bad_Name', protocol: 'ICMP' },
        { name: 'dup', port: 80, targetPort: 443 },
      ],
    }));
    expect(causes(errs)).toEqual([
      ['spec.ports[0].name', 'Required'],
      ['spec.ports[1].port', 'Invalid'],
      ['spec.ports[1].targetPort', 'Invalid'],
      ['spec.ports[2].name', 'Duplicate'],
      ['spec.ports[2].protocol', 'NotSupported'],
      ['spec.ports[2].targetPort', 'Invalid'],
      ['spec.ports[3]', 'Duplicate'],
    ]);
    expect(errs[1]!.message).toBe('Invalid value: 0: must be between 1 and 65535, inclusive');
  });

  it('nodePort: only for NodePort/LoadBalancer, within 30000–32767, unique', () => {
    expect(causes(validateObject(svc({ ports: [{ port: 80, nodePort: 30080 }] })))).toEqual([['spec.ports[0].nodePort', 'Forbidden']]);
    const errs = validateObject(svc({ type: 'NodePort', ports: [{ name: 'a', port: 80, nodePort: 8080 }, { name: 'b', port: 81, nodePort: 30001 }, { name: 'c', port: 82, nodePort: 30001 }] }));
    expect(causes(errs)).toEqual([['spec.ports[0].nodePort', 'Invalid'], ['spec.ports[2].nodePort', 'Duplicate']]);
    expect(errs[0]!.message).toBe('Invalid value: 8080: provided port is not in the valid range. The range of valid ports is 30000-32767');
  });

  it("clusterIP: '', 'None' or an IP; not None for NodePort", () => {
    expect(causes(validateObject(svc({ clusterIP: 'auto', ports: [{ port: 80 }] })))).toEqual([['spec.clusterIP', 'Invalid']]);
    expect(validateObject(svc({ clusterIP: 'fd00::10', ports: [{ port: 80 }] }))).toEqual([]);
    expect(causes(validateObject(svc({ type: 'NodePort', clusterIP: 'None', ports: [{ port: 80 }] })))).toEqual([['spec.clusterIP', 'Invalid']]);
  });

  it('traffic policies, session affinity, selector', () => {
    const errs = validateObject(svc({
      ports: [{ port: 80 }],
      externalTrafficPolicy: 'Local',
      internalTrafficPolicy: 'Nearby',
      sessionAffinity: 'ClientIP',
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 0 } },
      selector: { 'bad key': 'x' },
    }));
    expect(causes(errs)).toEqual([
      ['spec.sessionAffinityConfig.clientIP.timeoutSeconds', 'Invalid'],
      ['spec.selector', 'Invalid'],
      ['spec.externalTrafficPolicy', 'Invalid'],
      ['spec.internalTrafficPolicy', 'NotSupported'],
    ]);
  });

  it('clusterIP is immutable once allocated', () => {
    const old = svc({ clusterIP: '10.96.0.5', ports: [{ port: 80 }] });
    expect(validateUpdate(svc({ clusterIP: '10.96.0.5', ports: [{ port: 81 }] }), old)).toEqual([]);
    expect(validateUpdate(svc({ ports: [{ port: 81 }] }), old)).toEqual([]); // the server carries it over
    expect(expectOne(validateUpdate(svc({ clusterIP: '10.96.0.6', ports: [{ port: 80 }] }), old), 'spec.clusterIP', 'Invalid').message).toBe(
      'Invalid value: "10.96.0.6": field is immutable',
    );
  });
});

describe('Endpoints', () => {
  it('addresses are IPs and ports are valid', () => {
    const ep = (subsets: unknown) => obj('v1', 'Endpoints', { subsets }, 'web');
    expect(validateObject(ep([{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 80 }] }]))).toEqual([]);
    expect(causes(validateObject(ep([{ addresses: [{ ip: 'pod-a' }], ports: [{ port: 0 }] }])))).toEqual([
      ['subsets[0].addresses[0].ip', 'Invalid'],
      ['subsets[0].ports[0].port', 'Invalid'],
    ]);
  });
});
