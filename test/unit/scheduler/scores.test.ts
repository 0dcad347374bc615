import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../core/api/types.ts';
import { SchedulerCache } from '../../../core/scheduler/cache.ts';
import { CycleState, type Handle, type Listers, type PluginModule } from '../../../core/scheduler/framework.ts';
import type { NodeInfo } from '../../../core/scheduler/node-info.ts';
import * as fit from '../../../core/scheduler/plugins/node-resources-fit-plugin.ts';
import * as balanced from '../../../core/scheduler/plugins/node-resources-balanced-allocation-plugin.ts';
import * as imageLocality from '../../../core/scheduler/plugins/image-locality-plugin.ts';
import * as taints from '../../../core/scheduler/plugins/taint-toleration-plugin.ts';
import * as nodeAffinity from '../../../core/scheduler/plugins/node-affinity-plugin.ts';
import * as interPod from '../../../core/scheduler/plugins/inter-pod-affinity-plugin.ts';
import * as spread from '../../../core/scheduler/plugins/pod-topology-spread-plugin.ts';
import { boundNode, createAll, node, pod, setup, type Env } from './helpers.ts';

const listers = (over: Partial<Listers> = {}): Listers => ({
  pvc: () => undefined,
  pv: () => undefined,
  namespaceLabels: () => undefined,
  services: () => [],
  controller: () => undefined,
  ...over,
});

/** Runs one score plugin over the cache's nodes: normalized scores by node name. */
function scores(mod: PluginModule, cache: SchedulerCache, p: KubeObject, l: Listers = listers()): Record<string, number> {
  const handle: Handle = { cache, listers: l };
  const plugin = mod.create(handle);
  const pi = cache.podInfo(p);
  const nodes: NodeInfo[] = cache.nodeList();
  const state = new CycleState();
  const pre = plugin.preScore?.(state, pi, nodes);
  const out = nodes.map((n) => (pre?.code === 'Skip' ? 0 : plugin.score!(state, pi, n)));
  if (pre?.code !== 'Skip') plugin.normalizeScore?.(state, pi, out, nodes);
  return Object.fromEntries(nodes.map((n, i) => [n.name, out[i]!]));
}

function bound(p: KubeObject, nodeName: string): KubeObject {
  return { ...p, spec: { ...p.spec, nodeName } };
}

describe('score plugins order nodes as kube-scheduler does', () => {
  it('NodeResourcesFit (LeastAllocated): the emptier node scores higher', () => {
    const cache = new SchedulerCache();
    cache.addNode(node('busy', { cpu: '4', memory: '8Gi' }));
    cache.addNode(node('idle', { cpu: '4', memory: '8Gi' }));
    cache.addPod(bound(pod('x', { cpu: '2', memory: '4Gi' }), 'busy'));
    const s = scores(fit, cache, pod('p', { cpu: '1', memory: '1Gi' }));
    // idle: cpu (4000-1000)*100/4000 = 75, memory (8-1)/8 = 87 → 81; busy: 25, 37 → 31
    expect(s).toEqual({ busy: 31, idle: 81 });
    // containers without requests count as 100m / 200Mi
    expect(scores(fit, cache, pod('q'))).toEqual({ busy: 47, idle: 97 });
  });

  it('NodeResourcesBalancedAllocation: equal cpu and memory fractions score higher', () => {
    const cache = new SchedulerCache();
    cache.addNode(node('cpu-heavy', { cpu: '4', memory: '8Gi' }));
    cache.addNode(node('even', { cpu: '4', memory: '8Gi' }));
    cache.addPod(bound(pod('x', { cpu: '3', memory: '1Gi' }), 'cpu-heavy'));
    cache.addPod(bound(pod('y', { cpu: '1', memory: '2Gi' }), 'even'));
    const s = scores(balanced, cache, pod('p', { cpu: '1', memory: '2Gi' }));
    // cpu-heavy: 4/4 vs 3/8 → 100 - 31.25 = 68; even: 2/4 vs 4/8 → 100
    expect(s).toEqual({ 'cpu-heavy': 68, even: 100 });
  });

  it('ImageLocality: the node that has the (big) image scores higher, scaled by spread', () => {
    const cache = new SchedulerCache();
    const mb = 1024 * 1024;
    cache.addNode(node('has', { images: [{ names: ['docker.io/library/postgres:16'], sizeBytes: 400 * mb }] }));
    cache.addNode(node('hasnt'));
    const s = scores(imageLocality, cache, pod('p', { image: 'docker.io/library/postgres:16' }));
    // 400MB × (1 of 2 nodes) = 200MB → 100 × (200 - 23) / (1000 - 23) = 18
    expect(s).toEqual({ has: 18, hasnt: 0 });
    // An image no node has: nothing to prefer.
    expect(scores(imageLocality, cache, pod('q', { image: 'nginx' }))).toEqual({ has: 0, hasnt: 0 });
  });

  it('TaintToleration: fewer untolerated PreferNoSchedule taints is better', () => {
    const cache = new SchedulerCache();
    cache.addNode(node('two', { taints: [{ key: 'a', effect: 'PreferNoSchedule' }, { key: 'b', effect: 'PreferNoSchedule' }] }));
    cache.addNode(node('one', { taints: [{ key: 'a', effect: 'PreferNoSchedule' }] }));
    cache.addNode(node('none'));
    expect(scores(taints, cache, pod('p'))).toEqual({ two: 0, one: 50, none: 100 });
    const tolerant = pod('t', { spec: { tolerations: [{ key: 'a', operator: 'Exists' }] } });
    expect(scores(taints, cache, tolerant)).toEqual({ two: 0, one: 100, none: 100 });
  });

  it('NodeAffinity: preferred terms add their weights', () => {
    const cache = new SchedulerCache();
    cache.addNode(node('ssd-fast', { labels: { disk: 'ssd', cpu: 'fast' } }));
    cache.addNode(node('ssd', { labels: { disk: 'ssd' } }));
    cache.addNode(node('hdd', { labels: { disk: 'hdd' } }));
    const pref = (weight: number, key: string, value: string) => ({ weight, preference: { matchExpressions: [{ key, operator: 'In', values: [value] }] } });
    const p = pod('p', { spec: { affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [pref(80, 'disk', 'ssd'), pref(20, 'cpu', 'fast')] } } } });
    expect(scores(nodeAffinity, cache, p)).toEqual({ 'ssd-fast': 100, ssd: 80, hdd: 0 });
  });

  it('InterPodAffinity: preferred affinity pulls towards, anti-affinity pushes away', () => {
    const cache = new SchedulerCache();
    cache.addNode(node('a1', { labels: { zone: 'a' } }));
    cache.addNode(node('a2', { labels: { zone: 'a' } }));
    cache.addNode(node('b1', { labels: { zone: 'b' } }));
    cache.addPod(bound(pod('db', { labels: { app: 'db' } }), 'a1'));
    cache.addPod(bound(pod('web', { labels: { app: 'web' } }), 'b1'));
    const term = (weight: number, app: string) => ({ weight, podAffinityTerm: { labelSelector: { matchLabels: { app } }, topologyKey: 'zone' } });
    const near = pod('p', { spec: { affinity: { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [term(10, 'db')] } } } });
    expect(scores(interPod, cache, near)).toEqual({ a1: 100, a2: 100, b1: 0 });
    const away = pod('q', { spec: { affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [term(10, 'web')] } } } });
    expect(scores(interPod, cache, away)).toEqual({ a1: 100, a2: 100, b1: 0 });
    // Existing pods' preferences count too (symmetry): a pod that wants to be near app=cache.
    cache.addPod(bound(pod('wants-cache', { spec: { affinity: { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [term(5, 'cache')] } } } }), 'b1'));
    expect(scores(interPod, cache, pod('c', { labels: { app: 'cache' } }))).toEqual({ a1: 0, a2: 0, b1: 100 });
  });

  it('PodTopologySpread: the domain with fewer matching pods scores higher (ScheduleAnyway and cluster defaults)', () => {
    const cache = new SchedulerCache();
    for (const [n, z] of [['a1', 'a'], ['a2', 'a'], ['b1', 'b']]) cache.addNode(node(n!, { labels: { zone: z! } }));
    cache.addPod(bound(pod('w1', { labels: { app: 'web' } }), 'a1'));
    cache.addPod(bound(pod('w2', { labels: { app: 'web' } }), 'a2'));
    const soft = pod('p', {
      labels: { app: 'web' },
      spec: { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { app: 'web' } } }] },
    });
    const s = scores(spread, cache, soft);
    expect(s.b1).toBe(100);
    expect(s.a1).toBeLessThan(s.b1!);
    expect(s.a1).toBe(s.a2);
    // No constraints: the cluster defaults spread a ReplicaSet's pods over hostnames.
    const rs: KubeObject = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web-1', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'web' } } } };
    const owned = pod('r', { labels: { app: 'web' } });
    owned.metadata.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-1', uid: 'u', controller: true }];
    const d = scores(spread, cache, owned, listers({ controller: (kind, _ns, name) => (kind === 'ReplicaSet' && name === 'web-1' ? rs : undefined) }));
    expect(d.b1).toBe(100);
    expect(d.a1).toBeLessThan(100);
    // Without an owner or service there is nothing to spread.
    expect(scores(spread, cache, pod('lone', { labels: { app: 'web' } }))).toEqual({ a1: 0, a2: 0, b1: 0 });
  });
});

describe('scoring end to end', () => {
  let env: Env | undefined;
  afterEach(async () => {
    await env?.close();
    env = undefined;
  });

  it('picks the node preferred by node affinity, and spreads replicas by least allocation', async () => {
    env = await setup();
    await createAll(env.client, [node('node-1'), node('node-2', { labels: { disk: 'ssd' } }), node('node-3')]);
    const p = pod('pref', {
      spec: { affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, preference: { matchExpressions: [{ key: 'disk', operator: 'Exists' }] } }] } } },
    });
    await env.client.create(p);
    expect(await boundNode(env.client, 'pref')).toBe('node-2');
    for (let i = 0; i < 6; i++) await env.client.create(pod(`r${i}`, { cpu: '1', memory: '1Gi' }));
    const placed = await Promise.all(Array.from({ length: 6 }, (_, i) => boundNode(env!.client, `r${i}`)));
    const perNode = placed.reduce<Record<string, number>>((m, n) => ({ ...m, [n]: (m[n] ?? 0) + 1 }), {});
    expect(perNode).toEqual({ 'node-1': 2, 'node-2': 2, 'node-3': 2 });
  });
});
