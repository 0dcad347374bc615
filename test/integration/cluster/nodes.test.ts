/**
 * Several local nodes on one engine: a DaemonSet follows a node added later, removing a node
 * moves its pods, and a node whose agent stops answering goes Unknown, gets the unreachable
 * taint, and its pods are evicted after their tolerationSeconds and replaced elsewhere.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UNREACHABLE_TAINT, NOT_READY_TAINT } from '../../../core/server/admission/default-toleration-seconds.ts';
import { LABEL } from '../../../core/runtime/runtime.ts';
import { BUSYBOX, deployment, docker, NODE, NS, setupCluster, type TestCluster } from './helpers.ts';

const CAPACITY = { cpu: '2', memory: '2Gi', pods: '110' };
const sleeper = { name: 'c', image: BUSYBOX, command: ['sleep', '3600'] };
/** One pod per node at most apart (tainted nodes are not domains, as with nodeTaintsPolicy Honor). */
const spread = (app: string) => ({
  topologySpreadConstraints: [
    { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', nodeTaintsPolicy: 'Honor', labelSelector: { matchLabels: { app } } },
  ],
});
const running = (p: any) => !p.metadata.deletionTimestamp && p.status?.phase === 'Running' && p.status.containerStatuses?.every((c: any) => c.state?.running);
/** Pods per node, as `node-1=2,node-2=2` (sorted, for comparison and messages). */
const countBy = (pods: any[]): string => {
  const m = new Map<string, number>();
  for (const p of pods) m.set(p.spec.nodeName, (m.get(p.spec.nodeName) ?? 0) + 1);
  return [...m].sort(([a], [b]) => a.localeCompare(b)).map(([n, c]) => `${n}=${c}`).join(',');
};

describe('cluster on Docker: nodes', () => {
  let tc: TestCluster;
  beforeAll(async () => {
    tc = await setupCluster('nodes', { controllers: { nodeMonitorGracePeriodSeconds: 3, nodeMonitorPeriodSeconds: 1 } });
  });
  afterAll(() => tc?.close());

  const ensureNode = async (name: string) => {
    if (!tc.cluster.agents.has(name)) await tc.cluster.addNode({ name, capacity: CAPACITY });
  };

  it('a DaemonSet follows a node added later', async () => {
    await tc.client.create({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent', namespace: NS },
      spec: {
        selector: { matchLabels: { app: 'agent' } },
        template: { metadata: { labels: { app: 'agent' } }, spec: { terminationGracePeriodSeconds: 1, containers: [sleeper] } },
      },
    });
    await tc.waitFor('a running daemon pod on node-1', async () => {
      const pods = (await tc.pods('app=agent')).filter(running);
      return pods.length === 1 && pods[0].spec.nodeName === 'node-1';
    }, 60_000);

    await tc.cluster.addNode({ name: 'node-2', capacity: CAPACITY });
    const pods = await tc.waitFor('a running daemon pod on node-1 and on node-2', async () => {
      const pods = (await tc.pods('app=agent')).filter(running);
      return pods.length === 2 && countBy(pods) === 'node-1=1,node-2=1' && pods;
    }, 60_000);
    // Pinned the DaemonSet way: required node affinity on metadata.name.
    const onNode2 = pods.find((p: any) => p.spec.nodeName === 'node-2');
    const terms = onNode2.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
    expect(terms[0].matchFields).toEqual([{ key: 'metadata.name', operator: 'In', values: ['node-2'] }]);
    const ds: any = await tc.waitFor('DaemonSet status: 2 desired, 2 ready', async () => {
      const ds: any = await tc.client.get({ apiVersion: 'apps/v1', kind: 'DaemonSet', namespace: NS, name: 'agent' });
      return ds.status?.desiredNumberScheduled === 2 && ds.status?.numberReady === 2 && ds;
    }, 20_000);
    expect(ds.status.currentNumberScheduled).toBe(2);
    expect(ds.status.numberMisscheduled ?? 0).toBe(0);
  });

  it('removing a node moves its pods to the other node', async () => {
    await ensureNode('node-2');
    await tc.client.create(deployment('moved', 4, { terminationGracePeriodSeconds: 1, containers: [sleeper], ...spread('moved') }));
    const before = await tc.waitFor('4 running pods of moved, 2 per node', async () => {
      const pods = (await tc.pods('app=moved')).filter(running);
      return pods.length === 4 && countBy(pods) === 'node-1=2,node-2=2' && pods;
    }, 60_000);
    const gone = before.filter((p: any) => p.spec.nodeName === 'node-2').map((p: any) => p.metadata.uid);

    const started = Date.now();
    await tc.cluster.removeNode('node-2');
    expect(tc.cluster.agents.has('node-2')).toBe(false);
    await expect(tc.client.get({ ...NODE, name: 'node-2' })).rejects.toMatchObject({ status: { reason: 'NotFound' } });
    const after = await tc.waitFor('4 running pods of moved, all on node-1, node-2 ones gone', async () => {
      const pods = await tc.pods('app=moved');
      return pods.length === 4 && pods.every((p) => running(p) && p.spec.nodeName === 'node-1') && pods;
    }, 60_000);
    const movedMs = Date.now() - started;
    for (const uid of gone) expect(after.map((p: any) => p.metadata.uid)).not.toContain(uid);
    // The node's containers went with it, and its daemon pod too.
    expect((await tc.pods('app=agent')).map((p) => p.spec.nodeName)).toEqual(['node-1']);
    const gc = await tc.events((e) => e.reason === 'PodGC' && e.involvedObject?.name?.startsWith('moved-'));
    expect(gc.length).toBeGreaterThanOrEqual(1);
    expect(gc[0].message).toMatch(/^Deleting pod default\/moved-\S+: its node node-2 no longer exists$/);
    console.log(`[nodes] pods of removed node-2 running on node-1 after ${movedMs} ms`);
  });

  it('a node that stops answering goes Unknown, is tainted unreachable, and its pods are evicted and replaced', async () => {
    await tc.cluster.addNode({ name: 'node-3', capacity: CAPACITY });
    const tolerations = [NOT_READY_TAINT, UNREACHABLE_TAINT].map((key) => ({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 2 }));
    await tc.client.create(deployment('lossy', 2, { terminationGracePeriodSeconds: 1, containers: [sleeper], tolerations, ...spread('lossy') }));
    const before = await tc.waitFor('2 running pods of lossy, one per node', async () => {
      const pods = (await tc.pods('app=lossy')).filter(running);
      return pods.length === 2 && countBy(pods) === 'node-1=1,node-3=1' && pods;
    }, 60_000);
    const lost = before.find((p: any) => p.spec.nodeName === 'node-3');
    // The tolerations were kept as given (DefaultTolerationSeconds adds nothing over them).
    expect(lost.spec.tolerations.filter((t: any) => t.key === UNREACHABLE_TAINT)).toEqual([{ key: UNREACHABLE_TAINT, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 2 }]);

    const stoppedAt = Date.now();
    await tc.cluster.agents.get('node-3')!.stop(); // containers keep running; nobody reports for node-3

    const node: any = await tc.waitFor('node-3 Ready=Unknown with the unreachable NoExecute taint', async () => {
      const n: any = await tc.client.get({ ...NODE, name: 'node-3' });
      const ready = n.status?.conditions?.find((c: any) => c.type === 'Ready');
      return ready?.status === 'Unknown' && n.spec?.taints?.some((t: any) => t.key === UNREACHABLE_TAINT && t.effect === 'NoExecute') && n;
    }, 30_000);
    const unknownMs = Date.now() - stoppedAt;
    const ready = node.status.conditions.find((c: any) => c.type === 'Ready');
    expect(ready).toMatchObject({ reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' });
    expect(node.spec.taints.map((t: any) => `${t.key}:${t.effect}`).sort()).toEqual([`${UNREACHABLE_TAINT}:NoExecute`, `${UNREACHABLE_TAINT}:NoSchedule`]);
    const taintedAt = Date.parse(node.spec.taints.find((t: any) => t.effect === 'NoExecute').timeAdded);

    const after = await tc.waitFor('the lost pod to be evicted and replaced by a running pod on node-1', async () => {
      const pods = await tc.pods('app=lossy');
      const evicted = pods.find((p) => p.metadata.uid === lost.metadata.uid);
      const live = pods.filter((p) => !p.metadata.deletionTimestamp);
      return (!evicted || evicted.metadata.deletionTimestamp) && live.length === 2 && live.every((p) => running(p) && p.spec.nodeName === 'node-1') && pods;
    }, 60_000);
    const replacedMs = Date.now() - stoppedAt;

    const ev: any = await tc.waitFor('a TaintManagerEviction event for the lost pod', async () => {
      const evs = await tc.events((e) => e.reason === 'TaintManagerEviction' && e.involvedObject?.name === lost.metadata.name);
      return evs[0];
    }, 10_000);
    expect(ev.message).toBe(`Marking for deletion Pod default/${lost.metadata.name}`);
    // Evicted no earlier than its 2 s toleration after the taint (timestamps have 1 s resolution).
    expect(Date.parse(ev.firstTimestamp ?? ev.lastTimestamp) - taintedAt).toBeGreaterThanOrEqual(1_000);
    // Nobody finishes the deletion on the silent node: the pod stays Terminating there, as in Kubernetes.
    const evicted = after.find((p: any) => p.metadata.uid === lost.metadata.uid);
    if (evicted) expect(evicted.spec.nodeName).toBe('node-3');
    // The daemon pod tolerates unreachable nodes forever: it is not evicted.
    const daemon = (await tc.pods('app=agent')).find((p) => p.spec.nodeName === 'node-3');
    expect(daemon?.metadata.deletionTimestamp).toBeUndefined();
    const notReady = await tc.events((e) => e.reason === 'NodeNotReady' && e.involvedObject?.name === 'node-3');
    expect(notReady[0]?.message).toBe('Node node-3 status is now: NodeNotReady');
    console.log(`[nodes] node-3 Unknown after ${unknownMs} ms; pod replaced on node-1 after ${replacedMs} ms`);

    // The node comes back: Ready again, the evicted pod's deletion finished, nothing duplicated.
    await tc.cluster.restartNode('node-3');
    await tc.waitFor('node-3 Ready again without the unreachable taints', async () => {
      const n: any = await tc.client.get({ ...NODE, name: 'node-3' });
      const r = n.status?.conditions?.find((c: any) => c.type === 'Ready');
      return r?.status === 'True' && !(n.spec?.taints ?? []).some((t: any) => t.key === UNREACHABLE_TAINT) && n;
    }, 30_000);
    const settled = await tc.waitFor('the evicted pod gone and 2 lossy pods running', async () => {
      const pods = await tc.pods('app=lossy');
      return pods.length === 2 && pods.every(running) && !pods.some((p) => p.metadata.uid === lost.metadata.uid) && pods;
    }, 60_000);
    const lossyContainers = async () => {
      const all = await docker.listContainers({ filters: { label: [`${LABEL.cluster}=${tc.name}`], status: ['running'] } });
      return all.filter((c) => c.Labels[LABEL.containerName] && settled.some((p: any) => p.metadata.uid === c.Labels[LABEL.podUid]));
    };
    expect((await lossyContainers()).length).toBe(2);
    const stale = await docker.listContainers({ all: true, filters: { label: [`${LABEL.cluster}=${tc.name}`, `${LABEL.podUid}=${lost.metadata.uid}`] } });
    expect(stale.filter((c) => c.State === 'running')).toEqual([]);
    // The daemon pod on node-3 was adopted, not started twice.
    const daemonPod = (await tc.pods('app=agent')).find((p) => p.spec.nodeName === 'node-3');
    const daemonRunning = await docker.listContainers({ filters: { label: [`${LABEL.cluster}=${tc.name}`, `${LABEL.podUid}=${daemonPod.metadata.uid}`], status: ['running'] } });
    expect(daemonRunning.filter((c) => c.Labels[LABEL.containerName]).length).toBe(1);
  });
});
