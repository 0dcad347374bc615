import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IMAGE, harness, running, until, type Harness } from './harness.ts';

describe('node agent: pod lifecycle (fake runtime)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
    await h.agent.start();
  });
  afterEach(() => h.close());

  it('runs a bound pod and reports its status as the kubelet does', async () => {
    await h.createPod('web', { containers: [{ name: 'web', image: IMAGE }] });
    const p = await h.waitPod('web', (p) => p.status?.phase === 'Running' && p.status.containerStatuses?.[0]?.ready);
    const s = p.status;
    expect(s.podIP).toMatch(/^10\.88\./);
    expect(s.podIPs).toEqual([{ ip: s.podIP }]);
    expect(s.hostIP).toBe('10.88.0.1');
    expect(s.startTime).toMatch(/Z$/);
    expect(s.qosClass).toBe('BestEffort');
    expect(s.conditions.map((c: any) => `${c.type}=${c.status}`)).toEqual([
      'PodReadyToStartContainers=True',
      'Initialized=True',
      'Ready=True',
      'ContainersReady=True',
      'PodScheduled=True',
    ]);
    const cs = s.containerStatuses[0];
    expect(cs).toMatchObject({ name: 'web', ready: true, started: true, restartCount: 0, image: IMAGE, lastState: {} });
    expect(cs.containerID).toMatch(/^docker:\/\/[0-9a-f]{64}$/);
    expect(cs.imageID).toMatch(/^docker:\/\/sha256:/);
    expect(cs.state.running.startedAt).toMatch(/Z$/);
    const reasons = (await h.events('web')).map((e) => `${e.reason}: ${e.message}`);
    expect(reasons).toEqual([
      `Pulled: Container image "${IMAGE}" already present on machine`,
      'Created: Created container web',
      'Started: Started container web',
    ]);
    // One sandbox, one container.
    expect(h.runtime.sandboxes.size).toBe(1);
    expect(h.containersOf('web')).toHaveLength(1);
  });

  it('runs init containers in order, each to completion, then the containers', async () => {
    await h.createPod('init', {
      initContainers: [
        { name: 'one', image: IMAGE },
        { name: 'two', image: IMAGE },
      ],
      containers: [{ name: 'main', image: IMAGE }],
    });
    let p = await h.waitPod('init', (p) => p.status?.initContainerStatuses?.[0]?.state?.running);
    expect(p.status.phase).toBe('Pending');
    expect(p.status.initContainerStatuses[1].state.waiting.reason).toBe('PodInitializing');
    expect(p.status.containerStatuses[0].state.waiting.reason).toBe('PodInitializing');
    expect(p.status.conditions.find((c: any) => c.type === 'Initialized')).toMatchObject({
      status: 'False',
      reason: 'ContainersNotInitialized',
      message: 'containers with incomplete status: [one two]',
    });
    expect(h.containersOf('init', 'two')).toHaveLength(0);
    h.runtime.exitContainer(h.containersOf('init', 'one')[0]!.id, 0);
    p = await h.waitPod('init', (p) => p.status?.initContainerStatuses?.[1]?.state?.running);
    expect(p.status.initContainerStatuses[0].state.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(h.containersOf('init', 'main')).toHaveLength(0);
    h.runtime.exitContainer(h.containersOf('init', 'two')[0]!.id, 0);
    p = await h.waitPod('init', (p) => p.status?.phase === 'Running');
    expect(p.status.conditions.find((c: any) => c.type === 'Initialized').status).toBe('True');
  });

  it('restarts a failed init container per restartPolicy, and fails the pod with Never', async () => {
    await h.createPod('initfail', { restartPolicy: 'Never', initContainers: [{ name: 'i', image: IMAGE }], containers: [{ name: 'm', image: IMAGE }] });
    await h.waitPod('initfail', (p) => p.status?.initContainerStatuses?.[0]?.state?.running);
    h.runtime.exitContainer(h.containersOf('initfail', 'i')[0]!.id, 3);
    const p = await h.waitPod('initfail', (p) => p.status?.phase === 'Failed');
    expect(p.status.initContainerStatuses[0].state.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
    expect(h.containersOf('initfail', 'm')).toHaveLength(0);

    await h.createPod('initretry', { restartPolicy: 'Always', initContainers: [{ name: 'i', image: IMAGE }], containers: [{ name: 'm', image: IMAGE }] });
    await h.waitPod('initretry', (p) => p.status?.initContainerStatuses?.[0]?.state?.running);
    h.runtime.exitContainer(h.containersOf('initretry', 'i')[0]!.id, 1);
    const q = await h.waitPod('initretry', (p) => p.status?.initContainerStatuses?.[0]?.restartCount === 1 && p.status.initContainerStatuses[0].state.running);
    expect(q.status.phase).toBe('Pending');
  });

  it('backs off a crashing container: first restart at once, then CrashLoopBackOff doubling', async () => {
    await h.createPod('crash', { containers: [{ name: 'c', image: IMAGE }] });
    await h.waitPod('crash', running());
    h.runtime.exitContainer(h.containersOf('crash')[0]!.id, 1);
    let p = await h.waitPod('crash', (p) => p.status?.containerStatuses?.[0]?.restartCount === 1 && p.status.containerStatuses[0].state.running);
    expect(p.status.containerStatuses[0].lastState.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
    const crashedAt = Date.now();
    h.runtime.exitContainer(h.containersOf('crash')[0]!.id, 2);
    p = await h.waitPod('crash', (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff');
    const cs = p.status.containerStatuses[0];
    const uid = p.metadata.uid;
    expect(cs.state.waiting.message).toBe(`back-off 200ms restarting failed container=c pod=crash_default(${uid})`);
    expect(cs.lastState.terminated).toMatchObject({ exitCode: 2, reason: 'Error' });
    expect(cs.restartCount).toBe(1);
    expect(p.status.phase).toBe('Running');
    expect(p.status.conditions.find((c: any) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [c]' });
    p = await h.waitPod('crash', (p) => p.status?.containerStatuses?.[0]?.restartCount === 2 && p.status.containerStatuses[0].state.running);
    expect(Date.now() - crashedAt).toBeGreaterThanOrEqual(180);
    const ev = (await h.events('crash')).find((e) => e.reason === 'BackOff');
    expect(ev).toMatchObject({ type: 'Warning', message: `Back-off restarting failed container c in pod crash_default(${uid})` });
    // The previous instance is kept (logs --previous), older ones are removed.
    expect(h.containersOf('crash').map((c) => c.attempt)).toEqual([2, 1]);
  });

  it('Job-style pods end Succeeded or Failed, keep their containers, and stop the sandbox', async () => {
    await h.createPod('ok', { restartPolicy: 'Never', containers: [{ name: 'c', image: IMAGE }] });
    await h.createPod('bad', { restartPolicy: 'Never', containers: [{ name: 'c', image: IMAGE }] });
    await h.createPod('retry', { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: IMAGE }] });
    await Promise.all(['ok', 'bad', 'retry'].map((n) => h.waitPod(n, running())));
    h.runtime.exitContainer(h.containersOf('ok')[0]!.id, 0);
    h.runtime.exitContainer(h.containersOf('bad')[0]!.id, 7);
    h.runtime.exitContainer(h.containersOf('retry')[0]!.id, 1);
    const ok = await h.waitPod('ok', (p) => p.status?.phase === 'Succeeded');
    expect(ok.status.containerStatuses[0].state.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(ok.status.conditions.find((c: any) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'PodCompleted' });
    const bad = await h.waitPod('bad', (p) => p.status?.phase === 'Failed');
    expect(bad.status.containerStatuses[0].state.terminated).toMatchObject({ exitCode: 7, reason: 'Error' });
    await h.waitPod('retry', (p) => p.status?.containerStatuses?.[0]?.restartCount === 1);
    await until('sandboxes stopped', () => [...h.runtime.sandboxes.values()].filter((s) => s.status.podName !== 'retry').every((s) => s.status.state === 'notready'));
    expect(h.containersOf('ok')).toHaveLength(1);
    h.runtime.exitContainer(h.containersOf('retry')[0]!.id, 0);
    await h.waitPod('retry', (p) => p.status?.phase === 'Succeeded');
  });

  it('reports OOMKilled', async () => {
    await h.createPod('oom', { restartPolicy: 'Never', containers: [{ name: 'c', image: IMAGE, resources: { limits: { memory: '16Mi' } } }] });
    await h.waitPod('oom', running());
    const cfg = h.runtime.containers.get(h.containersOf('oom')[0]!.id)!.config;
    expect(cfg.resources).toEqual({ memoryLimitBytes: 16 * 1024 * 1024, cpuShares: 2 });
    h.runtime.oomKill(h.containersOf('oom')[0]!.id);
    const p = await h.waitPod('oom', (p) => p.status?.phase === 'Failed');
    expect(p.status.containerStatuses[0].state.terminated).toMatchObject({ exitCode: 137, reason: 'OOMKilled' });
  });

  it('deletes a pod gracefully: Killing, stop within the grace period, then removal from the API', async () => {
    await h.createPod('del', { terminationGracePeriodSeconds: 7, containers: [{ name: 'c', image: IMAGE }] });
    await h.waitPod('del', running());
    await h.client.delete({ apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'del' });
    await until('pod gone', async () => h.pod('del').then(() => false, () => true));
    const stop = h.runtime.calls.find((c) => c.method === 'stopContainer');
    expect(stop?.args[1]).toBe(7);
    expect(h.runtime.sandboxes.size).toBe(0);
    expect(h.containersOf('del')).toHaveLength(0);
    expect((await h.events('del')).map((e) => e.reason)).toContain('Killing');
  });

  it('runs the preStop hook before stopping', async () => {
    const seen: string[][] = [];
    h.runtime.setExecHandler((_id, cmd) => {
      seen.push(cmd);
      return { exitCode: 0 };
    });
    await h.createPod('hook', { containers: [{ name: 'c', image: IMAGE, lifecycle: { preStop: { exec: { command: ['sh', '-c', 'echo bye'] } } } }] });
    await h.waitPod('hook', running());
    await h.client.delete({ apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'hook' }, { gracePeriodSeconds: 5 });
    await until('pod gone', async () => h.pod('hook').then(() => false, () => true));
    expect(seen).toEqual([['sh', '-c', 'echo bye']]);
    const methods = h.runtime.calls.map((c) => c.method);
    expect(methods.indexOf('execSync')).toBeLessThan(methods.indexOf('stopContainer'));
  });

  it('restarts a running container whose image changed', async () => {
    h.runtime.addImage('wheelhouse-test/other:2');
    await h.createPod('upd', { containers: [{ name: 'c', image: IMAGE }] });
    const p = await h.waitPod('upd', running());
    p.spec.containers[0].image = 'wheelhouse-test/other:2';
    await h.client.update(p);
    const q = await h.waitPod('upd', (p) => p.status?.containerStatuses?.[0]?.image === 'wheelhouse-test/other:2' && p.status.containerStatuses[0].state.running);
    expect(q.status.containerStatuses[0].restartCount).toBe(1);
    expect((await h.events('upd')).some((e) => e.message === 'Container c definition changed, will be restarted')).toBe(true);
  });

  it('writes status only when it changed', async () => {
    await h.createPod('quiet', { containers: [{ name: 'c', image: IMAGE }] });
    const p = await h.waitPod('quiet', (p) => p.status?.containerStatuses?.[0]?.ready);
    h.agent.syncNow();
    await h.agent.whenIdle();
    h.agent.syncNow();
    await h.agent.whenIdle();
    const q = await h.pod('quiet');
    expect(q.metadata.resourceVersion).toBe(p.metadata.resourceVersion);
  });
});
