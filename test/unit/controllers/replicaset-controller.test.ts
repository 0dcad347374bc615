import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { ApiError } from '../../../core/api/errors.ts';
import type { KubeObject } from '../../../core/api/types.ts';
import { NS, POD, RS, replicaSet, workloadHarness, type Harness } from './workload-harness.ts';

const key = (name: string) => `${NS}/${name}`;

describe('ReplicaSetController', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await workloadHarness({ deployments: false });
  });
  afterEach(() => h.close());

  it('creates spec.replicas pods it owns, with events and status', async () => {
    const rs = await h.client.create(replicaSet('web', 3));
    await h.settle();
    const pods = await h.pods('app=web');
    expect(pods).toHaveLength(3);
    for (const p of pods) {
      expect(p.metadata.name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
      expect(p.metadata.generateName).toBe('web-');
      expect(p.metadata.ownerReferences).toEqual([
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: rs.metadata.uid, controller: true, blockOwnerDeletion: true },
      ]);
      expect(p.spec.containers[0].image).toBe('nginx:1.25');
    }
    const created = await h.events('SuccessfulCreate');
    expect(created.map((e) => e.message).sort()).toEqual(pods.map((p) => `Created pod: ${p.metadata.name}`).sort());
    expect(created[0]!.source).toEqual({ component: 'replicaset-controller' });
    const got = await h.get(RS, 'web');
    expect(got.status).toEqual({ replicas: 3, fullyLabeledReplicas: 3, observedGeneration: 1 });
  });

  it('replaces deleted and terminated pods; terminating pods do not count', async () => {
    await h.client.create(replicaSet('web', 3));
    await h.settle();
    const [a, b, c] = await h.pods('app=web');
    await h.client.delete({ ...POD, namespace: NS, name: a!.metadata.name! });
    await h.setStatus(b!, { phase: 'Failed', reason: 'Evicted' });
    // c is bound to a node, so deleting it is graceful: it lingers with a deletionTimestamp.
    await h.client.bind({ namespace: NS, name: c!.metadata.name! }, 'node-1');
    await h.client.delete({ ...POD, namespace: NS, name: c!.metadata.name! });
    await h.settle();
    const all = await h.pods('app=web', true);
    const active = all.filter((p) => !p.metadata.deletionTimestamp && p.status.phase !== 'Failed');
    expect(active).toHaveLength(3);
    expect(active.map((p) => p.metadata.name)).not.toContain(a!.metadata.name);
    expect(all.find((p) => p.metadata.name === c!.metadata.name)?.metadata.deletionTimestamp).toBeTruthy();
    expect((await h.get(RS, 'web')).status.replicas).toBe(3);
  });

  it('scales down the least valuable pods first', async () => {
    await h.client.create(replicaSet('web', 5));
    await h.settle();
    const pods = await h.pods('app=web');
    // Make each pod worth a bit more than the previous one.
    const [unscheduled, pending, notReady, restarting, good] = pods;
    await h.client.bind({ namespace: NS, name: pending!.metadata.name! }, 'node-1');
    for (const p of [notReady, restarting, good]) await h.client.bind({ namespace: NS, name: p!.metadata.name! }, 'node-1');
    await h.setStatus(notReady!, { phase: 'Running', conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: h.clock.iso() }] });
    await h.ready(restarting!, 5);
    await h.ready(good!, 0);
    h.clock.advance(10);
    const order: string[] = [];
    for (const n of [4, 3, 2, 1]) {
      await h.client.patch({ ...RS, namespace: NS, name: 'web' }, 'merge', { spec: { replicas: n } });
      await h.settle();
      const left = (await h.pods('app=web')).map((p) => p.metadata.name!);
      expect(left).toHaveLength(n);
      order.push(...pods.map((p) => p.metadata.name!).filter((x) => !left.includes(x) && !order.includes(x)));
    }
    expect(order).toEqual([unscheduled, pending, notReady, restarting].map((p) => p!.metadata.name));
    const deleted = await h.events('SuccessfulDelete');
    expect(deleted.map((e) => e.message).sort()).toEqual(order.map((n) => `Deleted pod: ${n}`).sort());
  });

  it('among equal pods, deletes the newer one first', async () => {
    await h.client.create(replicaSet('web', 1));
    await h.settle();
    const [old] = await h.pods('app=web');
    await h.ready(old!);
    h.clock.advance(3600);
    await h.client.patch({ ...RS, namespace: NS, name: 'web' }, 'merge', { spec: { replicas: 2 } });
    await h.settle();
    const young = (await h.pods('app=web')).find((p) => p.metadata.name !== old!.metadata.name)!;
    await h.ready(young);
    h.clock.advance(60);
    await h.client.patch({ ...RS, namespace: NS, name: 'web' }, 'merge', { spec: { replicas: 1 } });
    await h.settle();
    expect((await h.pods('app=web')).map((p) => p.metadata.name)).toEqual([old!.metadata.name]);
  });

  it('adopts matching orphans and releases pods that stop matching', async () => {
    const orphan = await h.client.create({
      ...POD,
      metadata: { name: 'stray', namespace: NS, labels: { app: 'web' } },
      spec: { containers: [{ name: 'web', image: 'nginx:1.25' }] },
    } as KubeObject);
    const rs = await h.client.create(replicaSet('web', 2));
    await h.settle();
    const adopted = await h.get(POD, 'stray');
    expect(adopted.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'ReplicaSet', name: 'web', uid: rs.metadata.uid, controller: true });
    expect(await h.pods('app=web')).toHaveLength(2);
    expect(adopted.metadata.uid).toBe(orphan.metadata.uid);

    await h.client.patch({ ...POD, namespace: NS, name: 'stray' }, 'merge', { metadata: { labels: { app: 'debug' } } });
    await h.settle();
    const released = await h.get(POD, 'stray');
    expect(released.metadata.ownerReferences ?? []).toEqual([]);
    expect(await h.pods('app=web')).toHaveLength(2); // replaced
  });

  it('never adopts pods another controller owns', async () => {
    const jobRef = { apiVersion: 'batch/v1', kind: 'Job', name: 'batch', uid: '0c4e7ae4-55a5-4bb6-9a4f-1f0b8d6f7a01', controller: true };
    await h.client.create({
      ...POD,
      metadata: { name: 'owned', namespace: NS, labels: { app: 'web' }, ownerReferences: [jobRef] },
      spec: { containers: [{ name: 'web', image: 'nginx:1.25' }] },
    } as KubeObject);
    await h.client.create(replicaSet('web', 2));
    await h.settle();
    expect((await h.get(POD, 'owned')).metadata.ownerReferences).toEqual([jobRef]);
    const mine = (await h.pods('app=web')).filter((p) => p.metadata.ownerReferences?.[0]?.name === 'web');
    expect(mine).toHaveLength(2);
  });

  it('counts ready and available replicas with minReadySeconds', async () => {
    await h.client.create(replicaSet('web', 2, { minReadySeconds: 10 }));
    await h.settle();
    for (const p of await h.pods('app=web')) await h.ready(p);
    await h.settle();
    let status = (await h.get(RS, 'web')).status;
    expect(status.readyReplicas).toBe(2);
    expect(status.availableReplicas).toBeUndefined();
    h.clock.advance(10);
    h.rsc.enqueue(key('web'));
    await h.settle();
    expect((await h.get(RS, 'web')).status.availableReplicas).toBeUndefined(); // not yet: strictly after 10 s
    h.clock.advance(1);
    h.rsc.enqueue(key('web'));
    await h.settle();
    status = (await h.get(RS, 'web')).status;
    expect(status).toMatchObject({ replicas: 2, readyReplicas: 2, availableReplicas: 2, fullyLabeledReplicas: 2 });
  });

  it('fullyLabeledReplicas counts only pods carrying every template label', async () => {
    await h.client.create({ ...POD, metadata: { name: 'partial', namespace: NS, labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'x' }] } } as KubeObject);
    await h.client.create(replicaSet('web', 2, { template: { metadata: { labels: { app: 'web', tier: 'fe' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.25' }] } } }));
    await h.settle();
    expect((await h.get(RS, 'web')).status).toMatchObject({ replicas: 2, fullyLabeledReplicas: 1 });
  });

  it('reports ReplicaFailure and FailedCreate when pods are rejected, and recovers', async () => {
    let allowed = 3;
    let attempts = 0;
    h.api.admission.add({
      name: 'test-quota',
      validate(a) {
        if (a.info.kind !== 'Pod' || a.operation !== 'CREATE') return;
        attempts++;
        if (allowed <= 0) throw new ApiError('Forbidden', `pods "${a.name || 'web-'}" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=3, limited: pods=3`);
        allowed--;
      },
    });
    await h.client.create(replicaSet('web', 10));
    await h.settle();
    expect(await h.pods('app=web')).toHaveLength(3);
    // Slow start: 1 + 2 succeed, the batch of 4 fails; retries then try one at a time.
    expect(attempts).toBeGreaterThanOrEqual(7);
    const rs = await h.get(RS, 'web');
    expect(rs.status.replicas).toBe(3);
    const cond = rs.status.conditions.find((c: any) => c.type === 'ReplicaFailure');
    expect(cond).toMatchObject({ status: 'True', reason: 'FailedCreate' });
    expect(cond.message).toContain('exceeded quota');
    const failed = await h.events('FailedCreate');
    expect(failed[0]!.type).toBe('Warning');
    expect(failed[0]!.message).toMatch(/^Error creating: pods ".*" is forbidden: exceeded quota/);

    allowed = 100;
    h.rsc.enqueue(key('web'));
    await h.settle();
    expect(await h.pods('app=web')).toHaveLength(10);
    expect((await h.get(RS, 'web')).status.conditions).toBeUndefined();
  });

  it('does not double-create when reconciled in a burst (expectations)', async () => {
    h.rsc.stop(); // drive reconcile by hand, as a burst of watch events would
    await h.client.create(replicaSet('web', 4));
    for (let i = 0; i < 5; i++) await h.rsc.reconcile(key('web'));
    await h.settle();
    for (let i = 0; i < 3; i++) await h.rsc.reconcile(key('web'));
    expect(await h.pods('app=web')).toHaveLength(4);
    expect(await h.events('SuccessfulCreate')).toHaveLength(4);
  });
});
