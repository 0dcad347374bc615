import { describe, it, expect, afterEach } from 'vitest';
import type { KubeObject } from '../../../core/api/types.ts';
import type { Client } from '../../../core/client/client.ts';
import { rollbackTo } from '../../../core/controllers/deployment-controller.ts';
import { computeHash } from '../../../core/controllers/controller-utils.ts';
import {
  condition, DEPLOY, deployment, isReady, NS, POD, RS, setImage, workloadHarness, type Harness,
} from './workload-harness.ts';

const HASH = 'pod-template-hash';
const REV = 'deployment.kubernetes.io/revision';
const ref = { namespace: NS, name: 'web' };

let h: Harness;
afterEach(() => h?.close());

const image = (o: KubeObject): string => (o.spec.template?.spec ?? o.spec).containers[0].image;
const rsByImage = async (img: string) => (await h.replicaSets('app=web')).find((rs) => image(rs) === img);

/** Make pods ready step by step until the Deployment's rollout is complete. */
async function complete(name = 'web', max = 60): Promise<KubeObject> {
  for (let i = 0; i < max; i++) {
    await h.settle();
    const d = await h.get(DEPLOY, name);
    const want = d.spec.replicas;
    const s = d.status ?? {};
    if (s.updatedReplicas === want && s.replicas === want && s.availableReplicas === want && s.observedGeneration === d.metadata.generation) {
      return d;
    }
    await h.readyAll(`app=${name}`);
  }
  throw new Error(`deployment ${name} did not complete`);
}

describe('DeploymentController', () => {
  it('creates a ReplicaSet named by the pod-template-hash and reports a complete rollout', async () => {
    h = await workloadHarness();
    const d0 = await h.client.create(deployment('web', 3));
    await h.settle();
    const [rs] = await h.replicaSets('app=web');
    const hash = rs!.metadata.labels![HASH]!;
    expect(hash).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
    expect(rs!.metadata.name).toBe(`web-${hash}`);
    expect(rs!.spec.selector.matchLabels).toEqual({ app: 'web', [HASH]: hash });
    expect(rs!.spec.template.metadata.labels).toEqual({ app: 'web', [HASH]: hash });
    expect(rs!.metadata.ownerReferences).toEqual([{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: d0.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    expect(rs!.metadata.annotations).toMatchObject({ [REV]: '1', 'deployment.kubernetes.io/desired-replicas': '3', 'deployment.kubernetes.io/max-replicas': '4' });
    expect(rs!.spec.replicas).toBe(3);
    const pods = await h.pods('app=web');
    expect(pods).toHaveLength(3);
    expect(pods.every((p) => p.metadata.labels![HASH] === hash)).toBe(true);

    let d = await h.get(DEPLOY, 'web');
    expect(d.metadata.annotations?.[REV]).toBe('1');
    expect(condition(d, 'Available')).toMatchObject({ status: 'False', reason: 'MinimumReplicasUnavailable' });
    expect(condition(d, 'Progressing')).toMatchObject({ status: 'True' });
    expect(d.status).toMatchObject({ replicas: 3, updatedReplicas: 3, unavailableReplicas: 3, observedGeneration: 1 });

    d = await complete();
    await h.settle();
    d = await h.get(DEPLOY, 'web');
    expect(d.status).toMatchObject({ replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3, observedGeneration: 1 });
    expect(d.status.unavailableReplicas).toBeUndefined();
    expect(condition(d, 'Available')).toMatchObject({ status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' });
    expect(condition(d, 'Progressing')).toMatchObject({ status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "web-${hash}" has successfully progressed.` });
    const scaling = await h.events('ScalingReplicaSet');
    expect(scaling.map((e) => e.message)).toEqual([`Scaled up replica set web-${hash} to 3 from 0`]);
  });

  it('rolls v1 → v2 within maxSurge and maxUnavailable at every write', async () => {
    const replicas = 10; // 25% / 25%: surge 3 (rounded up), unavailable 2 (rounded down)
    const violations: string[] = [];
    let checking = false;
    let inner!: Client;
    const check = async () => {
      if (!checking) return;
      const rss = (await inner.list(RS, { namespace: NS, labelSelector: 'app=web' })).items;
      const total = rss.reduce((n, rs) => n + rs.spec.replicas, 0);
      if (total > replicas + 3) violations.push(`total replicas ${total} > ${replicas + 3}`);
      const pods = (await inner.list(POD, { namespace: NS, labelSelector: 'app=web' })).items;
      const available = pods.filter((p) => !p.metadata.deletionTimestamp && isReady(p)).length;
      if (available < replicas - 2) violations.push(`available pods ${available} < ${replicas - 2}`);
    };
    h = await workloadHarness({
      wrap: (c) => {
        inner = c;
        return new Proxy(c, {
          get(target, prop) {
            const v = (target as any)[prop];
            if (typeof v !== 'function') return v;
            if (!['create', 'update', 'patch', 'delete'].includes(prop as string)) return v.bind(target);
            return async (...args: unknown[]) => {
              const r = await v.apply(target, args);
              await check();
              return r;
            };
          },
        });
      },
    });
    await h.client.create(deployment('web', replicas));
    await complete();
    checking = true;
    await setImage(h.client, 'web', 'nginx:1.26');
    await h.settle();
    const v1 = (await rsByImage('nginx:1.25'))!;
    const v2 = (await rsByImage('nginx:1.26'))!;
    expect([v1.spec.replicas, v2.spec.replicas]).toEqual([8, 5]); // the Kubernetes first step
    expect(v2.metadata.annotations?.[REV]).toBe('2');

    const steps: Array<[number, number]> = [];
    for (let i = 0; i < 40; i++) {
      await h.settle();
      const [o, n] = [(await h.get(RS, v1.metadata.name!)).spec.replicas, (await h.get(RS, v2.metadata.name!)).spec.replicas];
      steps.push([o, n]);
      const d = await h.get(DEPLOY, 'web');
      if (d.status.updatedReplicas === replicas && d.status.availableReplicas === replicas && d.status.replicas === replicas) break;
      // Exactly as many pods as running: never more than replicas + surge once settled.
      expect((await h.pods('app=web')).length).toBeLessThanOrEqual(replicas + 3);
      const waiting = (await h.pods('app=web')).filter((p) => image(p) === 'nginx:1.26' && !isReady(p));
      expect(waiting.length).toBeGreaterThan(0); // otherwise the rollout is stuck
      await h.ready(waiting[0]!);
    }
    expect(violations).toEqual([]);
    expect(steps.at(-1)).toEqual([0, 10]);
    expect(steps.length).toBeGreaterThan(5);
    const d = await h.get(DEPLOY, 'web');
    expect(d.metadata.annotations?.[REV]).toBe('2');
    expect(condition(d, 'Progressing')?.reason).toBe('NewReplicaSetAvailable');
    const msgs = (await h.events('ScalingReplicaSet')).map((e) => e.message);
    expect(msgs).toContain(`Scaled up replica set ${v2.metadata.name} to 3 from 0`);
    expect(msgs).toContain(`Scaled down replica set ${v1.metadata.name} to 8 from 10`);
  });

  it('waits minReadySeconds before counting new pods available', async () => {
    h = await workloadHarness();
    await h.client.create(deployment('web', 2, { minReadySeconds: 5, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } }));
    await h.settle();
    await h.readyAll('app=web');
    h.clock.advance(6);
    h.rsc.enqueue(`${NS}/${(await h.replicaSets('app=web'))[0]!.metadata.name}`);
    await complete();
    await setImage(h.client, 'web', 'nginx:1.26');
    await h.settle();
    await h.readyAll('app=web');
    await h.settle();
    const v1 = (await rsByImage('nginx:1.25'))!;
    expect(v1.spec.replicas).toBe(2); // the new pod is ready but not yet available
    h.clock.advance(6);
    h.rsc.enqueue(`${NS}/${(await rsByImage('nginx:1.26'))!.metadata.name}`);
    await h.settle();
    expect((await h.get(RS, v1.metadata.name!)).spec.replicas).toBe(1);
  });

  it('Recreate: old pods are gone before the new ReplicaSet is created', async () => {
    const writes: string[] = [];
    h = await workloadHarness({
      wrap: (c) =>
        new Proxy(c, {
          get(target, prop) {
            const v = (target as any)[prop];
            if (typeof v !== 'function') return v;
            if (prop !== 'create' && prop !== 'update') return v.bind(target);
            return async (obj: KubeObject, ...rest: unknown[]) => {
              const r = await v.call(target, obj, ...rest);
              if (obj.kind === 'ReplicaSet') writes.push(`${prop} ${image(obj)} ${obj.spec.replicas}`);
              return r;
            };
          },
        }),
    });
    await h.client.create(deployment('web', 2, { strategy: { type: 'Recreate' } }));
    await h.settle();
    for (const p of await h.pods('app=web')) {
      await h.client.bind({ namespace: NS, name: p.metadata.name! }, 'node-1');
      await h.ready(p);
    }
    await complete();
    writes.length = 0;
    await setImage(h.client, 'web', 'nginx:1.26');
    await h.settle();
    expect(await rsByImage('nginx:1.26')).toBeUndefined();
    const terminating = (await h.pods('app=web', true)).filter((p) => p.metadata.deletionTimestamp);
    expect(terminating).toHaveLength(2); // graceful deletion in progress
    expect(writes).toEqual(['update nginx:1.25 0']);
    for (const p of terminating) await h.client.delete({ ...POD, namespace: NS, name: p.metadata.name! }, { gracePeriodSeconds: 0 });
    await h.settle();
    expect(writes).toEqual(['update nginx:1.25 0', 'create nginx:1.26 2']);
    expect((await h.pods('app=web')).every((p) => image(p) === 'nginx:1.26')).toBe(true);
    await complete();
  });

  it('pause stops the rollout but not scaling; resume continues it', async () => {
    h = await workloadHarness();
    await h.client.create(deployment('web', 2));
    await complete();
    await h.client.patch({ ...DEPLOY, ...ref }, 'merge', { spec: { paused: true } });
    await setImage(h.client, 'web', 'nginx:1.26');
    await h.settle();
    let d = await h.get(DEPLOY, 'web');
    expect(condition(d, 'Progressing')).toMatchObject({ status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused' });
    expect(await h.replicaSets('app=web')).toHaveLength(1);
    await h.client.patch({ ...DEPLOY, ...ref }, 'merge', { spec: { replicas: 4 } });
    await h.settle();
    expect((await rsByImage('nginx:1.25'))!.spec.replicas).toBe(4);
    expect(await h.pods('app=web')).toHaveLength(4);

    await h.client.patch({ ...DEPLOY, ...ref }, 'merge', { spec: { paused: false } });
    await h.settle();
    expect(await rsByImage('nginx:1.26')).toBeDefined();
    d = await complete();
    expect((await rsByImage('nginx:1.25'))!.spec.replicas).toBe(0);
    expect((await rsByImage('nginx:1.26'))!.spec.replicas).toBe(4);
  });

  it('scales ReplicaSets proportionally mid-rollout', async () => {
    h = await workloadHarness();
    await h.client.create(deployment('web', 10, { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 3, maxUnavailable: 2 } } }));
    await complete();
    await setImage(h.client, 'web', 'nginx:does-not-exist');
    await h.settle();
    const v1 = (await rsByImage('nginx:1.25'))!;
    const v2 = (await rsByImage('nginx:does-not-exist'))!;
    expect([v1.spec.replicas, v2.spec.replicas]).toEqual([8, 5]); // stuck: the new pods never get ready
    await h.client.patch({ ...DEPLOY, ...ref }, 'merge', { spec: { replicas: 15 } });
    await h.settle();
    // 5 more replicas split by size, as in the Kubernetes documentation: 3 to the old, 2 to the new.
    expect([(await h.get(RS, v1.metadata.name!)).spec.replicas, (await h.get(RS, v2.metadata.name!)).spec.replicas]).toEqual([11, 7]);
    expect((await h.get(RS, v1.metadata.name!)).metadata.annotations).toMatchObject({
      'deployment.kubernetes.io/desired-replicas': '15',
      'deployment.kubernetes.io/max-replicas': '18',
    });
  });

  it('keeps revisionHistoryLimit old ReplicaSets and copies the change-cause', async () => {
    h = await workloadHarness();
    await h.client.create(deployment('web', 1, { revisionHistoryLimit: 2 }, { annotations: { 'kubernetes.io/change-cause': 'initial' } }));
    await complete();
    for (const v of ['1.26', '1.27', '1.28', '1.29']) {
      await setImage(h.client, 'web', `nginx:${v}`, { 'kubernetes.io/change-cause': `kubectl set image web=nginx:${v}` });
      await complete();
    }
    await h.settle();
    const rss = await h.replicaSets('app=web');
    expect(rss.map(image).sort()).toEqual(['nginx:1.27', 'nginx:1.28', 'nginx:1.29']);
    const current = (await rsByImage('nginx:1.29'))!;
    expect(current.metadata.annotations).toMatchObject({ [REV]: '5', 'kubernetes.io/change-cause': 'kubectl set image web=nginx:1.29' });
    expect((await rsByImage('nginx:1.28'))!.metadata.annotations?.['kubernetes.io/change-cause']).toBe('kubectl set image web=nginx:1.28');
    expect((await h.get(DEPLOY, 'web')).metadata.annotations?.[REV]).toBe('5');
  });

  it('rollbackTo(revision) reuses the old ReplicaSet and gives it the next revision', async () => {
    h = await workloadHarness();
    await h.client.create(deployment('web', 2, {}, { annotations: { 'kubernetes.io/change-cause': 'v1' } }));
    await complete();
    const v1 = (await rsByImage('nginx:1.25'))!;
    await setImage(h.client, 'web', 'nginx:1.26', { 'kubernetes.io/change-cause': 'v2' });
    await complete();
    await setImage(h.client, 'web', 'nginx:1.27', { 'kubernetes.io/change-cause': 'v3' });
    await complete();

    const recorder = h.manager.context.recorder('deployment-controller');
    const res = await rollbackTo(h.client, ref, 1, { recorder });
    expect(res).toMatchObject({ revision: 1, replicaSet: v1.metadata.name, skipped: false });
    const d = await complete();
    expect(image(d)).toBe('nginx:1.25');
    expect(d.metadata.annotations).toMatchObject({ [REV]: '4', 'kubernetes.io/change-cause': 'v1' });
    const reused = await h.get(RS, v1.metadata.name!);
    expect(reused.metadata.uid).toBe(v1.metadata.uid);
    expect(reused.metadata.annotations).toMatchObject({ [REV]: '4', 'deployment.kubernetes.io/revision-history': '1' });
    expect(reused.spec.replicas).toBe(2);
    expect(await h.replicaSets('app=web')).toHaveLength(3);
    expect((await h.events('DeploymentRollback')).map((e) => e.message)).toEqual(['Rolled back deployment "web" to revision 1']);

    // 0 = the previous revision (3: nginx:1.27); the same template again is skipped.
    expect(await rollbackTo(h.client, ref)).toMatchObject({ revision: 3, skipped: false });
    await complete();
    expect(image(await h.get(DEPLOY, 'web'))).toBe('nginx:1.27');
    expect(await rollbackTo(h.client, ref, 5)).toMatchObject({ skipped: true, message: 'skipped rollback (current template already matches revision 5)' });
    await expect(rollbackTo(h.client, ref, 42)).rejects.toThrow('Deployment default/web: unable to find specified revision 42 in history');
    await h.client.patch({ ...DEPLOY, ...ref }, 'merge', { spec: { paused: true } });
    await expect(rollbackTo(h.client, ref, 1)).rejects.toThrow(/cannot rollback a paused deployment/);
  });

  it('bumps collisionCount when another ReplicaSet already has the hashed name', async () => {
    h = await workloadHarness();
    const d0 = await h.client.create(deployment('web', 1, { paused: true }));
    const taken = `web-${computeHash(d0.spec.template)}`;
    await h.client.create({
      ...RS,
      metadata: { name: taken, namespace: NS },
      spec: { replicas: 0, selector: { matchLabels: { app: 'other' } }, template: { metadata: { labels: { app: 'other' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
    } as KubeObject);
    await h.client.patch({ ...DEPLOY, ...ref }, 'merge', { spec: { paused: false } });
    await h.settle();
    const d = await h.get(DEPLOY, 'web');
    expect(d.status.collisionCount).toBe(1);
    const [rs] = await h.replicaSets('app=web');
    expect(rs!.metadata.name).toBe(`web-${computeHash(d0.spec.template, 1)}`);
    expect((await h.get(RS, taken)).spec.template.metadata.labels).toEqual({ app: 'other' }); // untouched
  });

  it('reports ProgressDeadlineExceeded when a rollout makes no progress', async () => {
    h = await workloadHarness({ options: { autoRollback: false } });
    await h.client.create(deployment('web', 2, { progressDeadlineSeconds: 30 }));
    await complete();
    await setImage(h.client, 'web', 'nginx:1.26');
    await h.settle();
    const v2 = (await rsByImage('nginx:1.26'))!;
    let d = await h.get(DEPLOY, 'web');
    expect(condition(d, 'Progressing')).toMatchObject({ status: 'True' });
    h.clock.advance(29);
    h.dc.enqueue(`${NS}/web`);
    await h.settle();
    expect(condition(await h.get(DEPLOY, 'web'), 'Progressing').status).toBe('True');
    h.clock.advance(2);
    h.dc.enqueue(`${NS}/web`);
    await h.settle();
    d = await h.get(DEPLOY, 'web');
    expect(condition(d, 'Progressing')).toMatchObject({
      status: 'False',
      reason: 'ProgressDeadlineExceeded',
      message: `ReplicaSet "${v2.metadata.name}" has timed out progressing.`,
    });
    expect(image(d)).toBe('nginx:1.26'); // global switch off: no rollback
    expect((await h.events('RolloutFailed'))[0]?.message).toBe('rollout of revision 2 failed: progress deadline of 30s exceeded; automatic rollback is off');
  });
});

describe('automatic rollback', () => {
  async function failingRollout(options = {}, meta: Record<string, unknown> = {}, progressDeadlineSeconds = 600) {
    h = await workloadHarness(options);
    await h.client.create(deployment('web', 4, { progressDeadlineSeconds }, meta));
    await complete();
    await setImage(h.client, 'web', 'nginx:broken');
    await h.settle();
  }
  const newPods = async (img = 'nginx:broken') => (await h.pods('app=web')).filter((p) => image(p) === img);

  it('rolls back crash-looping new pods to the last good revision', async () => {
    await failingRollout();
    const bad = await newPods();
    expect(bad).toHaveLength(2); // 4 replicas, 25%/25%: 3 old + 2 new
    await h.crashLoop(bad[0]!); // half of the new pods crash-looping: failed
    await h.settle();
    const d = await complete();
    expect(image(d)).toBe('nginx:1.25');
    const record = JSON.parse(d.metadata.annotations!['wheelhouse.io/last-auto-rollback']!);
    expect(record).toMatchObject({ from: 2, to: 1, reason: '1 new pod in CrashLoopBackOff', time: h.clock.iso() });
    const ev = await h.events('AutoRollback');
    expect(ev.map((e) => [e.type, e.message])).toEqual([['Warning', 'rollout of revision 2 failed: 1 new pod in CrashLoopBackOff; rolled back to revision 1']]);
    expect((await rsByImage('nginx:broken'))!.spec.replicas).toBe(0);
    expect((await rsByImage('nginx:1.25'))!.metadata.annotations?.[REV]).toBe('3');

    // Re-applying the failed template is not rolled back again (no loop) …
    await setImage(h.client, 'web', 'nginx:broken');
    await h.settle();
    await h.crashLoop((await newPods())[0]!);
    await h.settle();
    expect(image(await h.get(DEPLOY, 'web'))).toBe('nginx:broken');
    expect((await h.events('RolloutFailed')).map((e) => e.message)).toEqual([
      'rollout of revision 4 failed: 1 new pod in CrashLoopBackOff; not rolled back again: this template already failed once',
    ]);
    expect(await h.events('AutoRollback')).toHaveLength(1);
    // … until the template changes again (to neither the failed one nor the one rolled back to).
    await setImage(h.client, 'web', 'nginx:1.26');
    await complete();
    await h.settle();
    const rec = JSON.parse((await h.get(DEPLOY, 'web')).metadata.annotations!['wheelhouse.io/last-auto-rollback']!);
    expect(rec.failedHash).toBeUndefined();
    expect(rec).toMatchObject({ from: 2, to: 1 });
  });

  it('rolls back to the newest revision that was fully available, skipping unfinished ones', async () => {
    await failingRollout();
    // Revision 2 never completes; revision 3 replaces it and crashes.
    await setImage(h.client, 'web', 'nginx:crashy');
    await h.settle();
    for (const p of await newPods('nginx:crashy')) await h.ready(p, 4); // ready, but restarted 4 times
    await h.settle();
    const d = await complete();
    expect(image(d)).toBe('nginx:1.25');
    const ev = await h.events('AutoRollback');
    expect(ev[0]!.message).toMatch(/^rollout of revision 3 failed: \d new pods? restarted 3 or more times; rolled back to revision 1$/);
  });

  it('rolls back when the progress deadline is exceeded', async () => {
    await failingRollout({}, {}, 60);
    h.clock.advance(61);
    h.dc.enqueue(`${NS}/web`);
    await h.settle();
    const d = await complete();
    expect(image(d)).toBe('nginx:1.25');
    expect((await h.events('AutoRollback'))[0]!.message).toBe('rollout of revision 2 failed: progress deadline of 60s exceeded; rolled back to revision 1');
  });

  it('rolls back pods stuck pulling their image after the grace window', async () => {
    await failingRollout();
    for (const p of await newPods()) await h.imagePullBackOff(p);
    await h.settle();
    expect(image(await h.get(DEPLOY, 'web'))).toBe('nginx:broken');
    h.clock.advance(61);
    h.dc.enqueue(`${NS}/web`);
    await h.settle();
    expect(image(await h.get(DEPLOY, 'web'))).toBe('nginx:1.25');
    expect((await h.events('AutoRollback'))[0]!.message).toBe('rollout of revision 2 failed: 2 new pods in ImagePullBackOff for over 60s; rolled back to revision 1');
  });

  it('is off with the wheelhouse.io/auto-rollback: "false" annotation', async () => {
    await failingRollout({}, { annotations: { 'wheelhouse.io/auto-rollback': 'false' } });
    await h.crashLoop((await newPods())[0]!);
    await h.settle();
    const d = await h.get(DEPLOY, 'web');
    expect(image(d)).toBe('nginx:broken');
    expect(d.metadata.annotations?.['wheelhouse.io/last-auto-rollback']).toBeUndefined();
    expect((await h.events('RolloutFailed'))[0]!.message).toBe('rollout of revision 2 failed: 1 new pod in CrashLoopBackOff; automatic rollback is off');
  });

  it('is off with the global switch', async () => {
    await failingRollout({ options: { autoRollback: false } }, {}, 60);
    for (const p of await newPods()) await h.crashLoop(p);
    h.clock.advance(61);
    h.dc.enqueue(`${NS}/web`);
    await h.settle();
    expect(image(await h.get(DEPLOY, 'web'))).toBe('nginx:broken');
    expect(await h.events('AutoRollback')).toHaveLength(0);
  });

  it('has nothing to roll back to on the first rollout', async () => {
    h = await workloadHarness();
    await h.client.create(deployment('web', 1));
    await h.settle();
    await h.crashLoop((await h.pods('app=web'))[0]!);
    await h.settle();
    expect(image(await h.get(DEPLOY, 'web'))).toBe('nginx:1.25');
    expect((await h.events('RolloutFailed')).map((e) => e.message)).toEqual([
      'rollout of revision 1 failed: 1 new pod in CrashLoopBackOff; no earlier revision that was fully available to roll back to',
    ]);
  });
});
