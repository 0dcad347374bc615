import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployment, describePod, docker, httpdContainer, isRunningReady, setupCluster, type TestCluster } from './helpers.ts';

describe('cluster on Docker: self-healing', () => {
  let tc: TestCluster;
  beforeAll(async () => {
    tc = await setupCluster('heal');
  });
  afterAll(() => tc?.close());

  it('probe', async () => {
    const t0 = Date.now();
    await tc.client.create(deployment('web', 3, { containers: [httpdContainer('v1')] }));
    const pods = await tc.waitFor('3 ready', async () => { const p = (await tc.pods('app=web')).filter(isRunningReady); return p.length === 3 && p; });
    console.log('ready in', Date.now() - t0);
    const [a, b] = pods;
    const ca = await tc.podContainers(a.metadata.name);
    const cb = await tc.podContainers(b.metadata.name);
    console.log(ca.map((c) => [c.Id.slice(0, 8), c.State, c.Labels]));
    const t1 = Date.now();
    await Promise.all(ca.map((c) => docker.getContainer(c.Id).kill()));
    await Promise.all(cb.map((c) => docker.getContainer(c.Id).remove({ force: true })));
    await new Promise((r) => setTimeout(r, 300));
    console.log((await tc.pods('app=web')).map(describePod).join('\n'));
    await tc.waitFor('3 ready again', async () => { const p = (await tc.pods('app=web')).filter(isRunningReady); return p.length === 3 && p.every((x) => x.status.containerStatuses[0].restartCount >= 1 || (x.metadata.name !== a.metadata.name && x.metadata.name !== b.metadata.name)) && p; });
    console.log('healed in', Date.now() - t1);
    await new Promise((r) => setTimeout(r, 1500));
    const after = await tc.pods('app=web');
    console.log(JSON.stringify(after.map((p) => ({ n: p.metadata.name, uid: p.metadata.uid, cs: p.status.containerStatuses, ip: p.status.podIP })), null, 1));
    console.log(await tc.dump());
  });
});
