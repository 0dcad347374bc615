/**
 * Scheduling and batch work on the real engine: a pod too big for every node stays Pending with
 * kube-scheduler's wording, and a Job runs to completion with bounded parallelism.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSYBOX, NS, POD, setupCluster, sleep, type TestCluster } from './helpers.ts';

describe('cluster on Docker: scheduling and Jobs', () => {
  let tc: TestCluster;
  beforeAll(async () => {
    // node-1 declares 2 CPUs and 2Gi of memory (helpers' default node).
    tc = await setupCluster('sched');
  });
  afterAll(() => tc?.close());

  it('a pod too big for every node stays Pending: "0/1 nodes are available: 1 Insufficient memory."', async () => {
    await tc.client.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'too-big', namespace: NS },
      spec: { containers: [{ name: 'c', image: BUSYBOX, command: ['sleep', '3600'], resources: { requests: { memory: '3Gi' } } }] },
    });
    const pod: any = await tc.waitFor('PodScheduled=False on pod too-big', async () => {
      const p: any = await tc.client.get({ ...POD, namespace: NS, name: 'too-big' });
      return p.status?.conditions?.some((c: any) => c.type === 'PodScheduled' && c.status === 'False') && p;
    }, 20_000);
    const cond = pod.status.conditions.find((c: any) => c.type === 'PodScheduled');
    expect(cond.reason).toBe('Unschedulable');
    expect(cond.message).toMatch(/^0\/1 nodes are available: 1 Insufficient memory\./);
    // kube-scheduler adds the preemption verdict: 3Gi exceeds the node's allocatable memory
    // itself, so evicting pods could not help (UnschedulableAndUnresolvable).
    expect(cond.message).toBe('0/1 nodes are available: 1 Insufficient memory. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.');
    const ev: any = await tc.waitFor('a FailedScheduling event for too-big', async () => {
      const evs = await tc.events((e) => e.involvedObject?.name === 'too-big' && e.reason === 'FailedScheduling');
      return evs[0];
    }, 10_000);
    expect(ev).toMatchObject({ type: 'Warning', message: cond.message, source: { component: 'default-scheduler' } });

    // It stays Pending: never bound, nothing started on the engine.
    await sleep(3_000);
    const later: any = await tc.client.get({ ...POD, namespace: NS, name: 'too-big' });
    expect(later.status.phase).toBe('Pending');
    expect(later.spec.nodeName).toBeUndefined();
    expect(await tc.podContainers('too-big')).toEqual([]);
  });

  it('a Job (completions 3, parallelism 2) runs to completion', async () => {
    await tc.client.create({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'batch', namespace: NS },
      spec: {
        completions: 3,
        parallelism: 2,
        backoffLimit: 2,
        template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: BUSYBOX, command: ['sh', '-c', 'echo done'] }] } },
      },
    });
    let maxActive = 0;
    let maxRunningPods = 0;
    const job: any = await tc.waitFor('job batch to complete', async () => {
      const j: any = await tc.client.get({ apiVersion: 'batch/v1', kind: 'Job', namespace: NS, name: 'batch' });
      maxActive = Math.max(maxActive, j.status?.active ?? 0);
      const pods = await tc.pods('job-name=batch');
      maxRunningPods = Math.max(maxRunningPods, pods.filter((p) => p.status?.phase === 'Pending' || p.status?.phase === 'Running').length);
      return j.status?.conditions?.some((c: any) => c.type === 'Complete' && c.status === 'True') && j;
    }, 60_000, 50);
    expect(job.status.succeeded).toBe(3);
    expect(job.status.failed ?? 0).toBe(0);
    expect(job.status.completionTime).toBeTruthy();
    expect(maxActive).toBeLessThanOrEqual(2);
    expect(maxRunningPods).toBeLessThanOrEqual(2);

    const pods = await tc.pods('job-name=batch');
    expect(pods).toHaveLength(3);
    for (const p of pods) {
      expect(p.status.phase).toBe('Succeeded');
      expect(p.status.containerStatuses[0].state.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    }
    const agent = tc.cluster.agents.get('node-1')!;
    const lines: string[] = [];
    for await (const l of await agent.logs(NS, pods[0].metadata.name, 'c', {})) lines.push(l.line);
    expect(lines).toEqual(['done']);
    const completed = await tc.waitFor('a Completed event for the job', async () => {
      const evs = await tc.events((e) => e.involvedObject?.kind === 'Job' && e.reason === 'Completed');
      return evs[0];
    }, 10_000);
    expect(completed.message).toBe('Job completed');
  });
});
