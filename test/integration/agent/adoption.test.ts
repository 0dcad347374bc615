import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSYBOX, allRunning, docker, isRunning, setup, type Env } from './helpers.ts';

describe('node agent on Docker: adoption after an agent restart', () => {
  let env: Env;
  beforeAll(async () => {
    env = await setup('adopt');
  });
  afterAll(() => env?.close());

  it('a new agent instance adopts its containers: none duplicated, none orphaned, restart counts kept', async () => {
    const sleeper = { image: BUSYBOX, command: ['sleep', '3600'] };
    await env.createPod('keep', { terminationGracePeriodSeconds: 1, containers: [{ name: 'a', ...sleeper }, { name: 'b', ...sleeper }] });
    await env.createPod('gone', { terminationGracePeriodSeconds: 1, containers: [{ name: 'a', ...sleeper }] });
    await env.createPod('crashy', { containers: [{ name: 'a', image: BUSYBOX, command: ['sh', '-c', 'sleep 1; exit 1'] }] });
    await env.waitPod('keep', allRunning);
    await env.waitPod('gone', allRunning);
    await env.waitPod('crashy', (p) => p.status?.containerStatuses?.[0]?.restartCount >= 1, 'crashy restarted once');
    const before = await env.dockerContainers();
    const byPod = (list: typeof before, pod: string) => list.filter((c) => c.Labels['io.wheelhouse.pod.name'] === pod).map((c) => c.Id).sort();

    await env.agent.stop();
    // While no agent runs: a pod is deleted for good, and a container of another dies.
    await env.client.delete({ apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'gone' }, { gracePeriodSeconds: 0 });
    const killed = before.find((c) => c.Labels['io.wheelhouse.pod.name'] === 'keep' && c.Labels['io.wheelhouse.container.name'] === 'b')!;
    await docker.getContainer(killed.Id).kill();
    const crashyRestarts = (await env.pod('crashy')).status.containerStatuses[0].restartCount;

    const again = env.newAgent();
    await again.start();
    const p = await env.waitPod('keep', (p) => p.status.containerStatuses.find((c: any) => c.name === 'b')?.restartCount === 1 && allRunning(p), 'b restarted by the new agent');
    expect(p.status.containerStatuses.find((c: any) => c.name === 'a').restartCount).toBe(0);
    let after = await env.dockerContainers();
    for (let i = 0; i < 100 && byPod(after, 'gone').length; i++) {
      await new Promise((r) => setTimeout(r, 50));
      after = await env.dockerContainers();
    }
    expect(byPod(after, 'gone')).toEqual([]);
    // Sandbox and container `a` of `keep` are the very same containers; `b` has its new instance next to the killed one.
    const keepBefore = byPod(before, 'keep');
    const keepAfter = byPod(after, 'keep');
    expect(keepAfter.filter((id) => keepBefore.includes(id)).sort()).toEqual(keepBefore);
    expect(keepAfter).toHaveLength(keepBefore.length + 1);
    const sandboxes = after.filter((c) => c.Labels['io.wheelhouse.type'] === 'sandbox');
    expect(sandboxes.map((s) => s.Labels['io.wheelhouse.pod.name']).sort()).toEqual(['crashy', 'keep']);
    const q = await env.waitPod('crashy', isRunning(), 'crashy running', 10_000).catch(() => env.pod('crashy'));
    expect(q.status.containerStatuses[0].restartCount).toBeGreaterThanOrEqual(crashyRestarts);
  });
});
