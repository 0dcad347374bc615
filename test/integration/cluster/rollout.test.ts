/**
 * Rollouts on the real engine, one Deployment through its life: v1 → v2 under continuous
 * requests (readiness-gated, nothing lost), a v3 that never becomes ready (rolled back to v2 by
 * itself, and the history says why), then `rollout undo --to-revision=1`.
 *
 * Requests go from the test process straight to pod IPs, picked for each request from the
 * Service's live Endpoints (watched), as a service proxy would: there is none yet. Pods leaving
 * the endpoints keep answering for a moment thanks to a preStop sleep, as Kubernetes users do.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAST_AUTO_ROLLBACK_ANNOTATION, REVISION_ANNOTATION, rollbackTo } from '../../../core/controllers/deployment-controller.ts';
import {
  deployment, DEPLOYMENT, EndpointsWatcher, httpdContainer, httpGet, isRunningReady, LoadGenerator, NS, REPLICASET, retryOnConflict, setupCluster, sleep,
  type TestCluster,
} from './helpers.ts';

const NAME = 'shop';
const REF = { ...DEPLOYMENT, namespace: NS, name: NAME };
const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';

describe('cluster on Docker: rollouts', () => {
  let tc: TestCluster;
  let eps: EndpointsWatcher;
  let load: LoadGenerator;

  /** The version each pod serves (its VERSION env), by pod IP. */
  const versionsByIP = async () => {
    const m = new Map<string, string>();
    for (const p of await tc.pods(`app=${NAME}`)) if (p.status?.podIP) m.set(p.status.podIP, p.spec.containers[0].env[0].value);
    return m;
  };
  /** Waits until the rollout to `version` is complete: 3 updated, ready pods serving it, and nothing else left. */
  const waitRolledOut = async (version: string, timeoutMs: number) =>
    tc.waitFor(`deployment ${NAME} rolled out to ${version} (3 ready ${version} pods, no others, all 3 in the endpoints)`, async () => {
      const d: any = await tc.client.get(REF);
      const pods = await tc.pods(`app=${NAME}`);
      const st = d.status ?? {};
      const complete =
        st.observedGeneration >= d.metadata.generation && st.updatedReplicas === 3 && st.replicas === 3 && st.availableReplicas === 3;
      const ok =
        complete &&
        pods.length === 3 &&
        pods.every((p) => isRunningReady(p) && p.spec.containers[0].env[0].value === version) &&
        eps.ready().length === 3 &&
        pods.every((p) => eps.ready().includes(p.status.podIP));
      return ok && d;
    }, timeoutMs);

  beforeAll(async () => {
    tc = await setupCluster('rollout');
    await tc.client.create({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: NAME, namespace: NS },
      spec: { selector: { app: NAME }, ports: [{ port: 80, targetPort: 'http' }] },
    });
    eps = new EndpointsWatcher(tc.client, NAME).start();
  });
  afterAll(async () => {
    await load?.stop();
    eps?.stop();
    await tc?.close();
  });

  it('rolls v1 → v2 under continuous requests without losing one (readiness-gated, preStop drain)', async () => {
    const podSpec = {
      terminationGracePeriodSeconds: 5,
      containers: [
        httpdContainer('v1', {
          lifecycle: { preStop: { exec: { command: ['sleep', '2'] } } },
          readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1, timeoutSeconds: 2, failureThreshold: 3 },
        }),
      ],
    };
    await tc.client.create(
      deployment(NAME, 3, podSpec, {
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
        revisionHistoryLimit: 10,
      }),
    );
    await waitRolledOut('v1', 90_000);

    load = new LoadGenerator(eps, 8080).start();
    await tc.waitFor('the first 20 answers from v1', () => load.ok >= 20, 20_000);
    expect(load.failures).toEqual([]);

    const started = Date.now();
    await retryOnConflict(() => tc.client.patch(REF, 'json', [{ op: 'replace', path: '/spec/template/spec/containers/0/env/0/value', value: 'v2' }]));
    await waitRolledOut('v2', 120_000);
    const rolloutMs = Date.now() - started;
    // Let the last v1 pods finish their drain while requests keep coming.
    await sleep(2_500);
    await load.stop();

    expect(load.failures, `failed requests during the rollout (of ${load.ok + load.failures.length})`).toEqual([]);
    expect(load.answers.get('v1')).toBeGreaterThan(0);
    expect(load.answers.get('v2')).toBeGreaterThan(0);
    expect([...load.answers.keys()].sort()).toEqual(['v1', 'v2']);
    const versions = await versionsByIP();
    for (const ip of eps.ready()) expect(versions.get(ip)).toBe('v2');
    console.log(`[rollout] v1→v2 in ${rolloutMs} ms; ${load.ok} requests answered, ${JSON.stringify(Object.fromEntries(load.answers))}`);

    const d: any = await tc.client.get(REF);
    expect(d.metadata.annotations[REVISION_ANNOTATION]).toBe('2');
  });

  it('rolls a v3 that never becomes ready back to v2 by itself, and the history says why', async () => {
    load = new LoadGenerator(eps, 8080).start();
    const started = Date.now();
    // v3's readiness probe asks a port nothing listens on; a 10 s progress deadline.
    await retryOnConflict(() => tc.client.patch(REF, 'json', [
      { op: 'replace', path: '/spec/template/spec/containers/0/env/0/value', value: 'v3' },
      { op: 'replace', path: '/spec/template/spec/containers/0/readinessProbe/httpGet/port', value: 9999 },
      { op: 'add', path: '/spec/progressDeadlineSeconds', value: 10 },
    ]));
    const rolledBack: any = await tc.waitFor(`the ${LAST_AUTO_ROLLBACK_ANNOTATION} annotation`, async () => {
      const d: any = await tc.client.get(REF);
      return d.metadata.annotations?.[LAST_AUTO_ROLLBACK_ANNOTATION] && d;
    }, 60_000);
    const detectedMs = Date.now() - started;
    await waitRolledOut('v2', 60_000);
    await load.stop();

    // v3 never served (never ready, never in the endpoints), and v2 kept serving throughout.
    expect(load.failures, 'failed requests during the failed rollout').toEqual([]);
    expect([...load.answers.keys()]).toEqual(['v2']);

    const record = JSON.parse(rolledBack.metadata.annotations[LAST_AUTO_ROLLBACK_ANNOTATION]);
    expect(record).toMatchObject({ from: 3, to: 2, reason: 'progress deadline of 10s exceeded' });
    expect(record.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    const d: any = await tc.client.get(REF);
    expect(d.spec.template.spec.containers[0].env[0].value).toBe('v2');
    expect(d.spec.template.spec.containers[0].readinessProbe.httpGet.port).toBe(8080);
    // The rolled-back-to ReplicaSet takes the next revision and remembers its old number.
    expect(d.metadata.annotations[REVISION_ANNOTATION]).toBe('4');
    const rss = (await tc.client.list(REPLICASET, { namespace: NS })).items as any[];
    const byVersion = new Map(rss.map((rs) => [rs.spec.template.spec.containers[0].env[0].value, rs]));
    expect(rss).toHaveLength(3);
    expect(byVersion.get('v1').metadata.annotations[REVISION_ANNOTATION]).toBe('1');
    expect(byVersion.get('v2').metadata.annotations[REVISION_ANNOTATION]).toBe('4');
    expect(byVersion.get('v2').metadata.annotations[REVISION_HISTORY]).toBe('2');
    expect(byVersion.get('v3').metadata.annotations[REVISION_ANNOTATION]).toBe('3');
    expect(byVersion.get('v3').spec.replicas).toBe(0);

    const events = await tc.waitFor('a Warning AutoRollback event', async () => {
      const evs = await tc.events((e) => e.involvedObject?.kind === 'Deployment' && e.involvedObject.name === NAME && e.reason === 'AutoRollback');
      return evs.length > 0 && evs;
    }, 10_000);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'Warning',
      message: 'rollout of revision 3 failed: progress deadline of 10s exceeded; rolled back to revision 2',
    });
    console.log(`[rollout] v3 failure detected and rolled back after ${detectedMs} ms`);

    // Back to a relaxed deadline for what follows.
    await retryOnConflict(() => tc.client.patch(REF, 'merge', { spec: { progressDeadlineSeconds: 600 } }));
  });

  it('undoes to revision 1: pods end up on v1', async () => {
    load = new LoadGenerator(eps, 8080).start();
    // No retry: status writes of the controller meanwhile must not fail an undo.
    const res = await rollbackTo(tc.client, { namespace: NS, name: NAME }, 1);
    expect(res).toMatchObject({ revision: 1, skipped: false, message: 'rolled back' });
    await waitRolledOut('v1', 90_000);
    await sleep(2_500);
    await load.stop();
    expect(load.failures, 'failed requests during the undo').toEqual([]);
    expect(load.answers.get('v1')).toBeGreaterThan(0);

    for (const p of await tc.pods(`app=${NAME}`)) expect((await httpGet(p.status.podIP, 8080)).body.trim()).toBe('v1');
    const d: any = await tc.client.get(REF);
    expect(d.metadata.annotations[REVISION_ANNOTATION]).toBe('5');
    const v1 = ((await tc.client.list(REPLICASET, { namespace: NS })).items as any[]).find((rs) => rs.spec.template.spec.containers[0].env[0].value === 'v1');
    expect(v1.metadata.annotations[REVISION_ANNOTATION]).toBe('5');
    expect(v1.metadata.annotations[REVISION_HISTORY]).toBe('1');
    const ev = await tc.waitFor('a DeploymentRollback event', async () => {
      const evs = await tc.events((e) => e.involvedObject?.name === NAME && e.reason === 'DeploymentRollback');
      return evs[0];
    }, 10_000);
    expect(ev.message).toBe(`Rolled back deployment "${NAME}" to revision 1`);
  });
});
