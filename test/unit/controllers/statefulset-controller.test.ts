import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../core/api/types.ts';
import type { InProcessClient } from '../../../core/client/in-process-client.ts';
import { StatefulSetController } from '../../../core/controllers/statefulset-controller.ts';
import { eventually, harness } from './helpers.ts';

const STS = { apiVersion: 'apps/v1', kind: 'StatefulSet' };
const POD = { apiVersion: 'v1', kind: 'Pod' };
const PVC = { apiVersion: 'v1', kind: 'PersistentVolumeClaim' };
const EVENT = { apiVersion: 'v1', kind: 'Event' };
const settle = (ms = 100) => new Promise((r) => setTimeout(r, ms));

function statefulSet(name: string, replicas: number, extra: Record<string, unknown> = {}): KubeObject {
  return {
    ...STS,
    metadata: { name, namespace: 'default' },
    spec: {
      replicas,
      serviceName: name,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'web', image: 'nginx:1.25' }] } },
      volumeClaimTemplates: [
        { metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
      ],
      ...extra,
    },
  } as KubeObject;
}

async function pod(client: InProcessClient, name: string): Promise<KubeObject | undefined> {
  try {
    return await client.get({ ...POD, namespace: 'default', name });
  } catch {
    return undefined;
  }
}

async function podNames(client: InProcessClient): Promise<string[]> {
  return (await client.list(POD, { namespace: 'default' })).items.map((p) => p.metadata.name!).sort();
}

/** What the scheduler and node agent would do: bind (optionally) and report Running + Ready. */
async function makeReady(client: InProcessClient, name: string, node?: string): Promise<void> {
  if (node) await client.bind({ namespace: 'default', name }, node);
  const p = (await pod(client, name))!;
  p.status = {
    ...p.status,
    phase: 'Running',
    conditions: [...(p.status?.conditions ?? []), { type: 'Ready', status: 'True', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }],
  };
  await client.updateStatus(p);
}

async function getSts(client: InProcessClient, name: string): Promise<KubeObject> {
  return client.get({ ...STS, namespace: 'default', name });
}

async function scale(client: InProcessClient, name: string, replicas: number): Promise<void> {
  await client.patch({ ...STS, namespace: 'default', name }, 'merge', { spec: { replicas } });
}

describe('StatefulSetController', () => {
  let h: Awaited<ReturnType<typeof harness>>;
  afterEach(async () => h?.close());

  it('creates pods in order, each waiting for the previous one to be Running and Ready, with claims and DNS identity', async () => {
    h = await harness([(ctx) => new StatefulSetController(ctx)]);
    const { client } = h;
    await client.create(statefulSet('web', 3));

    const web0 = await eventually(() => pod(client, 'web-0'));
    expect(web0.spec.hostname).toBe('web-0');
    expect(web0.spec.subdomain).toBe('web');
    expect(web0.metadata.labels).toMatchObject({ app: 'web', 'statefulset.kubernetes.io/pod-name': 'web-0', 'apps.kubernetes.io/pod-index': '0' });
    expect(web0.metadata.labels!['controller-revision-hash']).toMatch(/^web-[a-z0-9]+$/);
    expect(web0.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'StatefulSet', name: 'web', controller: true });
    expect(web0.spec.volumes).toContainEqual({ name: 'www', persistentVolumeClaim: { claimName: 'www-web-0' } });
    const claim = await client.get({ ...PVC, namespace: 'default', name: 'www-web-0' });
    expect(claim.metadata.labels).toEqual({ app: 'web' });

    await settle();
    expect(await podNames(client)).toEqual(['web-0']); // web-1 waits for web-0

    await makeReady(client, 'web-0');
    await eventually(() => pod(client, 'web-1'));
    await settle();
    expect(await podNames(client)).toEqual(['web-0', 'web-1']);
    await makeReady(client, 'web-1');
    await eventually(() => pod(client, 'web-2'));
    await makeReady(client, 'web-2');

    const sts = await eventually(async () => {
      const s = await getSts(client, 'web');
      return s.status?.readyReplicas === 3 && s;
    });
    expect(sts.status).toMatchObject({ replicas: 3, readyReplicas: 3, availableReplicas: 3, currentReplicas: 3, updatedReplicas: 3, observedGeneration: 1 });
    expect(sts.status.currentRevision).toBe(sts.status.updateRevision);
    const revisions = await client.list({ apiVersion: 'apps/v1', kind: 'ControllerRevision' }, { namespace: 'default' });
    expect(revisions.items.map((r) => r.metadata.name)).toEqual([sts.status.currentRevision]);

    await h.manager.context.recorder('statefulset-controller').flush();
    const messages = (await client.list(EVENT, { namespace: 'default' })).items.map((e) => `${e.reason}: ${e.message}`);
    expect(messages).toContain('SuccessfulCreate: create Pod web-0 in StatefulSet web successful');
    expect(messages).toContain('SuccessfulCreate: create Claim www-web-0 Pod web-0 in StatefulSet web success');
  });

  it('creates all pods at once with podManagementPolicy Parallel', async () => {
    h = await harness([(ctx) => new StatefulSetController(ctx)]);
    await h.client.create(statefulSet('par', 3, { podManagementPolicy: 'Parallel' }));
    await eventually(async () => (await podNames(h.client)).length === 3);
    expect(await podNames(h.client)).toEqual(['par-0', 'par-1', 'par-2']);
  });

  it('scales down in reverse ordinal order, one pod at a time, keeping the claims', async () => {
    h = await harness([(ctx) => new StatefulSetController(ctx)]);
    const { client } = h;
    await client.create(statefulSet('db', 3));
    for (const name of ['db-0', 'db-1', 'db-2']) {
      await eventually(() => pod(client, name));
      await makeReady(client, name, 'node-1'); // bound: deletion is graceful and waits for the node
    }
    await eventually(async () => (await getSts(client, 'db')).status?.readyReplicas === 3);

    await scale(client, 'db', 1);

    await eventually(async () => (await pod(client, 'db-2'))?.metadata.deletionTimestamp);
    await settle();
    expect((await pod(client, 'db-1'))?.metadata.deletionTimestamp).toBeUndefined(); // waits for db-2 to be gone

    // The node agent finishes the graceful deletion of db-2.
    await client.delete({ ...POD, namespace: 'default', name: 'db-2' }, { gracePeriodSeconds: 0 });
    await eventually(async () => (await pod(client, 'db-1'))?.metadata.deletionTimestamp);
    await client.delete({ ...POD, namespace: 'default', name: 'db-1' }, { gracePeriodSeconds: 0 });
    await eventually(async () => (await podNames(client)).join() === 'db-0');

    const claims = (await client.list(PVC, { namespace: 'default' })).items.map((c) => c.metadata.name).sort();
    expect(claims).toEqual(['www-db-0', 'www-db-1', 'www-db-2']); // whenScaled: Retain
    await eventually(async () => {
      const s = await getSts(client, 'db');
      return s.status?.replicas === 1 && s.status?.readyReplicas === 1;
    });

    // Scaling up again reuses the kept claims.
    await scale(client, 'db', 2);
    const db1 = await eventually(() => pod(client, 'db-1'));
    expect(db1.spec.volumes).toContainEqual({ name: 'www', persistentVolumeClaim: { claimName: 'www-db-1' } });
  });

  it('gives scaled-away claims to their pod when whenScaled is Delete, and to the set when whenDeleted is Delete', async () => {
    h = await harness([(ctx) => new StatefulSetController(ctx)]);
    const { client } = h;
    await client.create(statefulSet('kv', 2, { persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Delete' } }));
    for (const name of ['kv-0', 'kv-1']) {
      await eventually(() => pod(client, name));
      await makeReady(client, name);
    }
    const set = await getSts(client, 'kv');
    const claim0 = await eventually(async () => {
      const c = await client.get({ ...PVC, namespace: 'default', name: 'www-kv-0' });
      return (c.metadata.ownerReferences?.length ?? 0) > 0 && c;
    });
    expect(claim0.metadata.ownerReferences).toEqual([{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'kv', uid: set.metadata.uid }]);

    const kv1 = (await pod(client, 'kv-1'))!;
    await scale(client, 'kv', 1);
    await eventually(async () => !(await pod(client, 'kv-1')));
    const claim1 = await client.get({ ...PVC, namespace: 'default', name: 'www-kv-1' });
    expect(claim1.metadata.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Pod', name: 'kv-1', uid: kv1.metadata.uid }]);
  });

  it('rolls a partitioned update from the highest ordinal down, waiting for readiness', async () => {
    h = await harness([(ctx) => new StatefulSetController(ctx)]);
    const { client } = h;
    await client.create(statefulSet('app', 3));
    for (const name of ['app-0', 'app-1', 'app-2']) {
      await eventually(() => pod(client, name));
      await makeReady(client, name);
    }
    const before = await eventually(async () => {
      const s = await getSts(client, 'app');
      return s.status?.readyReplicas === 3 && s;
    });
    const rev1 = before.status.currentRevision;

    await client.patch({ ...STS, namespace: 'default', name: 'app' }, 'merge', {
      spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:1.26' }] } }, updateStrategy: { rollingUpdate: { partition: 1 } } },
    });

    // app-2 goes first and comes back at the new revision.
    const app2 = await eventually(async () => {
      const p = await pod(client, 'app-2');
      return p && p.spec.containers[0].image === 'nginx:1.26' && p;
    });
    const rev2 = app2.metadata.labels!['controller-revision-hash'];
    expect(rev2).not.toBe(rev1);
    await settle();
    expect((await pod(client, 'app-1'))!.metadata.labels!['controller-revision-hash']).toBe(rev1); // waits for app-2 Ready

    await makeReady(client, 'app-2');
    await eventually(async () => (await pod(client, 'app-1'))?.metadata.labels!['controller-revision-hash'] === rev2);
    await makeReady(client, 'app-1');
    const partial = await eventually(async () => {
      const s = await getSts(client, 'app');
      return s.status?.updatedReplicas === 2 && s.status?.readyReplicas === 3 && s;
    });
    expect(partial.status).toMatchObject({ currentRevision: rev1, updateRevision: rev2, currentReplicas: 1 });
    await settle();
    expect((await pod(client, 'app-0'))!.metadata.labels!['controller-revision-hash']).toBe(rev1); // below the partition

    // Partition 0 finishes the rollout; the update revision becomes current.
    await client.patch({ ...STS, namespace: 'default', name: 'app' }, 'merge', { spec: { updateStrategy: { rollingUpdate: { partition: 0 } } } });
    await eventually(async () => (await pod(client, 'app-0'))?.metadata.labels!['controller-revision-hash'] === rev2);
    await makeReady(client, 'app-0');
    const done = await eventually(async () => {
      const s = await getSts(client, 'app');
      return s.status?.currentRevision === rev2 && s;
    });
    expect(done.status).toMatchObject({ currentReplicas: 3, updatedReplicas: 3, updateRevision: rev2 });
  });

  it('leaves pods alone with OnDelete until they are deleted, and recreates failed pods', async () => {
    h = await harness([(ctx) => new StatefulSetController(ctx)]);
    const { client } = h;
    await client.create(statefulSet('od', 1, { updateStrategy: { type: 'OnDelete' } }));
    await eventually(() => pod(client, 'od-0'));
    await makeReady(client, 'od-0');
    const sts = await eventually(async () => {
      const s = await getSts(client, 'od');
      return s.status?.readyReplicas === 1 && s;
    });
    await client.patch({ ...STS, namespace: 'default', name: 'od' }, 'merge', { spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:1.26' }] } } } });
    await eventually(async () => (await getSts(client, 'od')).status?.updateRevision !== sts.status.currentRevision);
    await settle();
    expect((await pod(client, 'od-0'))!.spec.containers[0].image).toBe('nginx:1.25');

    const old = (await pod(client, 'od-0'))!;
    old.status = { ...old.status, phase: 'Failed' };
    await client.updateStatus(old);
    const fresh = await eventually(async () => {
      const p = await pod(client, 'od-0');
      return p && p.metadata.uid !== old.metadata.uid && p;
    });
    expect(fresh.spec.containers[0].image).toBe('nginx:1.26');
  });
});
