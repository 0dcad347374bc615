import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../core/api/types.ts';
import { harness, type Harness } from './helpers.ts';

const NS = 'default';
const PDB = { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' } as const;

let h: Harness;
beforeAll(async () => {
  h = await harness();
  await h.cluster.client.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'worker' }, status: { capacity: { cpu: '2', memory: '2Gi', pods: '10' } } });
});
afterAll(async () => {
  await h?.close();
});

async function readyPod(name: string) {
  const c = h.cluster.client;
  const p = await c.create<KubeObject>({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels: { app: 'web' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-rs', uid: 'uid-web-rs', controller: true }] },
    spec: { nodeName: 'worker', containers: [{ name: 'c', image: 'wheelhouse-test/busybox:1' }] },
  });
  await c.updateStatus({ ...p, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } });
}

/** The status the disruption controller would write (this harness runs no controllers). */
async function allow(disruptionsAllowed: number) {
  const c = h.cluster.client;
  const b = await c.get<KubeObject>({ ...PDB, namespace: NS, name: 'web' });
  await c.updateStatus({ ...b, status: { observedGeneration: 1, disruptionsAllowed, currentHealthy: 2, desiredHealthy: 1, expectedPods: 2 } });
}

describe('nodes.drain and PodDisruptionBudgets', () => {
  it('evicts what the budget allows and reports the rest as blocked by it', async () => {
    await readyPod('web-1');
    await readyPod('web-2');
    await h.cluster.client.create({ ...PDB, metadata: { name: 'web', namespace: NS }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'web' } } } });
    await allow(1);
    const t0 = Date.now();
    const r = await h.call('nodes.drain', { name: 'worker', gracePeriodSeconds: 0, timeoutSeconds: 1 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(500); // it retried before giving up
    expect(r.evicted).toHaveLength(1);
    expect(r.skipped).toEqual([]);
    const left = ['default/web-1', 'default/web-2'].find((k) => k !== r.evicted[0]);
    expect(r.blocked).toEqual([
      {
        pod: left,
        budget: 'web',
        reason: "Cannot evict pod as it would violate the pod's disruption budget. The disruption budget web needs 1 healthy pods and has 2 currently",
      },
    ]);
    // The evicted pod was recorded against the budget.
    const b = await h.cluster.client.get<KubeObject>({ ...PDB, namespace: NS, name: 'web' });
    expect(Object.keys(b.status.disruptedPods)).toEqual([r.evicted[0]!.split('/')[1]]);
  });

  it('keeps retrying a blocked pod until the budget allows it', async () => {
    const pending = h.call('nodes.drain', { name: 'worker', gracePeriodSeconds: 0, timeoutSeconds: 20 });
    await new Promise((r) => setTimeout(r, 400));
    await allow(1); // a replacement became Ready elsewhere
    const r = await pending;
    expect(r.evicted).toHaveLength(1);
    expect(r.blocked).toEqual([]);
    const pods = await h.cluster.client.list({ apiVersion: 'v1', kind: 'Pod' }, { fieldSelector: 'spec.nodeName=worker' });
    expect(pods.items).toEqual([]);
  });

  it('timeoutSeconds 0 tries once', async () => {
    await readyPod('web-3');
    await allow(0);
    const t0 = Date.now();
    const r = await h.call('nodes.drain', { name: 'worker', timeoutSeconds: 0 });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(r.blocked.map((b) => b.pod)).toEqual(['default/web-3']);
  });
});
