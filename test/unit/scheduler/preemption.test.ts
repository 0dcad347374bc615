import { afterEach, describe, expect, it } from 'vitest';
import { boundNode, createAll, eventually, events, getPod, node, pod, setup, unschedulableMessage, type Env } from './helpers.ts';

let env: Env | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

const pc = (name: string, value: number) => ({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value });
const at = (name: string, nodeName: string, cls: string, cpu = '1') => pod(name, { cpu, spec: { nodeName, priorityClassName: cls } });

describe('DefaultPreemption', () => {
  it('evicts the fewest, lowest-priority pods on one node, nominates it, and schedules there once they are gone', async () => {
    env = await setup();
    await createAll(env.client, [pc('p5', 5), pc('p10', 10), pc('p100', 100), pc('p1000', 1000)]);
    await createAll(env.client, [node('node-1', { cpu: '2' }), node('node-2', { cpu: '2' })]);
    // node-1 runs two low-priority pods, node-2 two medium ones.
    await createAll(env.client, [at('lo-a', 'node-1', 'p10'), at('lo-b', 'node-1', 'p5'), at('mid-a', 'node-2', 'p100'), at('mid-b', 'node-2', 'p100')]);
    await env.client.create(pod('urgent', { cpu: '1', spec: { priorityClassName: 'p1000' } }));

    // The victim: lo-b alone (priority 5) — marked, deleted with its grace period, told why.
    const victim = await eventually(async () => {
      const p = await getPod(env!.client, 'lo-b');
      return p.metadata.deletionTimestamp ? p : undefined;
    });
    expect(victim.metadata.deletionGracePeriodSeconds).toBe(30);
    expect(victim.status.conditions.find((c: any) => c.type === 'DisruptionTarget')).toMatchObject({
      status: 'True',
      reason: 'PreemptionByScheduler',
      message: 'default-scheduler: preempting to accommodate a higher priority pod',
    });
    for (const name of ['lo-a', 'mid-a', 'mid-b']) expect((await getPod(env.client, name)).metadata.deletionTimestamp).toBeUndefined();

    const urgent = await getPod(env.client, 'urgent');
    expect(urgent.status.nominatedNodeName).toBe('node-1');
    expect(await unschedulableMessage(env.client, 'urgent')).toBe('0/2 nodes are available: 2 Insufficient cpu.');
    await env.scheduler.idle();
    await env.recorder.flush();
    expect((await events(env.client, 'lo-b', 'Preempted')).map((e) => e.message)).toEqual([`Preempted by pod ${urgent.metadata.uid} on node node-1`]);

    // While the victim terminates, the preemptor waits (and preempts nothing more).
    await new Promise((r) => setTimeout(r, 150));
    expect((await getPod(env.client, 'urgent')).spec.nodeName).toBeUndefined();
    expect((await getPod(env.client, 'lo-a')).metadata.deletionTimestamp).toBeUndefined();

    // The kubelet finishes the victim: the preemptor lands on its nominated node.
    await env.client.delete({ apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'lo-b' }, { gracePeriodSeconds: 0 });
    expect(await boundNode(env.client, 'urgent')).toBe('node-1');
  });

  it('keeps lower-priority pods off a nominated node while the victims terminate', async () => {
    env = await setup();
    await createAll(env.client, [pc('p1', 1), pc('p1000', 1000), node('node-1', { cpu: '1' })]);
    await env.client.create(at('old', 'node-1', 'p1'));
    await env.client.create(pod('urgent', { cpu: '1', spec: { priorityClassName: 'p1000' } }));
    await eventually(async () => ((await getPod(env!.client, 'urgent')).status.nominatedNodeName === 'node-1' ? true : undefined));
    await env.client.delete({ apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'old' }, { gracePeriodSeconds: 0 });
    // A same-priority-as-victim pod arriving now must not take the freed space.
    await env.client.create(pod('sneaky', { cpu: '1', spec: { priorityClassName: 'p1' } }));
    expect(await boundNode(env.client, 'urgent')).toBe('node-1');
    await unschedulableMessage(env.client, 'sneaky');
    expect((await getPod(env.client, 'sneaky')).spec.nodeName).toBeUndefined();
  });

  it('does not preempt for pods with preemptionPolicy Never, nor evict equal or higher priorities', async () => {
    env = await setup();
    await createAll(env.client, [pc('p1', 1), pc('p1000', 1000), node('node-1', { cpu: '1' })]);
    await env.client.create(at('old', 'node-1', 'p1'));
    await env.client.create(pod('polite', { cpu: '1', spec: { priorityClassName: 'p1000', preemptionPolicy: 'Never' } }));
    expect(await unschedulableMessage(env.client, 'polite')).toBe('0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.');
    await env.client.create(pod('peer', { cpu: '1', spec: { priorityClassName: 'p1' } }));
    expect(await unschedulableMessage(env.client, 'peer')).toBe(
      '0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.',
    );
    expect((await getPod(env.client, 'old')).metadata.deletionTimestamp).toBeUndefined();
  });
});
