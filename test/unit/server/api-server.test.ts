import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { openStore, type Store } from '../../../core/store/index.ts';
import { ApiServer } from '../../../core/server/api-server.ts';
import { InProcessClient } from '../../../core/client/in-process-client.ts';
import { ApiError, isApiError } from '../../../core/api/errors.ts';
import type { KubeObject } from '../../../core/api/types.ts';
import type { ClientWatchEvent } from '../../../core/client/client.ts';

const DEPLOY = { apiVersion: 'apps/v1', kind: 'Deployment' };
const POD = { apiVersion: 'v1', kind: 'Pod' };

function deployment(name: string, extra: Partial<KubeObject> = {}): KubeObject {
  return {
    ...DEPLOY,
    metadata: { name, labels: { app: name } },
    spec: {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'web', image: 'nginx:1.25' }] } },
    },
    ...extra,
  } as KubeObject;
}

function pod(name: string, labels: Record<string, string> = {}, nodeName?: string): KubeObject {
  return { ...POD, metadata: { name, labels }, spec: { nodeName, containers: [{ name: 'c', image: 'busybox:1' }] } } as KubeObject;
}

async function expectApiError(p: Promise<unknown>, reason: string): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    expect(isApiError(e)).toBe(true);
    expect((e as ApiError).reason).toBe(reason);
    return e as ApiError;
  }
  throw new Error(`expected ${reason}, got success`);
}

function collect(client: InProcessClient, ref: any, opts: any) {
  const events: ClientWatchEvent[] = [];
  const h = client.watch(ref, opts, (ev) => events.push(ev));
  return { events, close: () => h.close() };
}

const settle = (ms = 20) => new Promise((r) => setTimeout(r, ms));

describe('ApiServer', () => {
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

  it('bootstraps the system namespaces', async () => {
    const ns = await client.list({ apiVersion: 'v1', kind: 'Namespace' });
    expect(ns.items.map((n) => n.metadata.name).sort()).toEqual(['default', 'kube-node-lease', 'kube-public', 'kube-system']);
    expect(ns.items[0]!.status.phase).toBe('Active');
  });

  it('creates with defaults, server metadata and a resourceVersion', async () => {
    const d = await client.create(deployment('web'));
    expect(d.metadata.namespace).toBe('default');
    expect(d.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(d.metadata.creationTimestamp).toBeTruthy();
    expect(d.metadata.generation).toBe(1);
    expect(Number(d.metadata.resourceVersion)).toBeGreaterThan(0);
    expect(d.spec.replicas).toBe(1);
    expect(d.spec.strategy.rollingUpdate).toEqual({ maxSurge: '25%', maxUnavailable: '25%' });
    const got = await client.get({ ...DEPLOY, namespace: 'default', name: 'web' });
    expect(got).toEqual(d);
  });

  it('rejects invalid objects with every cause and writes nothing', async () => {
    const bad = deployment('Bad_Name');
    bad.spec.replicas = -1;
    bad.spec.template.spec.containers[0].image = '';
    const rev = store.currentRevision();
    const err = await expectApiError(client.create(bad), 'Invalid');
    expect(err.code).toBe(422);
    const fields = err.causes.map((c) => c.field);
    expect(fields).toEqual(expect.arrayContaining(['metadata.name', 'spec.replicas', 'spec.template.spec.containers[0].image']));
    expect(err.message).toMatch(/^Deployment\.apps "Bad_Name" is invalid: \[/);
    expect(store.currentRevision()).toBe(rev);
  });

  it('rejects unknown kinds and missing namespaces', async () => {
    await expectApiError(client.create({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }), 'BadRequest');
    const e = await expectApiError(client.create({ ...pod('p'), metadata: { name: 'p', namespace: 'nope' } }), 'NotFound');
    expect(e.message).toBe('namespaces "nope" not found');
  });

  it('AlreadyExists and NotFound use Kubernetes wording', async () => {
    await client.create(deployment('web'));
    const e = await expectApiError(client.create(deployment('web')), 'AlreadyExists');
    expect(e.message).toBe('deployments.apps "web" already exists');
    const n = await expectApiError(client.get({ ...DEPLOY, namespace: 'default', name: 'nope' }), 'NotFound');
    expect(n.message).toBe('deployments.apps "nope" not found');
    expect(n.code).toBe(404);
  });

  it('stale updates get 409 Conflict; fresh ones bump generation only on spec change', async () => {
    const d = await client.create(deployment('web'));
    const d2 = structuredClone(d);
    d2.spec.replicas = 3;
    const updated = await client.update(d2);
    expect(updated.metadata.generation).toBe(2);
    const stale = structuredClone(d);
    stale.spec.replicas = 5;
    const e = await expectApiError(client.update(stale), 'Conflict');
    expect(e.message).toContain('the object has been modified');
    const relabel = structuredClone(updated);
    relabel.metadata.labels = { app: 'web', tier: 'x' };
    const r = await client.update(relabel);
    expect(r.metadata.generation).toBe(2);
  });

  it('a no-op update does not change the resourceVersion', async () => {
    const d = await client.create(deployment('web'));
    const same = await client.update(structuredClone(d));
    expect(same.metadata.resourceVersion).toBe(d.metadata.resourceVersion);
  });

  it('main-resource updates ignore status; status updates ignore spec', async () => {
    const d = await client.create(deployment('web'));
    const withStatus = { ...structuredClone(d), status: { replicas: 9 } };
    withStatus.spec.replicas = 2;
    const u = await client.update(withStatus);
    expect(u.status).toEqual({});
    expect(u.spec.replicas).toBe(2);
    const s = { ...structuredClone(u), status: { replicas: 2, readyReplicas: 1 } };
    s.spec.replicas = 7;
    const us = await client.updateStatus(s);
    expect(us.status).toEqual({ replicas: 2, readyReplicas: 1 });
    expect(us.spec.replicas).toBe(2);
    expect(us.metadata.generation).toBe(u.metadata.generation);
  });

  it('immutable fields are refused on update', async () => {
    const d = await client.create(deployment('web'));
    const changed = structuredClone(d);
    changed.spec.selector = { matchLabels: { app: 'other' } };
    changed.spec.template.metadata.labels = { app: 'other' };
    const e = await expectApiError(client.update(changed), 'Invalid');
    expect(e.causes.map((c) => c.field)).toContain('spec.selector');
  });

  it('patches: merge, json and strategic', async () => {
    await client.create(deployment('web'));
    const ref = { ...DEPLOY, namespace: 'default', name: 'web' };
    const m = await client.patch(ref, 'merge', { spec: { replicas: 4 } });
    expect(m.spec.replicas).toBe(4);
    const j = await client.patch(ref, 'json', [{ op: 'replace', path: '/spec/replicas', value: 5 }]);
    expect(j.spec.replicas).toBe(5);
    const s = await client.patch(ref, 'strategic', {
      spec: { template: { spec: { containers: [{ name: 'sidecar', image: 'busybox:1' }] } } },
    });
    expect(s.spec.template.spec.containers.map((c: any) => c.name)).toEqual(['sidecar', 'web']);
  });

  it('dry-run runs the chain and persists nothing', async () => {
    const rev = store.currentRevision();
    const d = await client.create(deployment('web'), { dryRun: true });
    expect(d.spec.replicas).toBe(1);
    expect(store.currentRevision()).toBe(rev);
    await expectApiError(client.get({ ...DEPLOY, namespace: 'default', name: 'web' }), 'NotFound');
  });

  it('lists with label and field selectors and pages with continue', async () => {
    for (let i = 0; i < 25; i++) await client.create(pod(`p${String(i).padStart(2, '0')}`, { app: i % 2 ? 'odd' : 'even' }, i < 5 ? 'n1' : undefined));
    const odd = await client.list(POD, { namespace: 'default', labelSelector: 'app=odd' });
    expect(odd.items).toHaveLength(12);
    const onN1 = await client.list(POD, { namespace: 'default', fieldSelector: 'spec.nodeName=n1' });
    expect(onN1.items.map((p) => p.metadata.name)).toEqual(['p00', 'p01', 'p02', 'p03', 'p04']);
    const seen: string[] = [];
    let cont: string | undefined;
    let pages = 0;
    do {
      const page = await client.list(POD, { namespace: 'default', limit: 10, continue: cont, labelSelector: 'app in (odd,even)' });
      seen.push(...page.items.map((p) => p.metadata.name!));
      cont = page.metadata.continue;
      pages++;
    } while (cont);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(25);
    expect(new Set(seen).size).toBe(25);
    await expectApiError(client.list(POD, { labelSelector: 'app in (' }), 'BadRequest');
  });

  it('watch: initial state, changes in order, selector transitions, resume', async () => {
    await client.create(pod('a', { app: 'x' }));
    const w = collect(client, POD, { namespace: 'default', labelSelector: 'app=x' });
    await settle();
    expect(w.events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED a']);
    const b = await client.create(pod('b', { app: 'y' }));
    const b2 = await client.update({ ...b, metadata: { ...b.metadata, labels: { app: 'x' } } });
    await client.update({ ...b2, metadata: { ...b2.metadata, labels: { app: 'y' } } });
    await client.delete({ ...POD, namespace: 'default', name: 'a' });
    await settle();
    expect(w.events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED a', 'ADDED b', 'DELETED b', 'DELETED a']);
    w.close();
    // Resume from the revision of the first event: everything after it, nothing before.
    const from = w.events[1]!.object.metadata.resourceVersion!;
    const r = collect(client, POD, { namespace: 'default', resourceVersion: from });
    await settle();
    expect(r.events.map((e) => e.type)).toEqual(['MODIFIED', 'DELETED']);
    r.close();
  });

  it('watch from a compacted revision ends with a 410 Expired ERROR event', async () => {
    const p = await client.create(pod('a'));
    for (let i = 0; i < 3; i++) await client.patch({ ...POD, namespace: 'default', name: 'a' }, 'merge', { metadata: { labels: { i: String(i) } } });
    await store.compact(store.currentRevision() - 1);
    const w = collect(client, POD, { namespace: 'default', resourceVersion: p.metadata.resourceVersion });
    await settle();
    expect(w.events).toHaveLength(1);
    expect(w.events[0]!.type).toBe('ERROR');
    expect((w.events[0]!.object as any).code).toBe(410);
  });

  it('deleting a bound pod marks it with the grace period; the second delete with 0 removes it', async () => {
    await client.create(pod('p', {}, 'node-1'));
    const ref = { ...POD, namespace: 'default', name: 'p' };
    const marked = await client.delete(ref);
    expect(marked.metadata.deletionTimestamp).toBeTruthy();
    expect(marked.metadata.deletionGracePeriodSeconds).toBe(30);
    await client.get(ref);
    await client.delete(ref, { gracePeriodSeconds: 0 });
    await expectApiError(client.get(ref), 'NotFound');
    // An unbound pod goes at once.
    await client.create(pod('q'));
    await client.delete({ ...ref, name: 'q' });
    await expectApiError(client.get({ ...ref, name: 'q' }), 'NotFound');
  });

  it('finalizers hold a deletion until they are removed', async () => {
    const cm = await client.create<KubeObject>({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', finalizers: ['example.com/hold'] }, data: { a: '1' } });
    const ref = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'c' };
    const marked = await client.delete(ref);
    expect(marked.metadata.deletionTimestamp).toBeTruthy();
    const current = await client.get(ref);
    expect(current.metadata.uid).toBe(cm.metadata.uid);
    await client.update({ ...current, metadata: { ...current.metadata, finalizers: [] } });
    await expectApiError(client.get(ref), 'NotFound');
  });

  it('creating in a terminating namespace is forbidden', async () => {
    await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } });
    const ns = await client.delete({ apiVersion: 'v1', kind: 'Namespace', name: 'team' });
    expect(ns.status.phase).toBe('Terminating');
    const e = await expectApiError(client.create({ ...pod('p'), metadata: { name: 'p', namespace: 'team' } }), 'Forbidden');
    expect(e.message).toContain('because it is being terminated');
  });

  it('delete preconditions', async () => {
    await client.create(pod('a'));
    await expectApiError(client.delete({ ...POD, namespace: 'default', name: 'a' }, { preconditions: { uid: 'x' } }), 'Conflict');
  });

  it('admission plugins see and can reject writes', async () => {
    api.admission.add({
      name: 'NoBigReplicas',
      validate(a) {
        if (a.info.kind === 'Deployment' && a.object.spec?.replicas > 10) throw new ApiError('Forbidden', 'too many replicas');
      },
    });
    await client.create(deployment('ok'));
    const big = deployment('big');
    big.spec.replicas = 11;
    await expectApiError(client.create(big), 'Forbidden');
  });
});

describe('ApiServer pods/binding', () => {
  it('binds an unbound pod once, with PodScheduled=True', async () => {
    const store = await openStore('memory:');
    const api = new ApiServer({ store });
    await api.bootstrap();
    const client = new InProcessClient(api);
    await client.create(pod('p'));
    await client.bind({ namespace: 'default', name: 'p' }, 'node-1');
    const bound = await client.get({ ...POD, namespace: 'default', name: 'p' });
    expect(bound.spec.nodeName).toBe('node-1');
    expect(bound.status.conditions).toEqual([expect.objectContaining({ type: 'PodScheduled', status: 'True' })]);
    const e = await expectApiError(client.bind({ namespace: 'default', name: 'p' }, 'node-2'), 'Conflict');
    expect(e.message).toContain('already assigned to node "node-1"');
    await store.close();
  });
});
