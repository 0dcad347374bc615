import { afterEach, describe, expect, it } from 'vitest';
import { IMAGE, harness, running, until, type Harness } from './harness.ts';

describe('node agent: Node, Lease, metrics (fake runtime)', () => {
  let h: Harness;
  afterEach(() => h.close());

  it('registers the Node with labels, taints, capacity and nodeInfo, and renews its Lease', async () => {
    h = await harness({
      leaseRenewIntervalMs: 50,
      capacity: { cpu: '4', memory: '8Gi', pods: '20', 'nvidia.com/gpu': '1' },
      labels: { 'topology.kubernetes.io/zone': 'desk-a' },
      taints: [{ key: 'gpu', value: 'true', effect: 'NoSchedule' }],
    });
    await h.agent.start();
    const node: any = await h.client.get({ apiVersion: 'v1', kind: 'Node', name: 'node-1' });
    expect(node.metadata.labels).toMatchObject({
      'kubernetes.io/hostname': 'node-1',
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'amd64',
      'topology.kubernetes.io/zone': 'desk-a',
    });
    expect(node.spec.taints).toEqual([{ key: 'gpu', value: 'true', effect: 'NoSchedule' }]);
    expect(node.status.capacity).toEqual({ cpu: '4', memory: '8Gi', pods: '20', 'nvidia.com/gpu': '1' });
    expect(node.status.allocatable).toEqual(node.status.capacity);
    expect(node.status.nodeInfo).toMatchObject({ kubeletVersion: 'v1.30.0-wheelhouse', containerRuntimeVersion: 'fake://0.0.0', operatingSystem: 'linux', architecture: 'amd64' });
    expect(node.status.addresses).toEqual([
      { type: 'InternalIP', address: '10.88.0.1' },
      { type: 'Hostname', address: 'node-1' },
    ]);
    expect(node.status.conditions.map((c: any) => `${c.type}=${c.status}:${c.reason}`)).toEqual([
      'MemoryPressure=False:KubeletHasSufficientMemory',
      'DiskPressure=False:KubeletHasNoDiskPressure',
      'PIDPressure=False:KubeletHasSufficientPID',
      'Ready=True:KubeletReady',
    ]);
    const lease = () => h.client.get<any>({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace: 'kube-node-lease', name: 'node-1' });
    const first = await lease();
    expect(first.spec).toMatchObject({ holderIdentity: 'node-1', leaseDurationSeconds: 40 });
    expect(first.spec.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(first.metadata.ownerReferences[0]).toMatchObject({ kind: 'Node', name: 'node-1', uid: node.metadata.uid });
    await until('lease renewed', async () => (await lease()).metadata.resourceVersion !== first.metadata.resourceVersion);
  });

  it('reports Ready=False while the engine is unreachable, and True when it is back', async () => {
    h = await harness({ nodeStatusUpdateIntervalMs: 50 });
    await h.agent.start();
    const ready = async () => ((await h.client.get<any>({ apiVersion: 'v1', kind: 'Node', name: 'node-1' })).status.conditions as any[]).find((c) => c.type === 'Ready');
    h.runtime.setAvailable(false);
    const down = await until('NotReady', async () => ((await ready()).status === 'False' ? ready() : undefined));
    expect(down.reason).toBe('KubeletNotReady');
    expect(down.message).toMatch(/^container runtime is down: cannot reach the Docker engine at fake:\/\//);
    expect(h.agent.ready).toBe(false);
    h.runtime.setAvailable(true);
    await until('Ready', async () => (await ready()).status === 'True');
  });

  it('resyncs every pod when the engine comes back (what died meanwhile is restarted)', async () => {
    h = await harness();
    await h.agent.start();
    await h.createPod('survivor', { containers: [{ name: 'c', image: IMAGE }] });
    await h.waitPod('survivor', running());
    h.runtime.setAvailable(false);
    h.runtime.exitContainer(h.containersOf('survivor')[0]!.id, 137);
    await new Promise((r) => setTimeout(r, 50));
    expect((await h.pod('survivor')).status.containerStatuses[0].restartCount).toBe(0);
    h.runtime.setAvailable(true);
    await h.waitPod('survivor', (p) => p.status.containerStatuses[0].restartCount === 1 && p.status.containerStatuses[0].state.running);
  });

  it('relists the engine periodically: syncs only the pod whose containers changed unseen', async () => {
    h = await harness({ resyncIntervalMs: 100, resyncIdleIntervalMs: 100, fullResyncIntervalMs: 60_000 });
    await h.agent.start();
    for (const n of ['quiet', 'victim']) await h.createPod(n, { containers: [{ name: 'c', image: IMAGE }] });
    await h.waitPod('quiet', running());
    await h.waitPod('victim', running());
    await new Promise((r) => setTimeout(r, 300));
    const podLoads = () => h.runtime.calls.filter((c) => c.method === 'listContainers' && (c.args[0] as any)?.podUid).map((c) => (c.args[0] as any).podUid as string);
    const relists = () => h.runtime.calls.filter((c) => c.method === 'listContainers' && !(c.args[0] as any)?.podUid).length;
    const loads0 = podLoads().length;
    const relists0 = relists();
    await new Promise((r) => setTimeout(r, 600));
    expect(relists() - relists0).toBeGreaterThanOrEqual(3);
    expect(podLoads().length - loads0, 'nothing changed: no pod is synced').toBe(0);
    // A container dies and its event is lost: the relist notices and only that pod is synced.
    const victim = await h.pod('victim');
    h.runtime.exitContainer(h.containersOf('victim')[0]!.id, 1, { silent: true });
    await h.waitPod('victim', (p) => p.status.containerStatuses[0].restartCount === 1 && p.status.containerStatuses[0].state.running, 'restart after a missed die event', 3000);
    expect(new Set(podLoads().slice(loads0))).toEqual(new Set([victim.metadata.uid]));
  });

  it('relists less often while the node is quiet, and at the short period again once something happens', async () => {
    h = await harness({ resyncIntervalMs: 100, resyncIdleIntervalMs: 400, fullResyncIntervalMs: 60_000 });
    await h.agent.start();
    await h.createPod('quiet', { containers: [{ name: 'c', image: IMAGE }] });
    await h.createPod('victim', { containers: [{ name: 'c', image: IMAGE }] });
    await h.waitPod('quiet', running());
    await h.waitPod('victim', running());
    const relists = () => h.runtime.calls.filter((c) => c.method === 'listContainers' && !(c.args[0] as any)?.podUid).length;
    // Quiet: 100 → 200 → 400 ms, then it stays at the longest period.
    await until('the relist period reaches its idle maximum', () => h.agent.relistIntervalMs === 400, 3000);
    const n0 = relists();
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, 1300));
    const quietRelists = relists() - n0;
    expect(quietRelists, `relists in ${Date.now() - t0} ms of quiet at 400 ms`).toBeGreaterThanOrEqual(2);
    expect(quietRelists).toBeLessThanOrEqual(4);
    // Something happens (a pod is added): back to the short period at once.
    await h.createPod('newcomer', { containers: [{ name: 'c', image: IMAGE }] });
    await until('the short period again', () => h.agent.relistIntervalMs === 100, 2000);
    await h.waitPod('newcomer', running());
    // A missed event on a quiet node is still found, within the longest period.
    await until('quiet again', () => h.agent.relistIntervalMs === 400, 3000);
    h.runtime.exitContainer(h.containersOf('victim')[0]!.id, 1, { silent: true });
    await h.waitPod('victim', (p) => p.status.containerStatuses[0].restartCount === 1 && p.status.containerStatuses[0].state.running, 'restart after a missed die event', 2000);
  });

  it('full resync: every pod is synced once fullResyncIntervalMs has passed, from what the relist saw', async () => {
    h = await harness({ resyncIntervalMs: 100, resyncIdleIntervalMs: 100, fullResyncIntervalMs: 300 });
    await h.agent.start();
    await h.createPod('quiet', { containers: [{ name: 'c', image: IMAGE }] });
    await h.waitPod('quiet', running());
    const uid = (await h.pod('quiet')).metadata.uid;
    const id = h.containersOf('quiet')[0]!.id;
    // Engine lookups for the pod: its own listing, or an inspect of its container.
    const lookups = () => h.runtime.calls.filter((c) => (c.method === 'listContainers' && (c.args[0] as any)?.podUid === uid) || (c.method === 'containerStatus' && c.args[0] === id)).length;
    const n0 = lookups();
    const synced0 = h.agent.syncedAt('default', 'quiet')!;
    await new Promise((r) => setTimeout(r, 1000));
    const synced1 = h.agent.syncedAt('default', 'quiet')!;
    expect(synced1 - synced0, 'synced again within 1 s at a 300 ms full resync').toBeGreaterThanOrEqual(300);
    // The engine holds nothing new for the pod: its syncs start from the last one's view.
    expect(lookups() - n0).toBe(0);
    const p = await h.pod('quiet');
    expect(p.status.phase).toBe('Running');
    expect(p.status.containerStatuses[0]).toMatchObject({ ready: true, restartCount: 0 });
    // An event between relists is looked at afresh: the container's exit is seen and it restarts.
    h.runtime.exitContainer(id, 1);
    await h.waitPod('quiet', (q) => q.status.containerStatuses[0].restartCount === 1 && q.status.containerStatuses[0].state.running, 'restart after a die event', 3000);
    expect(lookups() - n0).toBeGreaterThan(0);
  });

  it('samples usage per container, pod and node', async () => {
    h = await harness({ metrics: { intervalMs: 60_000 } });
    await h.agent.start();
    await h.createPod('busy', { containers: [{ name: 'a', image: IMAGE }, { name: 'b', image: IMAGE }] });
    await h.waitPod('busy', (p) => p.status?.containerStatuses?.every((c: any) => c.state.running));
    for (const c of h.containersOf('busy')) h.runtime.setStats(c.id, { cpuNanoCores: 250_000_000, memoryWorkingSetBytes: 10_000_000 });
    expect(h.agent.metrics.lastSampleAt()).toBe(0);
    await h.agent.metrics.sample();
    await h.agent.metrics.sample();
    const u = h.agent.metrics.podUsage('default', 'busy')!;
    expect(u.usage).toMatchObject({ cpuNanoCores: 500_000_000, memoryWorkingSetBytes: 20_000_000 });
    expect(u.containers.map((c) => c.name).sort()).toEqual(['a', 'b']);
    expect(u.history).toHaveLength(2);
    expect(h.agent.metrics.nodeUsage().usage.cpuNanoCores).toBe(500_000_000);
    // What the UI's metrics push checks each second for news: the newest sample's time.
    expect(h.agent.metrics.lastSampleAt()).toBe(u.history.at(-1)!.timestamp);
    expect(h.runtime.calls.filter((c) => c.method === 'containerStats')).toHaveLength(4);
  });

  it('two agents in one process each keep to their own node', async () => {
    h = await harness();
    const other = h.newAgent({ nodeName: 'node-2' });
    await h.agent.start();
    await other.start();
    await h.createPod('on1', { containers: [{ name: 'c', image: IMAGE }] });
    await h.createPod('on2', { nodeName: 'node-2', containers: [{ name: 'c', image: IMAGE }] });
    await h.waitPod('on1', running());
    await h.waitPod('on2', running());
    const byNode = (n: string) => [...h.runtime.sandboxes.values()].filter((s) => s.status.node === n).map((s) => s.status.podName);
    expect(byNode('node-1')).toEqual(['on1']);
    expect(byNode('node-2')).toEqual(['on2']);
    await other.remove();
    expect(byNode('node-2')).toEqual([]);
    expect(byNode('node-1')).toEqual(['on1']);
    await expect(h.client.get({ apiVersion: 'v1', kind: 'Node', name: 'node-2' })).rejects.toThrow(/not found/);
  });
});
