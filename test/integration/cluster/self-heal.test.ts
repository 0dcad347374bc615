/**
 * Self-healing on the real engine: containers of a Deployment's pods are killed and removed
 * behind Wheelhouse's back (as a user running `docker kill` / `docker rm -f` would), and the
 * node agent brings the same pods back to Running and Ready, with restart counts and events that
 * say what happened.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABEL } from '../../../core/runtime/runtime.ts';
import { deployment, docker, httpdContainer, httpGet, isRunningReady, setupCluster, type TestCluster } from './helpers.ts';

describe('cluster on Docker: self-healing', () => {
  let tc: TestCluster;
  beforeAll(async () => {
    tc = await setupCluster('heal');
  });
  afterAll(() => tc?.close());

  it('a 3-replica Deployment survives docker kill and docker rm -f of its containers', async () => {
    await tc.client.create(deployment('heal', 3, { containers: [httpdContainer('v1')] }));
    const before = await tc.waitFor('3 Running and Ready pods of deployment heal', async () => {
      const ready = (await tc.pods('app=heal')).filter(isRunningReady);
      return ready.length === 3 && ready;
    }, 60_000);
    const [appKilled, sandboxKilled, removed] = before as any[];
    const containersOf = async (pod: any, type: 'container' | 'sandbox') => {
      const cs = (await tc.podContainers(pod.metadata.name)).filter((c) => c.Labels[LABEL.type] === type);
      expect(cs, `${type} of ${pod.metadata.name}`).toHaveLength(1);
      return cs[0]!;
    };

    // 1. docker kill of one pod's app container (its sandbox stays).
    const app = await containersOf(appKilled, 'container');
    // 2. docker kill of another pod's sandbox (pause) container: the pod loses its network.
    const pause = await containersOf(sandboxKilled, 'sandbox');
    // 3. docker rm -f of every container of the third pod, sandbox included.
    const all = await tc.podContainers(removed.metadata.name);
    expect(all.map((c) => c.Labels[LABEL.type]).sort()).toEqual(['container', 'sandbox']);
    const started = Date.now();
    await Promise.all([
      docker.getContainer(app.Id).kill(),
      docker.getContainer(pause.Id).kill(),
      ...all.map((c) => docker.getContainer(c.Id).remove({ force: true })),
    ]);

    const after = await tc.waitFor('all three pods to restart and be Running and Ready again', async () => {
      const pods = await tc.pods('app=heal');
      const ok = pods.length === 3 && pods.every((p) => isRunningReady(p) && p.status.containerStatuses[0].restartCount >= 1);
      return ok && new Map(pods.map((p) => [p.metadata.name as string, p]));
    }, 60_000);
    const healMs = Date.now() - started;

    // The same pods were healed in place by the node agent (no replacement by the ReplicaSet).
    expect([...after.values()].map((p) => p.metadata.uid).sort()).toEqual(before.map((p: any) => p.metadata.uid).sort());
    for (const p of before as any[]) {
      const now = after.get(p.metadata.name);
      expect(now.status.containerStatuses[0].containerID).not.toBe(p.status.containerStatuses[0].containerID);
    }
    expect(after.get(appKilled.metadata.name).status.containerStatuses[0].restartCount).toBe(1);
    expect(after.get(sandboxKilled.metadata.name).status.containerStatuses[0].restartCount).toBe(1);
    // (the removed pod's first re-create may race the removal: at least one restart)
    expect(after.get(removed.metadata.name).status.containerStatuses[0].restartCount).toBeGreaterThanOrEqual(1);
    // The killed container's exit is the pod's last state (SIGKILL: 137).
    expect(after.get(appKilled.metadata.name).status.containerStatuses[0].lastState.terminated).toMatchObject({ exitCode: 137, reason: 'Error' });

    // Events: a new sandbox for the pod whose sandbox died, a second start for every pod.
    const events: any[] = await tc.waitFor('SandboxChanged and a second Started event for every pod', async () => {
      const evs = await tc.events((e) => e.involvedObject?.kind === 'Pod');
      const of = (pod: any, reason: string) => evs.find((e) => e.involvedObject.name === pod.metadata.name && e.reason === reason);
      const ok = of(sandboxKilled, 'SandboxChanged') && (before as any[]).every((p) => (of(p, 'Started')?.count ?? 0) >= 2);
      return ok && evs;
    }, 20_000);
    const changed = events.find((e) => e.reason === 'SandboxChanged' && e.involvedObject.name === sandboxKilled.metadata.name);
    expect(changed).toMatchObject({ type: 'Normal', message: 'Pod sandbox changed, it will be killed and re-created.' });
    expect(events.some((e) => e.reason === 'SandboxChanged' && e.involvedObject.name === appKilled.metadata.name)).toBe(false);

    // They serve again, and the Deployment reports 3 available replicas.
    for (const p of after.values()) expect((await httpGet(p.status.podIP, 8080)).body.trim()).toBe('v1');
    const d = await tc.waitFor('deployment heal to report 3 available replicas', async () => {
      const d: any = await tc.client.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'heal' });
      return d.status?.availableReplicas === 3 && d;
    }, 20_000);
    expect(d.status.readyReplicas).toBe(3);
    console.log(`[self-heal] healed in ${healMs} ms`);
  });
});
