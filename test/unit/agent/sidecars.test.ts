import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toTable } from '../../../core/server/http/table.ts';
import { IMAGE, harness, until, type Harness } from './harness.ts';

const cond = (p: any, type: string) => p.status?.conditions?.find((c: any) => c.type === type);
const init = (p: any, i = 0) => p.status?.initContainerStatuses?.[i];
const main = (p: any, i = 0) => p.status?.containerStatuses?.[i];
const readyColumn = (p: any) => toTable('Pod', [p], {}, 'None', Date.now()).rows[0]!.cells[1];
const side = (name = 'side', extra: Record<string, unknown> = {}) => ({ name, image: IMAGE, restartPolicy: 'Always', ...extra });

describe('node agent: sidecar containers (fake runtime)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
    await h.agent.start();
  });
  afterEach(() => h.close());

  it('starts the next init container once a sidecar has started, and keeps the sidecar running', async () => {
    await h.createPod('order', {
      initContainers: [side(), { name: 'setup', image: IMAGE }],
      containers: [{ name: 'app', image: IMAGE }],
    });
    let p = await h.waitPod('order', (p) => init(p, 1)?.state?.running);
    expect(init(p)).toMatchObject({ name: 'side', started: true, ready: true, restartCount: 0 });
    expect(init(p).state.running.startedAt).toMatch(/Z$/);
    expect(p.status.phase).toBe('Pending');
    expect(cond(p, 'Initialized')).toMatchObject({ status: 'False', message: 'containers with incomplete status: [setup]' });
    expect(main(p).state.waiting.reason).toBe('PodInitializing');
    expect(h.containersOf('order', 'app')).toHaveLength(0);

    h.runtime.exitContainer(h.containersOf('order', 'setup')[0]!.id, 0);
    p = await h.waitPod('order', (p) => p.status?.phase === 'Running' && cond(p, 'Ready')?.status === 'True');
    expect(cond(p, 'Initialized').status).toBe('True');
    expect(init(p).state.running).toBeTruthy();
    expect(init(p, 1)).toMatchObject({ ready: true, started: false, state: { terminated: { exitCode: 0, reason: 'Completed' } } });
    expect(h.containersOf('order', 'side')).toHaveLength(1);
    // kubectl get pods: READY counts the sidecar.
    expect(readyColumn(p)).toBe('2/2');
    const started = (await h.events('order')).filter((e) => e.reason === 'Started').map((e) => e.involvedObject.fieldPath);
    expect(started).toEqual(['spec.initContainers{side}', 'spec.initContainers{setup}', 'spec.containers{app}']);
  });

  it("waits for a sidecar's startup probe before the next init container", async () => {
    let up = false;
    h.runtime.setExecHandler(() => ({ exitCode: up ? 0 : 1 }));
    await h.createPod('startup', {
      initContainers: [side('side', { startupProbe: { exec: { command: ['ok'] }, periodSeconds: 1, failureThreshold: 30 } })],
      containers: [{ name: 'app', image: IMAGE }],
    });
    let p = await h.waitPod('startup', (p) => init(p)?.state?.running);
    expect(init(p).started).toBe(false);
    expect(cond(p, 'Initialized')).toMatchObject({ status: 'False', message: 'containers with incomplete status: [side]' });
    await new Promise((r) => setTimeout(r, 300));
    expect(h.containersOf('startup', 'app')).toHaveLength(0);
    expect(readyColumn(await h.pod('startup'))).toBe('0/2');
    up = true;
    p = await h.waitPod('startup', (p) => main(p)?.state?.running, 'app running', 4000);
    expect(init(p)).toMatchObject({ started: true, ready: true });
  });

  it('restarts an exiting sidecar with CrashLoopBackOff even in a restartPolicy Never pod, without failing it', async () => {
    await h.createPod('never', { restartPolicy: 'Never', initContainers: [side()], containers: [{ name: 'app', image: IMAGE }] });
    await h.waitPod('never', (p) => main(p)?.state?.running);
    h.runtime.exitContainer(h.containersOf('never', 'side')[0]!.id, 1);
    let p = await h.waitPod('never', (p) => init(p)?.restartCount === 1 && init(p).state.running);
    expect(init(p).lastState.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
    expect(p.status.phase).toBe('Running');
    h.runtime.exitContainer(h.containersOf('never', 'side')[0]!.id, 2);
    p = await h.waitPod('never', (p) => init(p)?.state?.waiting?.reason === 'CrashLoopBackOff');
    expect(p.status.phase).toBe('Running');
    expect(cond(p, 'Initialized').status).toBe('True');
    expect(cond(p, 'Ready')).toMatchObject({ status: 'False', message: 'containers with unready status: [side]' });
    expect(readyColumn(p)).toBe('1/2');
    p = await h.waitPod('never', (p) => init(p)?.restartCount === 2 && init(p).state.running);
    expect(main(p).restartCount).toBe(0);
    expect(h.containersOf('never', 'app')).toHaveLength(1);
  });

  it('completes a Job-style pod when its containers succeed, then stops the sidecars (last declared first)', async () => {
    h.runtime.stopExitCode = 143;
    await h.createPod('job', {
      restartPolicy: 'Never',
      initContainers: [side('a'), side('b')],
      containers: [{ name: 'work', image: IMAGE }],
    });
    await h.waitPod('job', (p) => main(p)?.state?.running);
    const before = h.runtime.calls.length;
    h.runtime.exitContainer(h.containersOf('job', 'work')[0]!.id, 0);
    const p = await h.waitPod('job', (p) => p.status?.phase === 'Succeeded');
    expect(main(p).state.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    // The sidecars' own exit codes do not decide the phase.
    expect(init(p, 0).state.terminated.exitCode).toBe(143);
    expect(init(p, 1).state.terminated.exitCode).toBe(143);
    expect(cond(p, 'Initialized')).toMatchObject({ status: 'True', reason: 'PodCompleted' });
    const stopped = h.runtime.calls.slice(before).filter((c) => c.method === 'stopContainer').map((c) => nameOf(h, c.args[0] as string));
    expect(stopped).toEqual(['b', 'a']);
    const killing = (await h.events('job')).filter((e) => e.reason === 'Killing').map((e) => e.involvedObject.fieldPath);
    expect(killing.sort()).toEqual(['spec.initContainers{a}', 'spec.initContainers{b}']);
    await until('sandbox stopped', () => [...h.runtime.sandboxes.values()].every((s) => s.status.state === 'notready'));
    // Nothing is restarted afterwards.
    h.agent.syncNow();
    await h.agent.whenIdle();
    expect(h.containersOf('job', 'a')).toHaveLength(1);
  });

  it('keeps sidecars running while an OnFailure pod retries, and fails a Never pod whose init container fails', async () => {
    await h.createPod('retry', { restartPolicy: 'OnFailure', initContainers: [side()], containers: [{ name: 'work', image: IMAGE }] });
    await h.waitPod('retry', (p) => main(p)?.state?.running);
    h.runtime.exitContainer(h.containersOf('retry', 'work')[0]!.id, 1);
    await h.waitPod('retry', (p) => main(p)?.restartCount === 1 && main(p).state.running);
    expect(h.containersOf('retry', 'side').map((c) => c.state)).toEqual(['running']);
    h.runtime.exitContainer(h.containersOf('retry', 'work')[0]!.id, 0);
    await h.waitPod('retry', (p) => p.status?.phase === 'Succeeded');

    await h.createPod('initfail', { restartPolicy: 'Never', initContainers: [side(), { name: 'setup', image: IMAGE }], containers: [{ name: 'work', image: IMAGE }] });
    await h.waitPod('initfail', (p) => init(p, 1)?.state?.running);
    h.runtime.exitContainer(h.containersOf('initfail', 'setup')[0]!.id, 3);
    const p = await h.waitPod('initfail', (p) => p.status?.phase === 'Failed');
    expect(init(p, 1).state.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
    expect(h.containersOf('initfail', 'side').map((c) => c.state)).toEqual(['exited']);
    expect(h.containersOf('initfail', 'work')).toHaveLength(0);
  });

  it('stops the containers first and the sidecars after them, in reverse order, running their preStop hooks', async () => {
    const hooks: string[] = [];
    h.runtime.setExecHandler((id, cmd) => {
      hooks.push(`${nameOf(h, id)}:${cmd.join(' ')}`);
      return { exitCode: 0 };
    });
    const preStop = { preStop: { exec: { command: ['drain'] } } };
    await h.createPod('del', {
      terminationGracePeriodSeconds: 20,
      initContainers: [side('proxy', { lifecycle: preStop }), side('logger')],
      containers: [
        { name: 'web', image: IMAGE },
        { name: 'worker', image: IMAGE, lifecycle: preStop },
      ],
    });
    await h.waitPod('del', (p) => p.status?.phase === 'Running' && cond(p, 'Ready')?.status === 'True');
    expect(readyColumn(await h.pod('del'))).toBe('4/4');
    const names = new Map([...h.runtime.containers.values()].map((c) => [c.status.id, c.status.name]));
    await h.client.delete({ apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'del' });
    await until('pod gone', async () => h.pod('del').then(() => false, () => true));
    const stops = h.runtime.calls.filter((c) => c.method === 'stopContainer').map((c) => names.get(c.args[0] as string));
    expect(stops.slice(0, 2).sort()).toEqual(['web', 'worker']);
    expect(stops.slice(2)).toEqual(['logger', 'proxy']);
    expect(hooks.sort()).toEqual(['proxy:drain', 'worker:drain']);
    // Each within the pod's grace period.
    for (const c of h.runtime.calls.filter((c) => c.method === 'stopContainer')) expect(c.args[1]).toBeLessThanOrEqual(20);
  });

  it("feeds a sidecar's readiness into the pod's Ready condition and restarts it when its liveness probe fails", async () => {
    let ready = false;
    let alive = true;
    h.runtime.setExecHandler((_id, cmd) => ({ exitCode: (cmd[0] === 'ready' ? ready : alive) ? 0 : 1 }));
    await h.createPod('probed', {
      initContainers: [
        side('side', {
          readinessProbe: { exec: { command: ['ready'] }, periodSeconds: 1 },
          livenessProbe: { exec: { command: ['alive'] }, periodSeconds: 1, failureThreshold: 1 },
        }),
      ],
      containers: [{ name: 'app', image: IMAGE }],
    });
    let p = await h.waitPod('probed', (p) => main(p)?.ready);
    expect(init(p)).toMatchObject({ started: true, ready: false });
    expect(cond(p, 'ContainersReady')).toMatchObject({ status: 'False', message: 'containers with unready status: [side]' });
    expect(readyColumn(p)).toBe('1/2');
    ready = true;
    p = await h.waitPod('probed', (p) => cond(p, 'Ready')?.status === 'True', 'Ready', 15_000);
    expect(init(p).ready).toBe(true);
    alive = false;
    p = await h.waitPod('probed', (p) => init(p)?.restartCount >= 1, 'sidecar restarted', 15_000);
    // Its probe keeps failing: the next restart waits out a CrashLoopBackOff instead of looping.
    p = await h.waitPod('probed', (p) => init(p)?.state?.waiting?.reason === 'CrashLoopBackOff', 'sidecar in CrashLoopBackOff', 15_000);
    expect(init(p).restartCount).toBeLessThanOrEqual(2);
    alive = true;
    const events = (await h.events('probed')).map((e) => `${e.reason}: ${e.message}`);
    expect(events).toContain('Killing: Init container side failed liveness probe');
    expect(main(p).restartCount).toBe(0);
  }, 40_000);
});

function nameOf(h: Harness, id: string): string | undefined {
  return h.runtime.containers.get(id)?.status.name;
}
