import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IMAGE, harness, running, until, type Harness } from './harness.ts';

describe('node agent: adoption, logs, exec (fake runtime)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
    await h.agent.start();
  });
  afterEach(() => h.close());

  it('a restarted agent adopts its containers: none duplicated, none orphaned, restart counts kept', async () => {
    await h.createPod('keep', { containers: [{ name: 'c', image: IMAGE }] });
    await h.createPod('gone', { containers: [{ name: 'c', image: IMAGE }] });
    await h.waitPod('keep', running());
    await h.waitPod('gone', running());
    h.runtime.exitContainer(h.containersOf('keep')[0]!.id, 1);
    await h.waitPod('keep', (p) => p.status?.containerStatuses?.[0]?.restartCount === 1 && p.status.containerStatuses[0].state.running);
    await h.agent.stop();
    // While the agent is away: one pod is deleted for good.
    await h.client.delete({ apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'gone' }, { gracePeriodSeconds: 0 });
    const created = () => h.runtime.calls.filter((c) => c.method === 'createContainer' || c.method === 'runPodSandbox').length;
    const before = created();
    const again = h.newAgent();
    await again.start();
    await until('orphan removed', () => h.containersOf('gone').length === 0);
    await again.whenIdle();
    expect(created()).toBe(before);
    expect([...h.runtime.sandboxes.values()].map((s) => s.status.podName)).toEqual(['keep']);
    const p = await h.waitPod('keep', running());
    expect(p.status.containerStatuses[0].restartCount).toBe(1);
    // And it carries on: a crash is handled by the new agent.
    h.runtime.exitContainer(h.containersOf('keep')[0]!.id, 1);
    await h.waitPod('keep', (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff' || p.status.containerStatuses[0].restartCount === 2);
  });

  it('recreates a sandbox that died, and its containers with it', async () => {
    await h.createPod('sb', { containers: [{ name: 'c', image: IMAGE }] });
    const p = await h.waitPod('sb', running());
    const sandbox = [...h.runtime.sandboxes.values()][0]!;
    h.runtime.killSandbox(sandbox.status.id);
    const q = await h.waitPod('sb', (x) => x.status.podIP && x.status.podIP !== p.status.podIP && x.status.containerStatuses[0].state.running);
    expect(q.status.containerStatuses[0].restartCount).toBe(1);
    // The dead sandbox is left to the reaper (removed once the node is quiet), not removed first.
    expect([...h.runtime.sandboxes.values()].map((s) => s.status.attempt).sort()).toEqual([0, 1]);
    expect(h.agent.reaper.pending).toBe(1);
    await h.agent.reaper.flush();
    expect([...h.runtime.sandboxes.values()].map((s) => s.status.attempt)).toEqual([1]);
    expect(h.runtime.containers.size).toBe(1);
    expect((await h.events('sb')).some((e) => e.reason === 'SandboxChanged')).toBe(true);
  });

  it('stops an older sandbox that came up late (the engine finished a start for a killed agent)', async () => {
    await h.createPod('late', { containers: [{ name: 'c', image: IMAGE }] });
    await h.waitPod('late', running());
    const old = [...h.runtime.sandboxes.values()][0]!;
    const oldContainer = h.containersOf('late')[0]!;
    h.runtime.killSandbox(old.status.id);
    await h.waitPod('late', (x) => x.status.containerStatuses?.[0]?.restartCount === 1 && x.status.containerStatuses[0].state.running);
    await h.agent.whenIdle();
    // The engine now finishes what it was doing for the old sandbox: it runs again, with its container.
    old.status = { ...old.status, state: 'ready', ip: '10.88.9.9' };
    h.runtime.containers.get(oldContainer.id)!.status.state = 'running';
    const runningNow = () => ({
      sandboxes: [...h.runtime.sandboxes.values()].filter((s) => s.status.state === 'ready').length,
      containers: [...h.runtime.containers.values()].filter((c) => c.status.state === 'running').length,
    });
    expect(runningNow()).toEqual({ sandboxes: 2, containers: 2 });
    h.agent.syncNow('default', 'late');
    await until('the stray sandbox stopped', () => runningNow().sandboxes === 1 && runningNow().containers === 1);
    expect(old.status.state).toBe('notready');
    const p = await h.waitPod('late', running());
    expect(p.status.containerStatuses[0].restartCount).toBe(1);
    expect(p.status.podIP).not.toBe('10.88.9.9');
    await h.agent.reaper.flush();
    expect(h.runtime.sandboxes.has(old.status.id)).toBe(false);
    expect(h.runtime.containers.has(oldContainer.id)).toBe(false);
  });

  it('serves logs (tail, previous instance) and exec', async () => {
    await h.createPod('logs', { containers: [{ name: 'c', image: IMAGE }] });
    await h.waitPod('logs', running());
    const first = h.containersOf('logs')[0]!.id;
    h.runtime.appendLog(first, 'stdout', 'one');
    h.runtime.appendLog(first, 'stdout', 'two');
    h.runtime.exitContainer(first, 1);
    await h.waitPod('logs', (p) => p.status?.containerStatuses?.[0]?.restartCount === 1 && p.status.containerStatuses[0].state.running);
    h.runtime.appendLog(h.containersOf('logs')[0]!.id, 'stdout', 'three');
    const read = async (opts: any) => {
      const out: string[] = [];
      for await (const l of await h.agent.logs('default', 'logs', 'c', opts)) out.push(l.line);
      return out;
    };
    expect(await read({})).toEqual(['three']);
    expect(await read({ previous: true })).toEqual(['one', 'two']);
    expect(await read({ previous: true, tailLines: 1 })).toEqual(['two']);
    await expect(h.agent.logs('default', 'logs', 'nope')).rejects.toThrow('container nope is not valid for pod logs');
    h.runtime.setExecHandler((_id, cmd) => ({ exitCode: 0, stdout: cmd.join(' ') }));
    const s = await h.agent.exec('default', 'logs', undefined, ['echo', 'hi']);
    let out = '';
    const ended = new Promise((r) => s.stdout.on('end', r));
    s.stdout.on('data', (b) => (out += b));
    expect(await s.exitCode()).toBe(0);
    await ended;
    expect(out).toBe('echo hi');
  });

  it('explains logs of a container that has not started', async () => {
    h.runtime.failPull('example.com/x:1', 'no such host');
    await h.createPod('early', { containers: [{ name: 'c', image: 'example.com/x:1' }] });
    await h.waitPod('early', (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ErrImagePull');
    await expect(h.agent.logs('default', 'early', 'c')).rejects.toThrow(/^container "c" in pod "early" is waiting to start: (ErrImagePull|ImagePullBackOff)$/);
    await expect(h.agent.logs('default', 'early', 'c', { previous: true })).rejects.toThrow('previous terminated container "c" in pod "early" not found');
  });
});
