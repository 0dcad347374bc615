import { afterEach, describe, expect, it } from 'vitest';
import { boundNode, createAll, eventually, events, getPod, node, pod, setup, unschedulableMessage, type Env } from './helpers.ts';
import { fitErrorMessage, Status } from '../../../core/scheduler/framework.ts';

let env: Env | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

const pc = (name: string, value: number, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'scheduling.k8s.io/v1',
  kind: 'PriorityClass',
  metadata: { name },
  value,
  ...extra,
});

describe('the aggregated "0/N nodes are available" message', () => {
  it('counts reasons per node and sorts them as strings, as kube-scheduler does', () => {
    const statuses = new Map([
      ['n1', Status.unschedulable('Insufficient memory')],
      ['n2', Status.unschedulable('Insufficient memory')],
      ['n3', Status.unresolvable('node(s) had untolerated taint {k: v}')],
    ]);
    expect(fitErrorMessage(3, statuses)).toBe('0/3 nodes are available: 1 node(s) had untolerated taint {k: v}, 2 Insufficient memory.');
    expect(fitErrorMessage(3, new Map(), { preFilterMsg: 'persistentvolumeclaim "x" not found', postFilterMsg: 'preemption: …' })).toBe(
      '0/3 nodes are available: persistentvolumeclaim "x" not found. preemption: …',
    );
  });

  it('is written to PodScheduled and a FailedScheduling event, with the preemption part', async () => {
    env = await setup();
    await createAll(env.client, [node('node-1', { memory: '2Gi' }), node('node-2', { memory: '2Gi' }), node('node-3', { taints: [{ key: 'k', value: 'v', effect: 'NoSchedule' }] })]);
    await env.client.create(pod('fill-1', { memory: '1536Mi', spec: { nodeName: 'node-1' } }));
    await env.client.create(pod('fill-2', { memory: '1536Mi', spec: { nodeName: 'node-2' } }));
    await env.client.create(pod('web-1', { memory: '1Gi' }));
    const msg =
      '0/3 nodes are available: 1 node(s) had untolerated taint {k: v}, 2 Insufficient memory. ' +
      'preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.';
    expect(await unschedulableMessage(env.client, 'web-1')).toBe(msg);
    const p = await getPod(env.client, 'web-1');
    expect(p.status.conditions.find((c: any) => c.type === 'PodScheduled')).toMatchObject({ status: 'False', reason: 'Unschedulable', message: msg });
    await env.scheduler.idle();
    await env.recorder.flush();
    const evs = await events(env.client, 'web-1', 'FailedScheduling');
    expect(evs).toHaveLength(1);
    expect(evs[0]).toMatchObject({ type: 'Warning', message: msg, source: { component: 'default-scheduler' } });
  });
});

describe('Scheduler', () => {
  it('keeps a pod too big for every node Pending (no busy loop), then schedules it when a big enough node appears', async () => {
    env = await setup();
    await createAll(env.client, [node('node-1', { memory: '4Gi' }), node('node-2', { memory: '4Gi' })]);
    await env.client.create(pod('big', { memory: '16Gi' }));
    expect(await unschedulableMessage(env.client, 'big')).toBe(
      '0/2 nodes are available: 2 Insufficient memory. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.',
    );
    await env.scheduler.idle();
    const cycles = env.scheduler.cycleCount;
    // A node that is still too small, a label change: the pod is not retried.
    await env.client.create(node('node-3', { memory: '8Gi' }));
    await env.client.patch({ apiVersion: 'v1', kind: 'Node', name: 'node-1' }, 'merge', { metadata: { labels: { tier: 'x' } } });
    await new Promise((r) => setTimeout(r, 300));
    expect(env.scheduler.cycleCount).toBe(cycles);
    expect(env.scheduler.queue.lengths.unschedulable).toBe(1);
    await env.client.create(node('node-big', { memory: '32Gi' }));
    expect(await boundNode(env.client, 'big')).toBe('node-big');
    const p = await getPod(env.client, 'big');
    expect(p.status.conditions.find((c: any) => c.type === 'PodScheduled')).toMatchObject({ status: 'True' });
    await env.scheduler.idle();
    await env.recorder.flush();
    const scheduled = await events(env.client, 'big', 'Scheduled');
    expect(scheduled.map((e) => e.message)).toEqual(['Successfully assigned default/big to node-big']);
    expect(scheduled[0]!.type).toBe('Normal');
  });

  it('retries when a node grows (allocatable updated)', async () => {
    env = await setup();
    await createAll(env.client, [node('node-1', { memory: '1Gi' })]);
    await env.client.create(pod('db', { memory: '4Gi' }));
    await unschedulableMessage(env.client, 'db');
    const n = await env.client.get({ apiVersion: 'v1', kind: 'Node', name: 'node-1' });
    const grown = { ...n.status.allocatable, memory: '16Gi' };
    await env.client.updateStatus({ ...n, status: { ...n.status, capacity: grown, allocatable: grown } });
    expect(await boundNode(env.client, 'db')).toBe('node-1');
  });

  it('with no nodes at all says so, and schedules when one registers', async () => {
    env = await setup();
    await env.client.create(pod('early'));
    expect(await unschedulableMessage(env.client, 'early')).toBe('no nodes available to schedule pods');
    await env.client.create(node('node-1'));
    expect(await boundNode(env.client, 'early')).toBe('node-1');
  });

  it('schedules higher-priority pods first (PriorityClass names resolved, globalDefault applied)', async () => {
    env = await setup({}, false);
    await createAll(env.client, [pc('low', 10), pc('high', 1000), pc('default', 100, { globalDefault: true }), node('node-1', { cpu: '1' })]);
    await env.client.create(pod('a-low', { cpu: '1', spec: { priorityClassName: 'low', preemptionPolicy: 'Never' } }));
    await env.client.create(pod('b-default', { cpu: '1', spec: { preemptionPolicy: 'Never' } }));
    await env.client.create(pod('c-high', { cpu: '1', spec: { priorityClassName: 'high', preemptionPolicy: 'Never' } }));
    await env.scheduler.start();
    expect(await boundNode(env.client, 'c-high')).toBe('node-1');
    await unschedulableMessage(env.client, 'a-low');
    await unschedulableMessage(env.client, 'b-default');
    expect(env.scheduler.cache.getPod('default/c-high')?.priority).toBe(1000);
  });

  it('counts assumed pods: a burst never overcommits a node', async () => {
    env = await setup();
    await createAll(env.client, [node('node-1', { cpu: '2' })]);
    await Promise.all(Array.from({ length: 5 }, (_, i) => env!.client.create(pod(`p${i}`, { cpu: '1' }))));
    await eventually(async () => {
      const list = await env!.client.list({ apiVersion: 'v1', kind: 'Pod' }, { namespace: 'default' });
      const bound = list.items.filter((p) => p.spec.nodeName).length;
      const failed = list.items.filter((p) => (p.status?.conditions ?? []).some((c: any) => c.type === 'PodScheduled' && c.status === 'False')).length;
      return bound === 2 && failed === 3 ? true : undefined;
    });
  });

  it('spreads replicas with required anti-affinity, one per node', async () => {
    env = await setup();
    await createAll(env.client, [node('node-1'), node('node-2'), node('node-3')]);
    const anti = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' }] } };
    for (let i = 0; i < 4; i++) await env.client.create(pod(`web-${i}`, { labels: { app: 'web' }, spec: { affinity: anti } }));
    const placed = await Promise.all([0, 1, 2].map((i) => boundNode(env!.client, `web-${i}`)));
    expect(new Set(placed).size).toBe(3);
    expect(await unschedulableMessage(env.client, 'web-3')).toBe(
      "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.",
    );
    // One replica goes away: the waiting one takes its node.
    const freed = placed[1]!;
    await env.client.delete({ apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'web-1' }, { gracePeriodSeconds: 0 });
    expect(await boundNode(env.client, 'web-3')).toBe(freed);
  });

  it('spreads over zones with a topology spread constraint', async () => {
    env = await setup();
    const zones = ['a', 'a', 'b', 'b', 'c', 'c'];
    await createAll(env.client, zones.map((z, i) => node(`node-${i}`, { labels: { 'topology.kubernetes.io/zone': z } })));
    const tsc = [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'api' } } }];
    for (let i = 0; i < 6; i++) await env.client.create(pod(`api-${i}`, { labels: { app: 'api' }, spec: { topologySpreadConstraints: tsc } }));
    const placed = await Promise.all(Array.from({ length: 6 }, (_, i) => boundNode(env!.client, `api-${i}`)));
    const perZone = placed.reduce<Record<string, number>>((m, n) => {
      const z = zones[Number(n.split('-')[1])]!;
      return { ...m, [z]: (m[z] ?? 0) + 1 };
    }, {});
    expect(perZone).toEqual({ a: 2, b: 2, c: 2 });
  });

  it('honours nodeSelector, and a cordoned node becomes usable when uncordoned', async () => {
    env = await setup();
    await createAll(env.client, [node('node-1', { labels: { gpu: 'yes' }, unschedulable: true }), node('node-2')]);
    await env.client.create(pod('trainer', { spec: { nodeSelector: { gpu: 'yes' } } }));
    expect(await unschedulableMessage(env.client, 'trainer')).toBe(
      "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) were unschedulable. " +
        'preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.',
    );
    await env.client.patch({ apiVersion: 'v1', kind: 'Node', name: 'node-1' }, 'merge', { spec: { unschedulable: false } });
    expect(await boundNode(env.client, 'trainer')).toBe('node-1');
  });

  it('leaves pods of other schedulers alone and forgets deleted pending pods', async () => {
    env = await setup();
    await createAll(env.client, [node('node-1')]);
    await env.client.create(pod('mine-later', { spec: { nodeSelector: { never: 'x' } } }));
    await env.client.create(pod('theirs', { spec: { schedulerName: 'my-scheduler' } }));
    await unschedulableMessage(env.client, 'mine-later');
    await env.client.delete({ apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'mine-later' });
    await env.client.create(pod('mine'));
    expect(await boundNode(env.client, 'mine')).toBe('node-1');
    await env.scheduler.idle();
    const theirs = await getPod(env.client, 'theirs');
    expect(theirs.spec.nodeName).toBeUndefined();
    expect(theirs.status.conditions).toBeUndefined();
    expect(env.scheduler.queue.lengths).toEqual({ active: 0, backoff: 0, unschedulable: 0 });
  });

  it('frees the resources of pods that are deleted or finish', async () => {
    env = await setup();
    await createAll(env.client, [node('node-1', { cpu: '1' })]);
    await env.client.create(pod('job', { cpu: '1' }));
    expect(await boundNode(env.client, 'job')).toBe('node-1');
    await env.client.create(pod('next', { cpu: '1' }));
    await unschedulableMessage(env.client, 'next');
    const job = await getPod(env.client, 'job');
    await env.client.updateStatus({ ...job, status: { ...job.status, phase: 'Succeeded' } });
    expect(await boundNode(env.client, 'next')).toBe('node-1');
  });
});

describe('binding', () => {
  it('forgets an assumed pod whose binding fails, and retries it with backoff', async () => {
    const { ApiError } = await import('../../../core/api/errors.ts');
    env = await setup({ queue: { initialBackoffMs: 400, maxBackoffMs: 400 } });
    let rejections = 1;
    env.api.admission.add({
      name: 'FlakyBinding',
      validate(a) {
        if (a.subresource === 'binding' && a.name === 'a' && rejections-- > 0) throw new ApiError('InternalError', 'etcd is having a moment');
      },
    });
    await createAll(env.client, [node('node-1', { cpu: '1' })]);
    await env.client.create(pod('a', { cpu: '1' }));
    const msg = await unschedulableMessage(env.client, 'a');
    expect(msg).toBe('running Bind plugin "DefaultBinder": etcd is having a moment');
    const p = await getPod(env.client, 'a');
    expect(p.status.conditions.find((c: any) => c.type === 'PodScheduled').reason).toBe('SchedulerError');
    // While it backs off, its cpu is not held on the node.
    expect(env.scheduler.cache.isAssumed('default/a')).toBe(false);
    expect(env.scheduler.cache.nodes.get('node-1')!.requested.milliCpu).toBe(0);
    expect(await boundNode(env.client, 'a')).toBe('node-1');
  });
});
