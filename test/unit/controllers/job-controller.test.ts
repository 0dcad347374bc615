import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../core/api/types.ts';
import type { InProcessClient } from '../../../core/client/in-process-client.ts';
import { JobController, TTLAfterFinishedController } from '../../../core/controllers/job-controller.ts';
import { eventually, harness } from './helpers.ts';

const JOB = { apiVersion: 'batch/v1', kind: 'Job' };
const POD = { apiVersion: 'v1', kind: 'Pod' };
const EVENT = { apiVersion: 'v1', kind: 'Event' };
const settle = (ms = 100) => new Promise((r) => setTimeout(r, ms));
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

function job(name: string, spec: Record<string, unknown> = {}, podSpec: Record<string, unknown> = {}): KubeObject {
  return {
    ...JOB,
    metadata: { name, namespace: 'default' },
    spec: {
      template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox:1' }], ...podSpec } },
      ...spec,
    },
  } as KubeObject;
}

/** A fake clock for the controllers (the API server keeps real time for creation stamps). */
function fakeClock() {
  let t = Math.floor(Date.now() / 1000) * 1000;
  return { now: () => new Date(t), advance: (ms: number) => (t += ms), ms: () => t };
}

async function setup(opts: { ttl?: boolean } = {}) {
  const clock = fakeClock();
  let jc!: JobController;
  let ttl: TTLAfterFinishedController | undefined;
  const builds = [
    (ctx: any) => (jc = new JobController(ctx, { backoffBaseMs: 10_000, backoffMaxMs: 360_000 })),
    ...(opts.ttl ? [(ctx: any) => (ttl = new TTLAfterFinishedController(ctx))] : []),
  ];
  const h = await harness(builds, {}, clock.now);
  return { h, client: h.client, clock, jc: () => jc, ttl: () => ttl! };
}

async function jobPods(client: InProcessClient, jobName: string, all = false): Promise<KubeObject[]> {
  const pods = (await client.list(POD, { namespace: 'default', labelSelector: `batch.kubernetes.io/job-name=${jobName}` })).items;
  return all ? pods : pods.filter((p) => !p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
}

async function getJob(client: InProcessClient, name: string): Promise<KubeObject> {
  return client.get({ ...JOB, namespace: 'default', name });
}

/** The node agent reporting a pod's end: phase, the container's exit code and finish time. */
async function finish(client: InProcessClient, pod: KubeObject, phase: 'Succeeded' | 'Failed', at: number, exitCode = phase === 'Succeeded' ? 0 : 1) {
  const p = await client.get({ ...POD, namespace: 'default', name: pod.metadata.name! });
  p.status = {
    ...p.status,
    phase,
    conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: iso(at) }],
    containerStatuses: [{ name: 'main', ready: false, restartCount: 0, image: 'busybox:1', imageID: '', state: { terminated: { exitCode, finishedAt: iso(at) } } }],
  };
  await client.updateStatus(p);
}

async function waitActive(client: InProcessClient, name: string, n: number): Promise<KubeObject[]> {
  return eventually(async () => {
    const pods = await jobPods(client, name);
    return pods.length === n && pods;
  });
}

async function events(h: { client: InProcessClient; manager: any }): Promise<string[]> {
  await h.manager.context.recorder('job-controller').flush();
  return (await h.client.list(EVENT, { namespace: 'default' })).items.map((e) => `${e.reason}: ${e.message}`);
}

const condition = (j: KubeObject, type: string) => (j.status?.conditions ?? []).find((c: any) => c.type === type);

describe('JobController', () => {
  let h: Awaited<ReturnType<typeof harness>> | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('runs to completion with parallelism 2 and completions 4, tracking pods with a finalizer', async () => {
    const t = await setup();
    h = t.h;
    const { client, clock } = t;
    await client.create(job('pi', { parallelism: 2, completions: 4 }));
    const first = await waitActive(client, 'pi', 2);
    const j0 = await getJob(client, 'pi');
    for (const p of first) {
      expect(p.metadata.finalizers).toContain('batch.kubernetes.io/job-tracking');
      expect(p.metadata.generateName).toBe('pi-');
      expect(p.metadata.labels).toMatchObject({ 'batch.kubernetes.io/job-name': 'pi', 'batch.kubernetes.io/controller-uid': j0.metadata.uid });
      expect(p.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Job', name: 'pi', controller: true });
    }
    await eventually(async () => (await getJob(client, 'pi')).status?.active === 2);
    expect((await getJob(client, 'pi')).status.startTime).toBe(iso(clock.ms()));

    for (const p of first) await finish(client, p, 'Succeeded', clock.ms());
    const second = await eventually(async () => {
      const pods = await jobPods(client, 'pi');
      return pods.length === 2 && !pods.some((p) => first.some((f) => f.metadata.uid === p.metadata.uid)) && pods;
    });
    // Counted pods lose the finalizer.
    await eventually(async () => (await jobPods(client, 'pi', true)).filter((p) => p.status?.phase === 'Succeeded').every((p) => !p.metadata.finalizers?.length));
    expect((await getJob(client, 'pi')).status.succeeded).toBe(2);

    clock.advance(5000);
    for (const p of second) await finish(client, p, 'Succeeded', clock.ms());
    const done = await eventually(async () => {
      const j = await getJob(client, 'pi');
      return condition(j, 'Complete') && j;
    });
    expect(done.status).toMatchObject({ succeeded: 4, ready: 0, terminating: 0, completionTime: iso(clock.ms()) });
    expect(done.status.active).toBeUndefined();
    expect(done.status.failed).toBeUndefined();
    expect(condition(done, 'SuccessCriteriaMet')).toMatchObject({ status: 'True', reason: 'CompletionsReached' });
    expect(condition(done, 'Complete')).toMatchObject({ status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' });
    expect(done.status.uncountedTerminatedPods).toEqual({});
    await settle();
    expect((await jobPods(client, 'pi', true)).length).toBe(4); // no extra pods
    const ev = await events(t.h);
    expect(ev).toContain('Completed: Job completed');
    expect(ev.filter((e) => e.startsWith('SuccessfulCreate: Created pod: pi-')).length).toBe(4);
  });

  it('replaces failed pods after an exponential backoff and fails with BackoffLimitExceeded', async () => {
    const t = await setup();
    h = t.h;
    const { client, clock } = t;
    await client.create(job('flaky', { backoffLimit: 1 }));
    const [p1] = await waitActive(client, 'flaky', 1);
    await finish(client, p1!, 'Failed', clock.ms());
    await eventually(async () => (await getJob(client, 'flaky')).status?.failed === 1);
    await settle();
    expect(await jobPods(client, 'flaky')).toEqual([]); // waiting out the 10 s backoff

    clock.advance(10_000);
    t.jc().queue.add('default/flaky');
    const [p2] = await waitActive(client, 'flaky', 1);
    clock.advance(1000);
    await finish(client, p2!, 'Failed', clock.ms());
    const failed = await eventually(async () => {
      const j = await getJob(client, 'flaky');
      return condition(j, 'Failed') && j;
    });
    expect(condition(failed, 'Failed')).toMatchObject({ status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' });
    expect(condition(failed, 'FailureTarget')).toMatchObject({ reason: 'BackoffLimitExceeded' });
    expect(failed.status.failed).toBe(2);
    expect(failed.status.completionTime).toBeUndefined();
    expect(await events(t.h)).toContain('BackoffLimitExceeded: Job has reached the specified backoff limit');
  });

  it('doubles the backoff with consecutive failures', async () => {
    const t = await setup();
    h = t.h;
    const { client, clock } = t;
    await client.create(job('retry', { backoffLimit: 5 }));
    for (const wait of [10_000, 20_000]) {
      const [p] = await waitActive(client, 'retry', 1);
      await finish(client, p!, 'Failed', clock.ms());
      await eventually(async () => (await jobPods(client, 'retry')).length === 0);
      clock.advance(wait - 1000);
      t.jc().queue.add('default/retry');
      await settle();
      expect(await jobPods(client, 'retry')).toEqual([]);
      clock.advance(1000);
      t.jc().queue.add('default/retry');
    }
    await waitActive(client, 'retry', 1);
  });

  it('fails with DeadlineExceeded after activeDeadlineSeconds, deleting active pods', async () => {
    const t = await setup();
    h = t.h;
    const { client, clock } = t;
    await client.create(job('slow', { activeDeadlineSeconds: 30, parallelism: 2, completions: 2 }));
    await waitActive(client, 'slow', 2);
    clock.advance(29_000);
    t.jc().queue.add('default/slow');
    await settle();
    expect((await jobPods(client, 'slow')).length).toBe(2);

    clock.advance(1000);
    t.jc().queue.add('default/slow');
    const failed = await eventually(async () => {
      const j = await getJob(client, 'slow');
      return condition(j, 'Failed') && j;
    });
    expect(condition(failed, 'Failed')).toMatchObject({ reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' });
    expect(failed.status.failed).toBe(2);
    await eventually(async () => (await jobPods(client, 'slow', true)).length === 0);
    expect(await events(t.h)).toContain('DeadlineExceeded: Job was active longer than specified deadline');
  });

  it('deletes a finished Job after ttlSecondsAfterFinished', async () => {
    const t = await setup({ ttl: true });
    h = t.h;
    const { client, clock } = t;
    await client.create(job('short', { ttlSecondsAfterFinished: 60 }));
    const [p] = await waitActive(client, 'short', 1);
    await finish(client, p!, 'Succeeded', clock.ms());
    await eventually(async () => condition(await getJob(client, 'short'), 'Complete'));
    const ttl = t.ttl();
    clock.advance(59_000);
    await ttl.reconcile('default/short');
    expect((await getJob(client, 'short')).metadata.deletionTimestamp).toBeUndefined();
    clock.advance(1000);
    await ttl.reconcile('default/short');
    await eventually(async () => !(await client.list(JOB, { namespace: 'default' })).items.length);
  });

  it('gives Indexed pods their completion index and tracks completedIndexes', async () => {
    const t = await setup();
    h = t.h;
    const { client, clock } = t;
    await client.create(job('idx', { completionMode: 'Indexed', completions: 3, parallelism: 2 }));
    const pods = await waitActive(client, 'idx', 2);
    const byIndex = new Map(pods.map((p) => [p.metadata.annotations!['batch.kubernetes.io/job-completion-index'], p]));
    expect([...byIndex.keys()].sort()).toEqual(['0', '1']);
    const p1 = byIndex.get('1')!;
    expect(p1.metadata.labels!['batch.kubernetes.io/job-completion-index']).toBe('1');
    expect(p1.metadata.generateName).toBe('idx-1-');
    expect(p1.spec.hostname).toBe('idx-1');
    expect(p1.spec.containers[0].env.find((e: any) => e.name === 'JOB_COMPLETION_INDEX')).toMatchObject({
      valueFrom: { fieldRef: { fieldPath: "metadata.labels['batch.kubernetes.io/job-completion-index']" } },
    });

    await finish(client, p1, 'Succeeded', clock.ms());
    const p2 = await eventually(async () => (await jobPods(client, 'idx')).find((p) => p.metadata.annotations!['batch.kubernetes.io/job-completion-index'] === '2'));
    expect((await getJob(client, 'idx')).status.completedIndexes).toBe('1');

    // A failed index is retried with the same index.
    await finish(client, byIndex.get('0')!, 'Failed', clock.ms());
    clock.advance(10_000);
    t.jc().queue.add('default/idx');
    const retry = await eventually(async () => (await jobPods(client, 'idx')).find((p) => p.metadata.annotations!['batch.kubernetes.io/job-completion-index'] === '0'));
    await finish(client, p2, 'Succeeded', clock.ms());
    await finish(client, retry, 'Succeeded', clock.ms());
    const done = await eventually(async () => {
      const j = await getJob(client, 'idx');
      return condition(j, 'Complete') && j;
    });
    expect(done.status).toMatchObject({ completedIndexes: '0-2', succeeded: 3, failed: 1 });
  });

  it('suspends (deleting active pods without counting them) and resumes', async () => {
    const t = await setup();
    h = t.h;
    const { client, clock } = t;
    await client.create(job('sus', { parallelism: 2, completions: 2, activeDeadlineSeconds: 100 }));
    await waitActive(client, 'sus', 2);
    await client.patch({ ...JOB, namespace: 'default', name: 'sus' }, 'merge', { spec: { suspend: true } });
    const suspended = await eventually(async () => {
      const j = await getJob(client, 'sus');
      return condition(j, 'Suspended')?.status === 'True' && j.status.active === undefined && j;
    });
    expect(condition(suspended, 'Suspended')).toMatchObject({ reason: 'JobSuspended', message: 'Job suspended' });
    await eventually(async () => (await jobPods(client, 'sus', true)).length === 0);
    expect(suspended.status.failed).toBeUndefined();
    expect(suspended.status.startTime).toBeUndefined();

    // Suspended time does not count towards activeDeadlineSeconds: resuming restarts the clock.
    clock.advance(200_000);
    await client.patch({ ...JOB, namespace: 'default', name: 'sus' }, 'merge', { spec: { suspend: false } });
    await waitActive(client, 'sus', 2);
    const resumed = await eventually(async () => {
      const j = await getJob(client, 'sus');
      return condition(j, 'Suspended')?.status === 'False' && j;
    });
    expect(condition(resumed, 'Suspended')).toMatchObject({ reason: 'JobResumed' });
    expect(resumed.status.startTime).toBe(iso(clock.ms()));
    expect(condition(resumed, 'Failed')).toBeUndefined();
    const ev = await events(t.h);
    expect(ev).toContain('Suspended: Job suspended');
    expect(ev).toContain('Resumed: Job resumed');
  });

  it('applies podFailurePolicy: Ignore does not count, FailJob fails the Job at once', async () => {
    const t = await setup();
    h = t.h;
    const { client, clock } = t;
    await client.create(
      job('pfp', {
        backoffLimit: 3,
        podFailurePolicy: {
          rules: [
            { action: 'Ignore', onExitCodes: { operator: 'In', values: [137] } },
            { action: 'FailJob', onExitCodes: { containerName: 'main', operator: 'In', values: [42] } },
          ],
        },
      }),
    );
    const [p1] = await waitActive(client, 'pfp', 1);
    await finish(client, p1!, 'Failed', clock.ms(), 137);
    await eventually(async () => (await jobPods(client, 'pfp', true)).every((p) => !p.metadata.finalizers?.length));
    clock.advance(10_000); // the replacement still waits out the pod-failure backoff, as in Kubernetes
    t.jc().queue.add('default/pfp');
    const [p2] = await eventually(async () => {
      const pods = await jobPods(client, 'pfp');
      return pods.length === 1 && pods[0]!.metadata.uid !== p1!.metadata.uid && pods;
    });
    expect((await getJob(client, 'pfp')).status.failed).toBeUndefined();

    await finish(client, p2!, 'Failed', clock.ms(), 42);
    const failed = await eventually(async () => {
      const j = await getJob(client, 'pfp');
      return condition(j, 'Failed') && j;
    });
    expect(condition(failed, 'Failed')).toMatchObject({
      reason: 'PodFailurePolicy',
      message: `Container main for pod default/${p2!.metadata.name} failed with exit code 42 matching FailJob rule at index 1`,
    });
    expect(failed.status.failed).toBe(1);
  });
});
