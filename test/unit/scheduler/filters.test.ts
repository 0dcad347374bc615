import { afterEach, describe, expect, it } from 'vitest';
import { boundNode, createAll, node, pod, setup, unschedulableMessage, type Env } from './helpers.ts';
import { SchedulerCache } from '../../../core/scheduler/cache.ts';
import { CycleState } from '../../../core/scheduler/framework.ts';
import * as nodeName from '../../../core/scheduler/plugins/node-name-plugin.ts';
import * as fit from '../../../core/scheduler/plugins/node-resources-fit-plugin.ts';

const NOT_HELPFUL = (n: number) => `preemption: 0/${n} nodes are available: ${n} Preemption is not helpful for scheduling.`;
const NO_VICTIMS = (n: number) => `preemption: 0/${n} nodes are available: ${n} No preemption victims found for incoming pod.`;

let env: Env | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

describe('filter plugins: reasons as kube-scheduler words them', () => {
  it('NodeUnschedulable: a cordoned node takes no pods unless they tolerate the unschedulable taint', async () => {
    env = await setup();
    await createAll(env.client, [node('node-1', { unschedulable: true })]);
    await env.client.create(pod('web'));
    expect(await unschedulableMessage(env.client, 'web')).toBe(`0/1 nodes are available: 1 node(s) were unschedulable. ${NOT_HELPFUL(1)}`);
    await env.client.create(
      pod('ds', { spec: { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] } }),
    );
    expect(await boundNode(env.client, 'ds')).toBe('node-1');
  });

  it('NodeName: a pod naming another node does not fit', () => {
    const cache = new SchedulerCache();
    const n = cache.addNode(node('node-1'));
    const plugin = nodeName.create();
    const pi = cache.podInfo(pod('p', { spec: { nodeName: 'node-2' } }));
    expect(plugin.filter!(new CycleState(), pi, n)?.reasons).toEqual(["node(s) didn't match the requested node name"]);
    expect(plugin.filter!(new CycleState(), cache.podInfo(pod('q', { spec: { nodeName: 'node-1' } })), n)).toBeNull();
  });

  it('NodeResourcesFit: cpu, memory, extended resources, ephemeral storage and pod count', async () => {
    env = await setup();
    await createAll(env.client, [node('node-1', { cpu: '1', memory: '1Gi', pods: '1', extra: { 'nvidia.com/gpu': '1' } })]);
    await env.client.create(pod('gpu', { cpu: '2', memory: '2Gi', extra: { 'nvidia.com/gpu': '2' } }));
    expect(await unschedulableMessage(env.client, 'gpu')).toBe(
      `0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, 1 Insufficient nvidia.com/gpu. ${NOT_HELPFUL(1)}`,
    );
    await env.client.create(pod('first', { cpu: '100m' }));
    expect(await boundNode(env.client, 'first')).toBe('node-1');
    await env.client.create(pod('second', { cpu: '100m' }));
    expect(await unschedulableMessage(env.client, 'second')).toBe(`0/1 nodes are available: 1 Too many pods. ${NO_VICTIMS(1)}`);
  });

  it('NodeResourcesFit: init containers count by their maximum, overhead adds, sidecars add up', () => {
    const cache = new SchedulerCache();
    const n = cache.addNode(node('node-1', { cpu: '2', memory: '4Gi' }));
    const plugin = fit.create();
    const withInit = (initCpu: string, appCpu: string, extra: Record<string, unknown> = {}) =>
      cache.podInfo({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'p', namespace: 'default' },
        spec: {
          initContainers: [{ name: 'init', image: 'x', resources: { requests: { cpu: initCpu } } }],
          containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: appCpu } } }],
          ...extra,
        },
      });
    // max(init 1500m, app 500m) = 1500m fits 2 cpus; init 2500m does not.
    expect(withInit('1500m', '500m').requests.milliCpu).toBe(1500);
    expect(plugin.filter!(new CycleState(), withInit('1500m', '500m'), n)).toBeNull();
    expect(plugin.filter!(new CycleState(), withInit('2500m', '500m'), n)?.reasons).toEqual(['Insufficient cpu']);
    // overhead: 1500m + 600m > 2
    expect(plugin.filter!(new CycleState(), withInit('1500m', '500m', { overhead: { cpu: '600m' } }), n)?.reasons).toEqual(['Insufficient cpu']);
    // a restartable (sidecar) init container runs alongside the app: 1 + 1.5
    const sidecar = cache.podInfo({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 's', namespace: 'default' },
      spec: {
        initContainers: [{ name: 'proxy', image: 'x', restartPolicy: 'Always', resources: { requests: { cpu: '1' } } }],
        containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: '1500m' } } }],
      },
    });
    expect(sidecar.requests.milliCpu).toBe(2500);
    // a request larger than the whole node cannot be helped by preemption
    expect(plugin.filter!(new CycleState(), withInit('2500m', '500m'), n)?.code).toBe('UnschedulableAndUnresolvable');
  });

  it('NodeResourcesFit: bound pods use up the node', async () => {
    env = await setup();
    await createAll(env.client, [node('node-1', { cpu: '1', memory: '1Gi' })]);
    await env.client.create(pod('a', { cpu: '600m' }));
    expect(await boundNode(env.client, 'a')).toBe('node-1');
    await env.client.create(pod('b', { cpu: '600m' }));
    expect(await unschedulableMessage(env.client, 'b')).toBe(`0/1 nodes are available: 1 Insufficient cpu. ${NO_VICTIMS(1)}`);
  });

  it('NodeAffinity: nodeSelector and required node affinity', async () => {
    env = await setup();
    await createAll(env.client, [node('node-1', { labels: { disk: 'hdd' } }), node('node-2', { labels: { disk: 'ssd', zone: 'b' } })]);
    await env.client.create(pod('sel', { spec: { nodeSelector: { disk: 'ssd' } } }));
    expect(await boundNode(env.client, 'sel')).toBe('node-2');
    const affinity = (op: string, values: string[]) => ({
      nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'disk', operator: op, values }] }] } },
    });
    await env.client.create(pod('aff', { spec: { affinity: affinity('NotIn', ['ssd']) } }));
    expect(await boundNode(env.client, 'aff')).toBe('node-1');
    await env.client.create(pod('none', { spec: { nodeSelector: { disk: 'nvme' } } }));
    expect(await unschedulableMessage(env.client, 'none')).toBe(
      `0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. ${NOT_HELPFUL(2)}`,
    );
  });

  it('TaintToleration: NoSchedule and NoExecute taints must be tolerated', async () => {
    env = await setup();
    await createAll(env.client, [
      node('node-1', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }),
      node('node-2', { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoExecute' }] }),
      node('node-3', { taints: [{ key: 'soft', value: 'x', effect: 'PreferNoSchedule' }], cpu: '100m' }),
    ]);
    await env.client.create(pod('plain', { cpu: '1' }));
    expect(await unschedulableMessage(env.client, 'plain')).toBe(
      '0/3 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {dedicated: gpu}, ' +
        `1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }. ${NOT_HELPFUL(3)}`,
    );
    await env.client.create(pod('tolerant', { cpu: '1', spec: { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] } }));
    expect(await boundNode(env.client, 'tolerant')).toBe('node-1');
  });

  it('NodePorts: a host port in use on the node', async () => {
    env = await setup();
    await createAll(env.client, [node('node-1')]);
    const withPort = (name: string, hostIP?: string) =>
      pod(name, { spec: { containers: [{ name: 'c', image: 'nginx', ports: [{ containerPort: 80, hostPort: 8080, ...(hostIP ? { hostIP } : {}) }] }] } });
    await env.client.create(withPort('a'));
    expect(await boundNode(env.client, 'a')).toBe('node-1');
    await env.client.create(withPort('b', '127.0.0.1'));
    expect(await unschedulableMessage(env.client, 'b')).toBe(
      `0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports. ${NO_VICTIMS(1)}`,
    );
  });

  it('InterPodAffinity: affinity, anti-affinity, and existing pods’ anti-affinity', async () => {
    env = await setup();
    await createAll(env.client, [node('node-1', { labels: { zone: 'a' } }), node('node-2', { labels: { zone: 'b' } })]);
    const term = (labels: Record<string, string>, topologyKey = 'zone') => ({ labelSelector: { matchLabels: labels }, topologyKey });
    // A pod with affinity to itself may start its group anywhere.
    await env.client.create(pod('db-0', { labels: { app: 'db' }, spec: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'db' })] } } } }));
    const dbNode = await boundNode(env.client, 'db-0');
    // Affinity to db: only the db's zone.
    await env.client.create(pod('api', { spec: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'db' })] } } } }));
    expect(await boundNode(env.client, 'api')).toBe(dbNode);
    // Affinity to something that does not exist.
    await env.client.create(pod('lonely', { spec: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'nothing' })] } } } }));
    expect(await unschedulableMessage(env.client, 'lonely')).toBe(`0/2 nodes are available: 2 node(s) didn't match pod affinity rules. ${NOT_HELPFUL(2)}`);
    // Anti-affinity to db: the other zone; a second one fits nowhere.
    const anti = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: 'db' })] } };
    await env.client.create(pod('cache', { spec: { affinity: anti } }));
    expect(await boundNode(env.client, 'cache')).not.toBe(dbNode);
    await env.client.create(pod('db-1', { labels: { app: 'db' }, spec: { nodeSelector: { zone: dbNode === 'node-1' ? 'b' : 'a' } } }));
    expect(await unschedulableMessage(env.client, 'db-1')).toBe(
      "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) didn't satisfy existing pods anti-affinity rules. " +
        'preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling.',
    );
    await env.client.create(pod('cache-2', { spec: { affinity: anti } }));
    await env.client.create(pod('db-2', { labels: { app: 'db' } }));
    expect(await boundNode(env.client, 'db-2')).toBe(dbNode);
  });

  it('PodTopologySpread: maxSkew and nodes missing the topology label', async () => {
    env = await setup();
    await createAll(env.client, [node('node-1', { labels: { zone: 'a' } }), node('node-2', { labels: { zone: 'b' } }), node('node-3')]);
    const spread = { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'web' } } }] };
    await env.client.create(pod('w0', { labels: { app: 'web' }, spec: { ...spread, nodeSelector: { zone: 'a' } } }));
    expect(await boundNode(env.client, 'w0')).toBe('node-1');
    // Zone b counts as a domain only when the node selector is ignored for spreading.
    const ignoring = { topologySpreadConstraints: [{ ...spread.topologySpreadConstraints[0], nodeAffinityPolicy: 'Ignore' }] };
    await env.client.create(pod('w1', { labels: { app: 'web' }, spec: { ...ignoring, nodeSelector: { zone: 'a' } } }));
    expect(await unschedulableMessage(env.client, 'w1')).toBe(
      "0/3 nodes are available: 1 node(s) didn't match pod topology spread constraints, " +
        "2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.",
    );
    await env.client.create(pod('w2', { labels: { app: 'web' }, spec: spread }));
    expect(await boundNode(env.client, 'w2')).toBe('node-2');
    await env.client.delete({ apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'w1' });
    await env.client.create(pod('w3', { labels: { app: 'web' }, spec: { ...spread, nodeSelector: { 'kubernetes.io/hostname': 'node-3' } } }));
    expect(await unschedulableMessage(env.client, 'w3')).toBe(
      "0/3 nodes are available: 1 node(s) didn't match pod topology spread constraints (missing required label), " +
        `2 node(s) didn't match Pod's node affinity/selector. ${NOT_HELPFUL(3)}`,
    );
  });

  it('VolumeBinding: a missing claim, a volume pinned to another node, and a claim that appears later', async () => {
    env = await setup();
    await createAll(env.client, [node('node-1'), node('node-2')]);
    const withClaim = (name: string, claim: string) =>
      pod(name, { spec: { volumes: [{ name: 'data', persistentVolumeClaim: { claimName: claim } }] } });
    await env.client.create(withClaim('app', 'data'));
    expect(await unschedulableMessage(env.client, 'app')).toBe(`0/2 nodes are available: persistentvolumeclaim "data" not found. ${NOT_HELPFUL(2)}`);
    // The claim appears (unbound): provisionable anywhere, and the pod is retried at once.
    await env.client.create({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'data', namespace: 'default' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    });
    const chosen = await boundNode(env.client, 'app');
    const pvc = await env.client.get({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: 'default', name: 'data' });
    expect(pvc.metadata.annotations?.['volume.kubernetes.io/selected-node']).toBe(chosen);
    // A claim bound to a volume that lives on node-2 only.
    await env.client.create({
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: 'pv-local' },
      spec: {
        capacity: { storage: '1Gi' },
        accessModes: ['ReadWriteOnce'],
        hostPath: { path: '/data' },
        claimRef: { namespace: 'default', name: 'local' },
        nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['node-2'] }] }] } },
      },
    });
    await env.client.create({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'local', namespace: 'default' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, volumeName: 'pv-local' },
    });
    await env.client.create(withClaim('pinned', 'local'));
    expect(await boundNode(env.client, 'pinned')).toBe('node-2');
    await env.client.create(withClaim('conflict', 'local'));
    // (same claim, fits node-2 again; now make node-2 unusable)
    expect(await boundNode(env.client, 'conflict')).toBe('node-2');
    await env.client.create(pod('elsewhere', { spec: { nodeSelector: { 'kubernetes.io/hostname': 'node-1' }, volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'local' } }] } }));
    expect(await unschedulableMessage(env.client, 'elsewhere')).toBe(
      "0/2 nodes are available: 1 node(s) didn't match PersistentVolume's node affinity, 1 node(s) didn't match Pod's node affinity/selector. " +
        NOT_HELPFUL(2),
    );
  });
});
