/**
 * What needs a node agent — pull progress, logs, exec, images — against the in-memory
 * FakeRuntime (the real engine is covered by the e2e tests).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../../core/cluster.ts';
import type { DesktopEvents, EventName } from '../../../core/desktop-api.ts';
import { DesktopHost, type DesktopSession } from '../../../core/desktop/host.ts';
import { FakeRuntime } from '../../../core/runtime/fake-runtime.ts';
import { LABEL } from '../../../core/runtime/runtime.ts';
import { deployment, until } from './helpers.ts';

let dir: string;
let rt: FakeRuntime;
let cluster: Cluster;
let host: DesktopHost;
let s: DesktopSession;
const events: Array<{ event: EventName; payload: any }> = [];
const of = <E extends EventName>(e: E) => events.filter((x) => x.event === e).map((x) => x.payload as DesktopEvents[E]);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wh-desktop-rt-'));
  rt = new FakeRuntime({ images: ['wheelhouse/pause:1'] });
  cluster = await startCluster({
    dataDir: dir,
    storeUrl: 'memory:',
    runtime: rt,
    name: 'fake',
    defaultNode: { name: 'node-1', capacity: { cpu: '4', memory: '8Gi', pods: '20' } },
    agent: { metrics: false, resyncIntervalMs: 500 },
  });
  host = new DesktopHost(cluster, { mode: 'browser', batchIntervalMs: 50 });
  s = host.openSession((event, payload) => events.push({ event, payload }));
  await cluster.client.create(deployment('app', { image: 'registry.local/app:2' }));
});

afterAll(async () => {
  s?.close();
  await host?.close();
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const runningPod = () =>
  until(async () => {
    const l = await cluster.client.list({ apiVersion: 'v1', kind: 'Pod', namespace: 'default' });
    return l.items.find((p) => p.status?.phase === 'Running')?.metadata.name;
  }, 'a running pod', 15_000);

describe('with a node agent', () => {
  it('pushes image pull progress of the pod', async () => {
    const pod = await runningPod();
    const update = await until(() => of('pull.update').flatMap((u) => u.pods).find((p) => p.pod === pod && p.images.some((i) => i.done)), 'a finished pull');
    expect(update.images[0]).toMatchObject({ image: 'registry.local/app:2', container: 'main', done: true, totalBytes: 5_000_000 });
    expect(await s.call('pull.progress', { namespace: 'default', pod })).toEqual(update.images);
  });

  it('streams the logs of a pod and of its Deployment, filtered by a search', async () => {
    const pod = await runningPod();
    const c = [...rt.containers.entries()].find(([, x]) => x.config.labels?.[LABEL.podName] === pod || x.status.podName === pod)!;
    rt.appendLog(c[0], 'stdout', 'first line');
    const one = (await s.call('logs.open', { namespace: 'default', pod, follow: true })) as { streamId: string; sources: unknown[] };
    expect(one.sources).toEqual([{ pod, container: 'main' }]);
    const all = (await s.call('logs.open', { namespace: 'default', workload: { kind: 'Deployment', name: 'app' }, follow: true, search: 'ERROR' })) as { streamId: string };
    rt.appendLog(c[0], 'stderr', 'ERROR something broke');
    const lines = (id: string) => of('logs.batch').flatMap((b) => b.streams.filter((x) => x.streamId === id).flatMap((x) => x.lines.map((l) => l.line)));
    await until(() => lines(one.streamId).includes('ERROR something broke'), 'the followed line');
    await until(() => lines(all.streamId).includes('ERROR something broke'), 'the workload line');
    expect(lines(one.streamId)).toEqual(['first line', 'ERROR something broke']);
    expect(lines(all.streamId)).toEqual(['ERROR something broke']);
    const file = (await s.call('logs.download', { namespace: 'default', workload: { kind: 'Deployment', name: 'app' } })) as { fileName: string; text: string };
    expect(file.fileName).toBe('default_deployment-app.log');
    expect(file.text).toContain(`[${pod}/main] first line`);
    await s.call('logs.close', { streamId: one.streamId });
    await s.call('logs.close', { streamId: all.streamId });
  });

  it("follows the pods a workload gets after its logs were opened (scale-up, rollout), and no other workload's", async () => {
    await cluster.client.create(deployment('grow', { image: 'registry.local/grow:1' }));
    await cluster.client.create(deployment('other', { image: 'registry.local/other:1' }));
    const podsOf = async (app: string) =>
      (await cluster.client.list({ apiVersion: 'v1', kind: 'Pod', namespace: 'default' }, { labelSelector: `app=${app}` })).items.filter((p) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp);
    const containerOf = (pod: string) => [...rt.containers.entries()].find(([, x]) => (x.config.labels?.[LABEL.podName] === pod || x.status.podName === pod) && x.status.state === 'running')?.[0];
    const first = (await until(async () => (await podsOf('grow'))[0], 'the first grow pod', 15_000)).metadata.name!;
    const opened = (await s.call('logs.open', { namespace: 'default', workload: { kind: 'Deployment', name: 'grow' }, follow: true })) as { streamId: string; sources: Array<{ pod: string }> };
    expect(opened.sources.map((x) => x.pod)).toEqual([first]);
    const seen = () => of('logs.batch').flatMap((b) => b.streams.filter((x) => x.streamId === opened.streamId).flatMap((x) => x.lines.map((l) => `${l.pod}: ${l.line}`)));

    // Scale up: the new pods' lines arrive on the open stream.
    await cluster.client.patch({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'grow' }, 'merge', { spec: { replicas: 3 } });
    const three = await until(async () => ((await podsOf('grow')).length === 3 ? await podsOf('grow') : undefined), 'three grow pods', 15_000);
    for (const p of three) {
      const id = await until(() => containerOf(p.metadata.name!), `the container of ${p.metadata.name}`);
      rt.appendLog(id, 'stdout', `hello from ${p.metadata.name}`);
    }
    const otherPod = (await until(async () => (await podsOf('other'))[0], 'the other pod', 15_000)).metadata.name!;
    rt.appendLog((await until(() => containerOf(otherPod), 'the other container'))!, 'stdout', 'not mine');
    for (const p of three) await until(() => seen().includes(`${p.metadata.name}: hello from ${p.metadata.name}`), `the line of ${p.metadata.name}`);

    // A rollout: pods of the new ReplicaSet are followed too.
    await cluster.client.patch({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'grow' }, 'strategic', {
      spec: { template: { spec: { containers: [{ name: 'main', image: 'registry.local/grow:2' }] } } },
    });
    const rolled = await until(async () => {
      const ps = (await podsOf('grow')).filter((p) => p.spec?.containers[0]?.image === 'registry.local/grow:2');
      return ps.length > 0 ? ps[0] : undefined;
    }, 'a pod of the new revision', 15_000);
    const id = await until(() => containerOf(rolled.metadata.name!), 'its container');
    rt.appendLog(id, 'stdout', 'new revision');
    await until(() => seen().includes(`${rolled.metadata.name}: new revision`), 'the new revision line');
    expect(seen().some((l) => l.includes('not mine'))).toBe(false);
    // A followed workload's stream does not end while it is open.
    expect(of('logs.end').some((e) => e.streamId === opened.streamId)).toBe(false);
    await s.call('logs.close', { streamId: opened.streamId });
  }, 60_000);

  it('opens an exec session, takes input and a resize, and closes it', async () => {
    const pod = await runningPod();
    const seen: string[] = [];
    rt.setExecHandler((_id, cmd, stdin) => {
      seen.push(`${cmd.join(' ')}|${stdin}`);
      return { exitCode: 0, stdout: 'bye\r\n' };
    });
    const x = (await s.call('exec.open', { namespace: 'default', pod, cols: 100, rows: 30 })) as { sessionId: string; container: string; command: string[] };
    expect(x).toMatchObject({ container: 'main', command: ['sh'] });
    await s.call('exec.write', { sessionId: x.sessionId, data: 'echo hi\n' });
    await s.call('exec.resize', { sessionId: x.sessionId, cols: 120, rows: 40 });
    await s.call('exec.close', { sessionId: x.sessionId });
    await until(() => seen.length === 1, 'the process to have run');
    expect(seen[0]).toBe('sh|echo hi\n');
    await expect(s.call('exec.write', { sessionId: x.sessionId, data: 'x' })).rejects.toMatchObject({ reason: 'NotFound' });
  });

  it('lists the engine images with the pods that use them', async () => {
    const pod = await runningPod();
    const images = (await s.call('images.list', {})) as Array<{ tags: string[]; usedBy: string[] }>;
    const app = images.find((i) => i.tags.some((t) => t.includes('registry.local/app:2')))!;
    expect(app.usedBy).toEqual([`default/${pod}`]);
  });
});
