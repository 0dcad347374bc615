import { afterEach, describe, expect, it } from 'vitest';
import { DisruptionController, DELETION_TIMEOUT_MS } from '../../../core/controllers/disruption-controller.ts';
import type { KubeObject } from '../../../core/api/types.ts';
import { eventually, harness } from './helpers.ts';

const NS = 'default';
const PDB = { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' } as const;
const template = (app: string) => ({ metadata: { labels: { app } }, spec: { containers: [{ name: 'c', image: 'x:1' }] } });

type H = Awaited<ReturnType<typeof harness>>;
let h: H | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const owner = (o: KubeObject) => [{ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name!, uid: o.metadata.uid!, controller: true }];

async function pod(h: H, name: string, app: string, opts: { ready?: boolean; owner?: KubeObject; phase?: string } = {}) {
  const p = await h.client.create<KubeObject>({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels: { app }, ...(opts.owner ? { ownerReferences: owner(opts.owner) } : {}) },
    spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'x:1' }] },
  });
  return h.client.updateStatus<KubeObject>({
    ...p,
    status: { phase: opts.phase ?? 'Running', conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }] },
  });
}

/** A Deployment of `replicas` and its ReplicaSet (no controllers run: the test owns both). */
async function deployment(h: H, name: string, replicas: number) {
  const spec = { replicas, selector: { matchLabels: { app: name } }, template: template(name) };
  const d = await h.client.create<KubeObject>({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: NS }, spec });
  const rs = await h.client.create<KubeObject>({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: `${name}-abc`, namespace: NS, ownerReferences: owner(d) }, spec });
  return { d, rs };
}

async function budget(h: H, name: string, spec: Record<string, unknown>) {
  return h.client.create<KubeObject>({ ...PDB, metadata: { name, namespace: NS }, spec });
}

const statusOf = (h: H, name: string, ok: (s: any) => boolean) =>
  eventually(async () => {
    const b = await h.client.get<KubeObject>({ ...PDB, namespace: NS, name });
    return ok(b.status ?? {}) ? b : undefined;
  });

describe('DisruptionController', () => {
  it('integer minAvailable: expectedPods is the matching pods, disruptionsAllowed = healthy − minAvailable', async () => {
    h = await harness([(ctx) => new DisruptionController(ctx)]);
    const { rs } = await deployment(h, 'web', 3);
    for (const n of ['a', 'b', 'c']) await pod(h, `web-${n}`, 'web', { owner: rs });
    await pod(h, 'other', 'db');
    const created = await budget(h, 'web', { minAvailable: 2, selector: { matchLabels: { app: 'web' } } });
    expect(created.status).toEqual({ disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 });
    const b = await statusOf(h, 'web', (s) => s.observedGeneration === 1);
    expect(b.status).toMatchObject({ currentHealthy: 3, desiredHealthy: 2, expectedPods: 3, disruptionsAllowed: 1, observedGeneration: 1 });
    expect(b.status.conditions).toEqual([
      { type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods', message: '', observedGeneration: 1, lastTransitionTime: expect.any(String) },
    ]);
    expect(b.status.disruptedPods).toBeUndefined();

    // A pod turning unready closes the budget.
    const a = await h.client.get<KubeObject>({ apiVersion: 'v1', kind: 'Pod', namespace: NS, name: 'web-a' });
    await h.client.updateStatus({ ...a, status: { ...a.status, conditions: [{ type: 'Ready', status: 'False' }] } });
    const closed = await statusOf(h, 'web', (s) => s.currentHealthy === 2);
    expect(closed.status).toMatchObject({ disruptionsAllowed: 0, desiredHealthy: 2 });
    expect(closed.status.conditions[0]).toMatchObject({ type: 'DisruptionAllowed', status: 'False', reason: 'InsufficientPods' });

    // Editing the spec bumps the generation; the controller catches up.
    await h.client.patch({ ...PDB, namespace: NS, name: 'web' }, 'merge', { spec: { minAvailable: 1 } });
    const edited = await statusOf(h, 'web', (s) => s.observedGeneration === 2);
    expect(edited.status).toMatchObject({ desiredHealthy: 1, disruptionsAllowed: 1 });
  });

  it('percentage minAvailable counts the Deployment scale, not the pods, and follows scaling', async () => {
    h = await harness([(ctx) => new DisruptionController(ctx)]);
    const { d, rs } = await deployment(h, 'web', 4);
    for (const n of ['a', 'b', 'c']) await pod(h, `web-${n}`, 'web', { owner: rs });
    await budget(h, 'web', { minAvailable: '50%', selector: { matchLabels: { app: 'web' } } });
    const b = await statusOf(h, 'web', (s) => s.expectedPods === 4);
    expect(b.status).toMatchObject({ currentHealthy: 3, desiredHealthy: 2, disruptionsAllowed: 1 });

    await h.client.patch({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: NS, name: d.metadata.name! }, 'merge', { spec: { replicas: 7 } });
    const scaled = await statusOf(h, 'web', (s) => s.expectedPods === 7);
    // 50% of 7 rounded up is 4 > 3 healthy.
    expect(scaled.status).toMatchObject({ desiredHealthy: 4, currentHealthy: 3, disruptionsAllowed: 0 });
    expect(scaled.status.conditions[0]).toMatchObject({ status: 'False', reason: 'InsufficientPods' });
  });

  it('maxUnavailable (int and percent) against a StatefulSet and a bare ReplicaSet', async () => {
    h = await harness([(ctx) => new DisruptionController(ctx)]);
    const sts = await h.client.create<KubeObject>({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db', namespace: NS },
      spec: { replicas: 4, serviceName: 'db', selector: { matchLabels: { app: 'db' } }, template: template('db') },
    });
    for (const i of [0, 1, 2, 3]) await pod(h, `db-${i}`, 'db', { owner: sts });
    await budget(h, 'db', { maxUnavailable: '25%', selector: { matchLabels: { app: 'db' } } });
    const b = await statusOf(h, 'db', (s) => s.expectedPods === 4);
    expect(b.status).toMatchObject({ currentHealthy: 4, desiredHealthy: 3, disruptionsAllowed: 1 });

    const rs = await h.client.create<KubeObject>({
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'cache', namespace: NS },
      spec: { replicas: 5, selector: { matchLabels: { app: 'cache' } }, template: template('cache') },
    });
    for (const n of ['a', 'b', 'c', 'd']) await pod(h, `cache-${n}`, 'cache', { owner: rs });
    await budget(h, 'cache', { maxUnavailable: 2, selector: { matchLabels: { app: 'cache' } } });
    const c = await statusOf(h, 'cache', (s) => s.expectedPods === 5);
    // 5 expected − 2 unavailable = 3 desired; 4 healthy.
    expect(c.status).toMatchObject({ currentHealthy: 4, desiredHealthy: 3, disruptionsAllowed: 1 });
  });

  it('fails safe when a controller has no scale, and warns about unmanaged pods', async () => {
    h = await harness([(ctx) => new DisruptionController(ctx)]);
    const ds = await h.client.create<KubeObject>({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent', namespace: NS },
      spec: { selector: { matchLabels: { app: 'agent' } }, template: template('agent') },
    });
    await pod(h, 'agent-x', 'agent', { owner: ds });
    await budget(h, 'agent', { maxUnavailable: 1, selector: { matchLabels: { app: 'agent' } } });
    const b = await statusOf(h, 'agent', (s) => s.conditions?.length);
    expect(b.status.disruptionsAllowed).toBe(0);
    expect(b.status.conditions[0]).toMatchObject({ type: 'DisruptionAllowed', status: 'False', reason: 'SyncFailed', message: 'daemonsets.apps does not implement the scale subresource' });

    await pod(h, 'lonely', 'lonely');
    await budget(h, 'lonely', { minAvailable: '50%', selector: { matchLabels: { app: 'lonely' } } });
    await statusOf(h, 'lonely', (s) => s.observedGeneration === 1);
    const ev = await eventually(async () => {
      const list = await h!.client.list<KubeObject>({ apiVersion: 'v1', kind: 'Event', namespace: NS });
      return list.items.find((e: any) => e.reason === 'UnmanagedPods' && e.involvedObject?.name === 'lonely');
    });
    expect(ev.type).toBe('Warning');
  });

  it('keeps recent disruptedPods entries out of currentHealthy and drops expired ones', async () => {
    const now = new Date();
    h = await harness([(ctx) => new DisruptionController(ctx)], {}, () => now);
    const { rs } = await deployment(h, 'web', 3);
    for (const n of ['a', 'b', 'c']) await pod(h, `web-${n}`, 'web', { owner: rs });
    await budget(h, 'web', { minAvailable: 1, selector: { matchLabels: { app: 'web' } } });
    const b = await statusOf(h, 'web', (s) => s.currentHealthy === 3);
    const recent = new Date(now.getTime() - 10_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const stale = new Date(now.getTime() - DELETION_TIMEOUT_MS - 10_000).toISOString().replace(/\.\d+Z$/, 'Z');
    await h.client.updateStatus({ ...b, status: { ...b.status, disruptedPods: { 'web-a': recent, 'web-b': stale, gone: recent } } });
    const after = await statusOf(h, 'web', (s) => s.currentHealthy === 2);
    expect(after.status.disruptedPods).toEqual({ 'web-a': recent });
    expect(after.status).toMatchObject({ desiredHealthy: 1, disruptionsAllowed: 1 });
  });

  it('an empty selector selects every pod of the namespace; a budget without pods allows nothing', async () => {
    h = await harness([(ctx) => new DisruptionController(ctx)]);
    await pod(h, 'p1', 'x');
    await pod(h, 'p2', 'y');
    await budget(h, 'all', { minAvailable: 1, selector: {} });
    const all = await statusOf(h, 'all', (s) => s.observedGeneration === 1);
    expect(all.status).toMatchObject({ currentHealthy: 2, expectedPods: 2, disruptionsAllowed: 1 });
    await budget(h, 'none', { minAvailable: 0, selector: { matchLabels: { app: 'nothing' } } });
    const none = await statusOf(h, 'none', (s) => s.observedGeneration === 1);
    expect(none.status).toMatchObject({ currentHealthy: 0, expectedPods: 0, disruptionsAllowed: 0 });
  });
});
