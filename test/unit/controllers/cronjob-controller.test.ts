import { afterEach, describe, expect, it } from 'vitest';
import { nextFireTime } from '../../../core/api/cron.ts';
import type { KubeObject } from '../../../core/api/types.ts';
import type { InProcessClient } from '../../../core/client/in-process-client.ts';
import { CronJobController } from '../../../core/controllers/cronjob-controller.ts';
import { eventually, harness } from './helpers.ts';

const CJ = { apiVersion: 'batch/v1', kind: 'CronJob' };
const JOB = { apiVersion: 'batch/v1', kind: 'Job' };
const EVENT = { apiVersion: 'v1', kind: 'Event' };
const settle = (ms = 100) => new Promise((r) => setTimeout(r, ms));
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
const MINUTE = 60_000;

function cronJob(name: string, spec: Record<string, unknown> = {}): KubeObject {
  return {
    ...CJ,
    metadata: { name, namespace: 'default' },
    spec: {
      schedule: '* * * * *',
      jobTemplate: {
        metadata: { labels: { app: name } },
        spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'main', image: 'busybox:1' }] } } },
      },
      ...spec,
    },
  } as KubeObject;
}

async function setup() {
  // The fake clock starts where the real one is (creation timestamps come from the API server).
  let t = Date.now();
  let cc!: CronJobController;
  const h = await harness([(ctx) => (cc = new CronJobController(ctx))], {}, () => new Date(t));
  return {
    h,
    client: h.client,
    ms: () => t,
    /** Move the clock to `at` and let the controller look (as its addAfter timer would). */
    at: async (at: number, name: string) => {
      t = at;
      cc.queue.add(`default/${name}`);
      await settle(50);
    },
  };
}

/** The next minute boundary strictly after `ms`. */
const nextMinute = (ms: number) => (Math.floor(ms / MINUTE) + 1) * MINUTE;

async function jobs(client: InProcessClient): Promise<KubeObject[]> {
  return (await client.list(JOB, { namespace: 'default' })).items.filter((j) => !j.metadata.deletionTimestamp).sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : 1));
}

async function getCj(client: InProcessClient, name: string): Promise<KubeObject> {
  return client.get({ ...CJ, namespace: 'default', name });
}

/** What the Job controller would write when the Job ends. */
async function finishJob(client: InProcessClient, name: string, type: 'Complete' | 'Failed', at: number): Promise<void> {
  const j = await client.get({ ...JOB, namespace: 'default', name });
  j.status = {
    startTime: iso(at - 1000),
    ...(type === 'Complete' ? { completionTime: iso(at), succeeded: 1 } : { failed: 1 }),
    conditions: [{ type, status: 'True', lastTransitionTime: iso(at), reason: type === 'Complete' ? 'CompletionsReached' : 'BackoffLimitExceeded', message: '' }],
  };
  await client.updateStatus(j);
}

async function events(h: { client: InProcessClient; manager: any }): Promise<string[]> {
  await h.manager.context.recorder('cronjob-controller').flush();
  return (await h.client.list(EVENT, { namespace: 'default' })).items.map((e) => `${e.type} ${e.reason}: ${e.message}`);
}

describe('CronJobController', () => {
  let h: Awaited<ReturnType<typeof harness>> | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('creates a Job at each scheduled time and tracks active and last successful runs', async () => {
    const t = await setup();
    h = t.h;
    const { client } = t;
    await client.create(cronJob('hello'));
    await settle();
    expect(await jobs(client)).toEqual([]); // nothing due yet

    const first = nextMinute(t.ms() + 1000);
    await t.at(first + 5000, 'hello');
    const [job] = await eventually(async () => {
      const js = await jobs(client);
      return js.length === 1 && js;
    });
    expect(job!.metadata.name).toBe(`hello-${first / MINUTE}`);
    expect(job!.metadata.annotations!['batch.kubernetes.io/cronjob-scheduled-timestamp']).toBe(iso(first));
    expect(job!.metadata.labels!.app).toBe('hello');
    expect(job!.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'CronJob', name: 'hello', controller: true });
    const cj = await eventually(async () => {
      const c = await getCj(client, 'hello');
      return c.status?.active?.length === 1 && c;
    });
    expect(cj.status.active[0]).toMatchObject({ kind: 'Job', name: job!.metadata.name, uid: job!.metadata.uid });
    expect(cj.status.lastScheduleTime).toBe(iso(first));

    await finishJob(client, job!.metadata.name!, 'Complete', first + 20_000);
    const after = await eventually(async () => {
      const c = await getCj(client, 'hello');
      return !c.status?.active && c;
    });
    expect(after.status.lastSuccessfulTime).toBe(iso(first + 20_000));

    // The next minute makes the next Job.
    await t.at(first + MINUTE + 1000, 'hello');
    await eventually(async () => (await jobs(client)).length === 2);
    expect((await jobs(client)).map((j) => j.metadata.name)).toEqual([`hello-${first / MINUTE}`, `hello-${first / MINUTE + 1}`]);
    const ev = await events(t.h);
    expect(ev).toContain(`Normal SuccessfulCreate: Created job hello-${first / MINUTE}`);
    expect(ev).toContain(`Normal SawCompletedJob: Saw completed job: hello-${first / MINUTE}, condition: Complete`);
  });

  it('skips a run while one is active with concurrencyPolicy Forbid', async () => {
    const t = await setup();
    h = t.h;
    const { client } = t;
    await client.create(cronJob('once', { concurrencyPolicy: 'Forbid' }));
    const first = nextMinute(t.ms() + 1000);
    await t.at(first + 1000, 'once');
    await eventually(async () => (await getCj(client, 'once')).status?.active?.length === 1);
    await t.at(first + MINUTE + 1000, 'once');
    await settle();
    expect((await jobs(client)).length).toBe(1);
    expect(await events(t.h)).toContain('Normal JobAlreadyActive: Not starting job because prior execution is running and concurrency policy is Forbid');
  });

  it('replaces the running Job with concurrencyPolicy Replace', async () => {
    const t = await setup();
    h = t.h;
    const { client } = t;
    await client.create(cronJob('rep', { concurrencyPolicy: 'Replace' }));
    const first = nextMinute(t.ms() + 1000);
    await t.at(first + 1000, 'rep');
    await eventually(async () => (await getCj(client, 'rep')).status?.active?.length === 1);
    await t.at(first + MINUTE + 1000, 'rep');
    const cj = await eventually(async () => {
      const c = await getCj(client, 'rep');
      return c.status?.active?.[0]?.name === `rep-${first / MINUTE + 1}` && c;
    });
    expect(cj.status.active.length).toBe(1);
    await eventually(async () => (await jobs(client)).map((j) => j.metadata.name).join() === `rep-${first / MINUTE + 1}`);
    expect(await events(t.h)).toContain(`Normal SuccessfulDelete: Deleted job rep-${first / MINUTE}`);
  });

  it('keeps only successfulJobsHistoryLimit / failedJobsHistoryLimit finished Jobs, oldest deleted first', async () => {
    const t = await setup();
    h = t.h;
    const { client } = t;
    await client.create(cronJob('hist', { successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 1 }));
    const first = nextMinute(t.ms() + 1000);
    const names: string[] = [];
    for (let i = 0; i < 4; i++) {
      await t.at(first + i * MINUTE + 1000, 'hist');
      const name = `hist-${first / MINUTE + i}`;
      await eventually(async () => (await jobs(client)).some((j) => j.metadata.name === name));
      names.push(name);
      await finishJob(client, name, i === 1 || i === 2 ? 'Failed' : 'Complete', first + i * MINUTE + 30_000);
    }
    await eventually(async () => (await jobs(client)).map((j) => j.metadata.name).join() === [names[2], names[3]].join());
  });

  it('does nothing while suspended', async () => {
    const t = await setup();
    h = t.h;
    const { client } = t;
    await client.create(cronJob('sus', { suspend: true }));
    const first = nextMinute(t.ms() + 1000);
    await t.at(first + 1000, 'sus');
    await settle();
    expect(await jobs(client)).toEqual([]);
    await client.patch({ ...CJ, namespace: 'default', name: 'sus' }, 'merge', { spec: { suspend: false } });
    await eventually(async () => (await jobs(client)).length === 1); // the missed run, still in time
  });

  it('reads the schedule in spec.timeZone and stamps the scheduled time in that zone', async () => {
    const t = await setup();
    h = t.h;
    const { client } = t;
    await client.create(cronJob('paris', { schedule: '30 9 * * *', timeZone: 'Europe/Paris' }));
    const fire = nextFireTime('30 9 * * *', new Date(t.ms() + 1000), 'Europe/Paris')!;
    await t.at(fire.getTime() + 1000, 'paris');
    const [job] = await eventually(async () => {
      const js = await jobs(client);
      return js.length === 1 && js;
    });
    expect(job!.metadata.annotations!['batch.kubernetes.io/cronjob-scheduled-timestamp']).toMatch(/T09:30:00\+0[12]:00$/);
    expect(job!.metadata.name).toBe(`paris-${fire.getTime() / MINUTE}`);
  });

  it('skips runs missed by more than startingDeadlineSeconds, and warns about too many missed start times', async () => {
    const t = await setup();
    h = t.h;
    const { client } = t;
    await client.create(cronJob('late', { startingDeadlineSeconds: 10 }));
    const first = nextMinute(t.ms() + 1000);
    await t.at(first + 30_000, 'late'); // 30 s late for a 10 s deadline
    await settle();
    expect(await jobs(client)).toEqual([]);

    await client.create(cronJob('asleep'));
    await t.at(first + 200 * MINUTE + 1000, 'asleep'); // the machine slept through 200 runs
    await eventually(async () => (await jobs(client)).some((j) => j.metadata.name === `asleep-${first / MINUTE + 200}`));
    expect(await events(t.h)).toContain('Warning TooManyMissedTimes: too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
    expect((await jobs(client)).filter((j) => j.metadata.name!.startsWith('asleep-')).length).toBe(1); // only the most recent
  });
});
