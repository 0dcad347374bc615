import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../core/api/types.ts';
import type { InProcessClient } from '../../../core/client/in-process-client.ts';
import { DaemonSetController } from '../../../core/controllers/daemonset-controller.ts';
import { targetNodeName } from '../../../core/controllers/daemonset/placement.ts';
import { eventually, harness } from './helpers.ts';

const DS = { apiVersion: 'apps/v1', kind: 'DaemonSet' };
const POD = { apiVersion: 'v1', kind: 'Pod' };
const NODE = { apiVersion: 'v1', kind: 'Node' };
const settle = (ms = 100) => new Promise((r) => setTimeout(r, ms));

function daemonSet(name: string, extra: Record<string, unknown> = {}, podSpec: Record<string, unknown> = {}): KubeObject {
  return {
    ...DS,
    metadata: { name, namespace: 'default' },
    spec: {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'agent', image: 'agent:1' }], ...podSpec } },
      ...extra,
    },
  } as KubeObject;
}

function node(name: string, labels: Record<string, string> = {}, taints: unknown[] = []): KubeObject {
  return { ...NODE, metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } }, spec: taints.length ? { taints } : {} } as KubeObject;
}

async function daemonPods(client: InProcessClient): Promise<KubeObject[]> {
  return (await client.list(POD, { namespace: 'default' })).items.filter((p) => !p.metadata.deletionTimestamp);
}

/** Pod name by the node it is pinned to. */
async function podsByNode(client: InProcessClient): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const p of await daemonPods(client)) out[targetNodeName(p)!] = p.metadata.name!;
  return out;
}

async function nodesWithPods(client: InProcessClient): Promise<string> {
  return Object.keys(await podsByNode(client)).sort().join(',');
}

/** The scheduler binds the pod to its pinned node; the node agent reports it Running and Ready. */
async function runPod(client: InProcessClient, pod: KubeObject): Promise<void> {
  if (!pod.spec.nodeName) await client.bind({ namespace: 'default', name: pod.metadata.name! }, targetNodeName(pod)!);
  const p = await client.get({ ...POD, namespace: 'default', name: pod.metadata.name! });
  p.status = { ...p.status, phase: 'Running', conditions: [...(p.status?.conditions ?? []), { type: 'Ready', status: 'True', lastTransitionTime: new Date().toISOString() }] };
  await client.updateStatus(p);
}

/** The node agent finishing graceful deletions (bound pods wait for it). */
async function finishDeletions(client: InProcessClient): Promise<void> {
  for (const p of (await client.list(POD, { namespace: 'default' })).items) {
    if (p.metadata.deletionTimestamp) await client.delete({ ...POD, namespace: 'default', name: p.metadata.name! }, { gracePeriodSeconds: 0 }).catch(() => undefined);
  }
}

async function getDs(client: InProcessClient, name: string): Promise<KubeObject> {
  return client.get({ ...DS, namespace: 'default', name });
}

describe('DaemonSetController', () => {
  let h: Awaited<ReturnType<typeof harness>>;
  afterEach(async () => h?.close());

  it('runs one pod per node, pinned by node affinity with the DaemonSet tolerations, and follows nodes coming and going', async () => {
    h = await harness([(ctx) => new DaemonSetController(ctx)]);
    const { client } = h;
    await client.create(node('n1'));
    await client.create(daemonSet('agent'));

    const [pod] = await eventually(async () => {
      const pods = await daemonPods(client);
      return pods.length === 1 && pods;
    });
    expect(pod!.metadata.generateName).toBe('agent-');
    expect(pod!.spec.nodeName).toBeUndefined(); // the scheduler binds it
    expect(pod!.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms).toEqual([
      { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] },
    ]);
    const tolerations = pod!.spec.tolerations.map((t: any) => `${t.key}:${t.effect}`);
    expect(tolerations).toEqual(
      expect.arrayContaining([
        'node.kubernetes.io/not-ready:NoExecute',
        'node.kubernetes.io/unreachable:NoExecute',
        'node.kubernetes.io/disk-pressure:NoSchedule',
        'node.kubernetes.io/memory-pressure:NoSchedule',
        'node.kubernetes.io/pid-pressure:NoSchedule',
        'node.kubernetes.io/unschedulable:NoSchedule',
      ]),
    );
    expect(pod!.metadata.labels!['controller-revision-hash']).toMatch(/^[a-z0-9]+$/);

    await client.create(node('n2'));
    await eventually(async () => (await nodesWithPods(client)) === 'n1,n2');
    for (const p of await daemonPods(client)) await runPod(client, p);
    const ds = await eventually(async () => {
      const d = await getDs(client, 'agent');
      return d.status?.numberReady === 2 && d;
    });
    expect(ds.status).toMatchObject({
      desiredNumberScheduled: 2, currentNumberScheduled: 2, numberReady: 2, numberAvailable: 2, updatedNumberScheduled: 2, numberMisscheduled: 0,
      numberUnavailable: 0, observedGeneration: 1,
    });

    // A node that goes away: its (unbound) pod is deleted; a bound one is left to the pod GC.
    await client.create(node('n3'));
    await eventually(async () => (await nodesWithPods(client)) === 'n1,n2,n3');
    await client.delete({ ...NODE, name: 'n3' });
    await eventually(async () => (await nodesWithPods(client)) === 'n1,n2');
    await eventually(async () => (await getDs(client, 'agent')).status?.desiredNumberScheduled === 2);
  });

  it('respects nodeSelector and taints, and follows label changes', async () => {
    h = await harness([(ctx) => new DaemonSetController(ctx)]);
    const { client } = h;
    await client.create(node('ssd-1', { disk: 'ssd' }));
    await client.create(node('hdd-1', { disk: 'hdd' }));
    await client.create(node('ssd-tainted', { disk: 'ssd' }, [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }]));
    await client.create(node('ssd-notready', { disk: 'ssd' }, [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }]));
    await client.create(daemonSet('ssd', {}, { nodeSelector: { disk: 'ssd' } }));

    await eventually(async () => (await nodesWithPods(client)) === 'ssd-1,ssd-notready');
    await settle();
    expect(await nodesWithPods(client)).toBe('ssd-1,ssd-notready'); // not hdd-1, not the untolerated taint

    // A toleration for the taint lets it run there too.
    await client.patch({ ...DS, namespace: 'default', name: 'ssd' }, 'merge', {
      spec: { template: { spec: { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' }] } } },
    });
    await eventually(async () => (await nodesWithPods(client)) === 'ssd-1,ssd-notready,ssd-tainted');

    // Relabelling: hdd-1 becomes ssd (gets a pod), ssd-1 stops being one (its pod goes).
    await client.patch({ ...NODE, name: 'hdd-1' }, 'merge', { metadata: { labels: { disk: 'ssd' } } });
    await client.patch({ ...NODE, name: 'ssd-1' }, 'merge', { metadata: { labels: { disk: 'nvme' } } });
    await eventually(async () => (await nodesWithPods(client)) === 'hdd-1,ssd-notready,ssd-tainted');

    // A NoExecute taint it does not tolerate evicts a running pod.
    await client.patch({ ...NODE, name: 'hdd-1' }, 'merge', { spec: { taints: [{ key: 'maintenance', effect: 'NoExecute' }] } });
    await eventually(async () => (await nodesWithPods(client)) === 'ssd-notready,ssd-tainted');
  });

  it('rolls an update one node at a time (maxUnavailable 1), keeping history as ControllerRevisions', async () => {
    h = await harness([(ctx) => new DaemonSetController(ctx)]);
    const { client } = h;
    for (const n of ['n1', 'n2', 'n3']) await client.create(node(n));
    await client.create(daemonSet('roll'));
    await eventually(async () => (await daemonPods(client)).length === 3);
    for (const p of await daemonPods(client)) await runPod(client, p);
    const before = await eventually(async () => {
      const d = await getDs(client, 'roll');
      return d.status?.numberAvailable === 3 && d;
    });
    const oldHash = (await daemonPods(client))[0]!.metadata.labels!['controller-revision-hash'];

    await client.patch({ ...DS, namespace: 'default', name: 'roll' }, 'merge', {
      spec: { template: { spec: { containers: [{ name: 'agent', image: 'agent:2' }] } } },
    });
    const imageOf = async () => (await daemonPods(client)).map((p) => p.spec.containers[0].image).sort();
    const first = await eventually(async () => {
      await finishDeletions(client);
      const pods = await daemonPods(client);
      const fresh = pods.filter((p) => p.spec.containers[0].image === 'agent:2');
      return fresh.length === 1 && pods.length === 3 && fresh[0];
    });
    await settle();
    expect(await imageOf()).toEqual(['agent:1', 'agent:1', 'agent:2']); // the next waits for this one
    expect(first.metadata.labels!['controller-revision-hash']).not.toBe(oldHash);

    await runPod(client, first);
    await eventually(async () => {
      await finishDeletions(client);
      return (await imageOf()).join() === 'agent:1,agent:2,agent:2';
    });
    for (const p of await daemonPods(client)) if (!p.status?.conditions?.some((c: any) => c.type === 'Ready')) await runPod(client, p);
    await eventually(async () => {
      await finishDeletions(client);
      return (await imageOf()).join() === 'agent:2,agent:2,agent:2';
    });
    for (const p of await daemonPods(client)) if (!p.status?.conditions?.some((c: any) => c.type === 'Ready')) await runPod(client, p);
    const after = await eventually(async () => {
      const d = await getDs(client, 'roll');
      return d.status?.updatedNumberScheduled === 3 && d.status?.numberAvailable === 3 && d;
    });
    expect(after.metadata.generation).toBe(before.metadata.generation! + 1);
    expect(after.status.observedGeneration).toBe(after.metadata.generation);
    const revisions = (await client.list({ apiVersion: 'apps/v1', kind: 'ControllerRevision' }, { namespace: 'default' })).items;
    expect(revisions.map((r) => r.revision).sort()).toEqual([1, 2]);
    expect(revisions.map((r) => r.metadata.name).sort()).toEqual([`roll-${oldHash}`, `roll-${first.metadata.labels!['controller-revision-hash']}`].sort());
  });

  it('surges a new pod next to the old one with maxSurge, removing the old one once the new is available', async () => {
    h = await harness([(ctx) => new DaemonSetController(ctx)]);
    const { client } = h;
    await client.create(node('n1'));
    await client.create(daemonSet('surge', { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } }));
    const [old] = await eventually(async () => {
      const pods = await daemonPods(client);
      return pods.length === 1 && pods;
    });
    await runPod(client, old!);
    await eventually(async () => (await getDs(client, 'surge')).status?.numberAvailable === 1);
    await client.patch({ ...DS, namespace: 'default', name: 'surge' }, 'merge', {
      spec: { template: { spec: { containers: [{ name: 'agent', image: 'agent:2' }] } } },
    });
    const fresh = await eventually(async () => (await daemonPods(client)).find((p) => p.spec.containers[0].image === 'agent:2'));
    await settle();
    expect((await daemonPods(client)).map((p) => p.metadata.name).sort()).toEqual([old!.metadata.name, fresh.metadata.name].sort());
    await runPod(client, fresh);
    await eventually(async () => {
      await finishDeletions(client);
      const pods = await daemonPods(client);
      return pods.length === 1 && pods[0]!.metadata.uid === fresh.metadata.uid;
    });
  });

  it('leaves old pods in place with OnDelete, replacing only deleted ones', async () => {
    h = await harness([(ctx) => new DaemonSetController(ctx)]);
    const { client } = h;
    for (const n of ['n1', 'n2']) await client.create(node(n));
    await client.create(daemonSet('od', { updateStrategy: { type: 'OnDelete' } }));
    await eventually(async () => (await daemonPods(client)).length === 2);
    await client.patch({ ...DS, namespace: 'default', name: 'od' }, 'merge', {
      spec: { template: { spec: { containers: [{ name: 'agent', image: 'agent:2' }] } } },
    });
    await eventually(async () => (await getDs(client, 'od')).status?.observedGeneration === 2);
    await settle();
    const pods = await daemonPods(client);
    expect(pods.map((p) => p.spec.containers[0].image)).toEqual(['agent:1', 'agent:1']);
    await client.delete({ ...POD, namespace: 'default', name: pods[0]!.metadata.name! });
    await eventually(async () => (await daemonPods(client)).map((p) => p.spec.containers[0].image).sort().join() === 'agent:1,agent:2');
  });

  it('replaces a failed pod', async () => {
    h = await harness([(ctx) => new DaemonSetController(ctx)]);
    const { client } = h;
    await client.create(node('n1'));
    await client.create(daemonSet('f'));
    const [pod] = await eventually(async () => {
      const pods = await daemonPods(client);
      return pods.length === 1 && pods;
    });
    await client.bind({ namespace: 'default', name: pod!.metadata.name! }, 'n1');
    const p = await client.get({ ...POD, namespace: 'default', name: pod!.metadata.name! });
    p.status = { ...p.status, phase: 'Failed' };
    await client.updateStatus(p);
    await eventually(async () => {
      const pods = await daemonPods(client);
      return pods.length === 1 && pods[0]!.metadata.uid !== pod!.metadata.uid;
    });
  });
});
