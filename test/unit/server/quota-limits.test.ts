import { describe, it, expect } from 'vitest';
import { openStore } from '../../../core/store/index.ts';
import { ApiServer } from '../../../core/server/api-server.ts';
import { InProcessClient } from '../../../core/client/in-process-client.ts';
import { limitRanger } from '../../../core/server/admission/limit-ranger.ts';
import { resourceQuotaAdmission } from '../../../core/server/admission/resource-quota.ts';
import { ResourceQuotaController } from '../../../core/controllers/resource-quota-controller.ts';
import { isApiError } from '../../../core/api/errors.ts';
import { harness, eventually } from '../controllers/helpers.ts';

async function setup() {
  const store = await openStore('memory:');
  const api = new ApiServer({ store });
  const list = async (apiVersion: string, kind: string, namespace: string) => (await api.list({ apiVersion, kind }, { namespace })).items;
  api.admission.add(limitRanger((ns) => list('v1', 'LimitRange', ns))).add(resourceQuotaAdmission(list));
  await api.bootstrap();
  return { store, api, client: new InProcessClient(api) };
}

const pod = (name: string, resources?: any) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: { containers: [{ name: 'c', image: 'x:1', ...(resources ? { resources } : {}) }] },
});

async function forbidden(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(isApiError(e, 'Forbidden')).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected Forbidden');
}

describe('LimitRanger admission', () => {
  it('fills container defaults and rejects what is outside min/max, listing every problem', async () => {
    const { client, store } = await setup();
    await client.create({
      apiVersion: 'v1',
      kind: 'LimitRange',
      metadata: { name: 'lr' },
      spec: { limits: [{ type: 'Container', default: { cpu: '500m', memory: '128Mi' }, defaultRequest: { cpu: '100m', memory: '64Mi' }, min: { cpu: '50m' }, max: { memory: '1Gi' } }] },
    });
    const p = await client.create<any>(pod('defaulted'));
    expect(p.spec.containers[0].resources).toEqual({ limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '100m', memory: '64Mi' } });
    const msg = await forbidden(client.create(pod('bad', { requests: { cpu: '10m' }, limits: { cpu: '20m', memory: '2Gi' } })));
    expect(msg).toBe('pods "bad" is forbidden: [minimum cpu usage per Container is 50m, but request is 10m, maximum memory usage per Container is 1Gi, but limit is 2Gi]');
    await store.close();
  });
});

describe('ResourceQuota admission and status', () => {
  it('rejects a pod that would exceed the quota with Kubernetes wording, and keeps status.used', async () => {
    const h = await harness([(ctx) => new ResourceQuotaController(ctx)]);
    const list = async (apiVersion: string, kind: string, namespace: string) => (await h.api.list({ apiVersion, kind }, { namespace })).items;
    h.api.admission.add(resourceQuotaAdmission(list));
    await h.client.create({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'compute' }, spec: { hard: { 'requests.cpu': '1', pods: '3' } } });
    const missing = await forbidden(h.client.create(pod('nores')));
    expect(missing).toBe('pods "nores" is forbidden: failed quota: compute: must specify requests.cpu for: c');
    await h.client.create(pod('a', { requests: { cpu: '600m' } }));
    const msg = await forbidden(h.client.create(pod('b', { requests: { cpu: '500m' } })));
    expect(msg).toBe('pods "b" is forbidden: exceeded quota: compute, requested: requests.cpu=500m, used: requests.cpu=600m, limited: requests.cpu=1');
    await h.client.create(pod('c', { requests: { cpu: '400m' } }));
    const q = await eventually(async () => {
      const q: any = await h.client.get({ apiVersion: 'v1', kind: 'ResourceQuota', namespace: 'default', name: 'compute' });
      return q.status?.used?.pods === '2' ? q : undefined;
    });
    expect(q.status).toEqual({ hard: { 'requests.cpu': '1', pods: '3' }, used: { 'requests.cpu': '1', pods: '2' } });
    await h.close();
  });
});
