import { describe, it, expect } from 'vitest';
import { EndpointsController, resolveTargetPort } from '../../../core/controllers/endpoints-controller.ts';
import { harness, eventually } from './helpers.ts';
import { isApiError } from '../../../core/api/errors.ts';

const POD = { apiVersion: 'v1', kind: 'Pod' };
const EP = { apiVersion: 'v1', kind: 'Endpoints', namespace: 'default', name: 'web' };

async function runningPod(client: any, name: string, ip: string, ready: boolean) {
  const p = await client.create({
    ...POD,
    metadata: { name, labels: { app: 'web' } },
    spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'x:1', ports: [{ name: 'http', containerPort: 8080 }] }] },
  });
  await client.updateStatus({ ...p, status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } });
}

describe('EndpointsController', () => {
  it('lists ready and not-ready pod IPs with named target ports resolved, and follows changes', async () => {
    const h = await harness([(ctx) => new EndpointsController(ctx)]);
    await h.client.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } });
    await runningPod(h.client, 'a', '10.0.0.1', true);
    await runningPod(h.client, 'b', '10.0.0.2', false);
    const ep = await eventually(async () => {
      const e: any = await h.client.get(EP);
      return e.subsets?.[0]?.notReadyAddresses ? e : undefined;
    });
    expect(ep.subsets).toEqual([
      {
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
        addresses: [expect.objectContaining({ ip: '10.0.0.1', targetRef: expect.objectContaining({ name: 'a' }) })],
        notReadyAddresses: [expect.objectContaining({ ip: '10.0.0.2' })],
      },
    ]);
    await h.client.delete({ ...POD, namespace: 'default', name: 'a', }, { gracePeriodSeconds: 0 });
    await eventually(async () => !((await h.client.get(EP)) as any).subsets?.[0]?.addresses);
    await h.client.delete({ apiVersion: 'v1', kind: 'Service', namespace: 'default', name: 'web' });
    await eventually(() => h.client.get(EP).then(() => false, (e) => isApiError(e, 'NotFound')));
    await h.close();
  });

  it("resolves a named targetPort to a sidecar's port too (not an ordinary init container's)", () => {
    const pod: any = {
      spec: {
        initContainers: [
          { name: 'setup', ports: [{ name: 'setup', containerPort: 1 }] },
          { name: 'proxy', restartPolicy: 'Always', ports: [{ name: 'proxy', containerPort: 15001 }] },
        ],
        containers: [{ name: 'app', ports: [{ name: 'http', containerPort: 8080 }] }],
      },
    };
    expect(resolveTargetPort({ targetPort: 'http' }, pod)).toBe(8080);
    expect(resolveTargetPort({ targetPort: 'proxy' }, pod)).toBe(15001);
    expect(resolveTargetPort({ targetPort: 'setup' }, pod)).toBeUndefined();
  });
});
