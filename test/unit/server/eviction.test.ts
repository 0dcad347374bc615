import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../core/store/index.ts';
import { ApiServer } from '../../../core/server/api-server.ts';
import { InProcessClient } from '../../../core/client/in-process-client.ts';
import { ApiError, isApiError } from '../../../core/api/errors.ts';
import type { KubeObject } from '../../../core/api/types.ts';
import { DisruptionController } from '../../../core/controllers/disruption-controller.ts';
import { eventually, harness } from '../controllers/helpers.ts';

const NS = 'default';
const POD = { apiVersion: 'v1', kind: 'Pod' } as const;
const PDB = { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' } as const;

let store: Store;
let api: ApiServer;
let client: InProcessClient;

beforeEach(async () => {
  store = await openStore('memory:');
  api = new ApiServer({ store });
  await api.bootstrap();
  client = new InProcessClient(api);
});
afterEach(async () => {
  await store.close();
});

async function pod(name: string, opts: { app?: string; ready?: boolean; phase?: string } = {}) {
  const p = await client.create<KubeObject>({
    ...POD,
    metadata: { name, namespace: NS, labels: { app: opts.app ?? 'web' } },
    spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'x:1' }] },
  });
  return client.updateStatus<KubeObject>({
    ...p,
    status: { phase: opts.phase ?? 'Running', conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }] },
  });
}

/** A budget with the status the disruption controller would have written. */
async function budget(name: string, spec: Record<string, unknown>, status: Record<string, unknown>) {
  const b = await client.create<KubeObject>({ ...PDB, metadata: { name, namespace: NS }, spec: { selector: { matchLabels: { app: 'web' } }, ...spec } });
  return client.updateStatus<KubeObject>({ ...b, status: { observedGeneration: 1, ...status } });
}

const getPdb = (name: string) => client.get<KubeObject>({ ...PDB, namespace: NS, name });
const getPod = (name: string) => client.get<KubeObject>({ ...POD, namespace: NS, name });
async function failure(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('expected the eviction to fail');
}

describe('pods/eviction and PodDisruptionBudgets', () => {
  it('refuses with 429 when the budget allows no disruption', async () => {
    await pod('a');
    await budget('web', { minAvailable: 1 }, { disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1 });
    const e = await failure(client.evict({ namespace: NS, name: 'a' }));
    expect(e.code).toBe(429);
    expect(e.status).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'TooManyRequests',
      message: "Cannot evict pod as it would violate the pod's disruption budget.",
      details: { causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget web needs 1 healthy pods and has 1 currently' }] },
    });
    expect(e.status.details?.retryAfterSeconds).toBeUndefined();
    expect((await getPod('a')).metadata.deletionTimestamp).toBeUndefined();
  });

  it('allows while disruptions are left: decrements, records the pod, deletes it', async () => {
    await pod('a');
    await pod('b');
    await budget('web', { minAvailable: 1 }, { disruptionsAllowed: 1, currentHealthy: 2, desiredHealthy: 1, expectedPods: 2, conditions: [] });
    await client.evict({ namespace: NS, name: 'a' }, { gracePeriodSeconds: 0 });
    await expect(getPod('a')).rejects.toMatchObject({ reason: 'NotFound' });
    const b = await getPdb('web');
    expect(b.status.disruptionsAllowed).toBe(0);
    expect(Object.keys(b.status.disruptedPods)).toEqual(['a']);
    expect(b.status.disruptedPods.a).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(b.status.conditions).toEqual([expect.objectContaining({ type: 'DisruptionAllowed', status: 'False', reason: 'InsufficientPods' })]);
    // The budget is spent: the next one waits.
    expect((await failure(client.evict({ namespace: NS, name: 'b' }))).code).toBe(429);
  });

  it('two evictions racing for the last disruption: exactly one wins', async () => {
    for (const n of ['a', 'b', 'c']) await pod(n);
    await budget('web', { minAvailable: 2 }, { disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3 });
    const results = await Promise.allSettled(['a', 'b', 'c'].map((name) => client.evict({ namespace: NS, name })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')) expect(r.reason).toMatchObject({ reason: 'TooManyRequests' });
    expect((await getPdb('web')).status.disruptionsAllowed).toBe(0);
  });

  it('dryRun checks the budget but changes nothing', async () => {
    await pod('a');
    const before = await budget('web', { maxUnavailable: 1 }, { disruptionsAllowed: 1, currentHealthy: 1, desiredHealthy: 0, expectedPods: 1 });
    await client.evict({ namespace: NS, name: 'a' }, { dryRun: true, gracePeriodSeconds: 0 });
    expect((await getPod('a')).metadata.deletionTimestamp).toBeUndefined();
    expect((await getPdb('web')).metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    await client.updateStatus({ ...before, status: { ...before.status, disruptionsAllowed: 0 } });
    expect((await failure(client.evict({ namespace: NS, name: 'a' }, { dryRun: true }))).code).toBe(429);
  });

  it('more than one matching budget is an error (500), as in Kubernetes', async () => {
    await pod('a');
    await budget('one', { minAvailable: 0 }, { disruptionsAllowed: 1 });
    await budget('two', { maxUnavailable: 1 }, { disruptionsAllowed: 1 });
    const e = await failure(client.evict({ namespace: NS, name: 'a' }));
    expect(e.code).toBe(500);
    expect(e.message).toBe('This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
    expect((await getPod('a')).metadata.deletionTimestamp).toBeUndefined();
  });

  it('budgets with an empty selector or in another namespace do not apply', async () => {
    await pod('a');
    const b = await client.create<KubeObject>({ ...PDB, metadata: { name: 'all', namespace: NS }, spec: { minAvailable: 5, selector: {} } });
    await client.updateStatus({ ...b, status: { observedGeneration: 1, disruptionsAllowed: 0 } });
    await client.create({ ...PDB, metadata: { name: 'elsewhere', namespace: 'kube-system' }, spec: { minAvailable: 5, selector: { matchLabels: { app: 'web' } } } });
    await client.evict({ namespace: NS, name: 'a' }, { gracePeriodSeconds: 0 });
    await expect(getPod('a')).rejects.toMatchObject({ reason: 'NotFound' });
  });

  it('unhealthy pods: IfHealthyBudget lets them go while the application is healthy, AlwaysAllow always', async () => {
    await pod('a');
    await pod('b');
    await pod('sick', { ready: false });
    const healthy = await budget('web', { minAvailable: 2 }, { disruptionsAllowed: 0, currentHealthy: 2, desiredHealthy: 2, expectedPods: 3 });
    await client.evict({ namespace: NS, name: 'sick' }, { gracePeriodSeconds: 0 });
    await expect(getPod('sick')).rejects.toMatchObject({ reason: 'NotFound' });
    expect((await getPdb('web')).status.disruptionsAllowed).toBe(0); // not spent

    // Below the budget: an unready pod needs a disruption like any other.
    await pod('sick', { ready: false });
    const short = await client.updateStatus<KubeObject>({ ...(await getPdb('web')), status: { ...healthy.status, currentHealthy: 1 } });
    expect((await failure(client.evict({ namespace: NS, name: 'sick' }))).code).toBe(429);

    await client.patch({ ...PDB, namespace: NS, name: 'web' }, 'merge', { spec: { unhealthyPodEvictionPolicy: 'AlwaysAllow' } });
    await client.updateStatus({ ...(await getPdb('web')), status: { ...short.status, observedGeneration: 2 } });
    await client.evict({ namespace: NS, name: 'sick' }, { gracePeriodSeconds: 0 });
    await expect(getPod('sick')).rejects.toMatchObject({ reason: 'NotFound' });
    // Healthy pods still need the budget.
    expect((await failure(client.evict({ namespace: NS, name: 'a' }))).code).toBe(429);
  });

  it('terminal, pending and terminating pods are deleted without a budget check', async () => {
    await pod('done', { phase: 'Succeeded' });
    await pod('failed', { phase: 'Failed' });
    await client.create({ ...POD, metadata: { name: 'pending', namespace: NS, labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'x:1' }] } });
    await budget('web', { minAvailable: 10 }, { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 10, expectedPods: 3 });
    for (const name of ['done', 'failed', 'pending']) {
      await client.evict({ namespace: NS, name });
      await expect(getPod(name)).rejects.toMatchObject({ reason: 'NotFound' });
    }
    const t = await pod('terminating');
    await client.delete({ ...POD, namespace: NS, name: t.metadata.name! }, { gracePeriodSeconds: 30 });
    await client.evict({ namespace: NS, name: 'terminating' }, { gracePeriodSeconds: 0 });
    await expect(getPod('terminating')).rejects.toMatchObject({ reason: 'NotFound' });
  });

  it('a budget the controller has not seen since its last edit answers 429 with Retry-After advice', async () => {
    await pod('a');
    await budget('web', { minAvailable: 0 }, { disruptionsAllowed: 1, currentHealthy: 1, desiredHealthy: 0, expectedPods: 1 });
    await client.patch({ ...PDB, namespace: NS, name: 'web' }, 'merge', { spec: { minAvailable: 1 } }); // generation 2
    const e = await failure(client.evict({ namespace: NS, name: 'a' }));
    expect(e.status).toMatchObject({
      code: 429,
      reason: 'TooManyRequests',
      details: { retryAfterSeconds: 10, causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget web is still being processed by the server.' }] },
    });
  });

  it('refuses a negative budget and a disruptedPods map that is too big (403)', async () => {
    await pod('a');
    const b = await budget('web', { minAvailable: 0 }, { disruptionsAllowed: -1 });
    let e = await failure(client.evict({ namespace: NS, name: 'a' }));
    expect(e.status).toMatchObject({ code: 403, message: 'poddisruptionbudget.policy "web" is forbidden: pdb disruptions allowed is negative' });
    const many = Object.fromEntries(Array.from({ length: 2001 }, (_, i) => [`p${i}`, '2024-01-01T00:00:00Z']));
    await client.updateStatus({ ...(await getPdb('web')), status: { ...b.status, disruptionsAllowed: 1, disruptedPods: many } });
    e = await failure(client.evict({ namespace: NS, name: 'a' }));
    expect(e.message).toMatch(/DisruptedPods map too big/);
  });

  it('a missing pod is NotFound', async () => {
    const e = await failure(client.evict({ namespace: NS, name: 'ghost' }));
    expect(isApiError(e, 'NotFound')).toBe(true);
  });
});

describe('eviction with the disruption controller running', () => {
  it('evicts until the budget is reached, then refuses until pods are healthy again', async () => {
    const h = await harness([(ctx) => new DisruptionController(ctx)]);
    try {
      const c = h.client;
      const rs = await c.create<KubeObject>({
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: { name: 'web', namespace: NS },
        spec: { replicas: 4, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'x:1' }] } } },
      });
      for (const n of ['a', 'b', 'c', 'd']) {
        const p = await c.create<KubeObject>({
          ...POD,
          metadata: { name: n, namespace: NS, labels: { app: 'web' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: rs.metadata.uid!, controller: true }] },
          spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'x:1' }] },
        });
        await c.updateStatus({ ...p, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } });
      }
      await c.create({ ...PDB, metadata: { name: 'web', namespace: NS }, spec: { maxUnavailable: '50%', selector: { matchLabels: { app: 'web' } } } });
      await eventually(async () => (await c.get<KubeObject>({ ...PDB, namespace: NS, name: 'web' })).status.disruptionsAllowed === 2);
      // Graceful deletion: the evicted pods stay, terminating, and no longer count as healthy.
      await c.evict({ namespace: NS, name: 'a' });
      await c.evict({ namespace: NS, name: 'b' });
      const e = await failure(c.evict({ namespace: NS, name: 'c' }));
      expect(e.code).toBe(429);
      const settled = await eventually(async () => {
        const b = await c.get<KubeObject>({ ...PDB, namespace: NS, name: 'web' });
        return b.status.currentHealthy === 2 && !b.status.disruptedPods ? b : undefined;
      });
      expect(settled.status).toMatchObject({ expectedPods: 4, desiredHealthy: 2, disruptionsAllowed: 0 });
      // A replacement turns Ready: one more disruption is allowed.
      const e2 = await c.create<KubeObject>({
        ...POD,
        metadata: { name: 'e', namespace: NS, labels: { app: 'web' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: rs.metadata.uid!, controller: true }] },
        spec: { nodeName: 'n2', containers: [{ name: 'c', image: 'x:1' }] },
      });
      await c.updateStatus({ ...e2, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } });
      await eventually(async () => (await c.get<KubeObject>({ ...PDB, namespace: NS, name: 'web' })).status.disruptionsAllowed === 1);
      await c.evict({ namespace: NS, name: 'c' });
    } finally {
      await h.close();
    }
  });
});
