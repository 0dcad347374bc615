/**
 * The HorizontalPodAutoscaler on real usage: a CPU-burning Deployment (requests.cpu 100m, a CFS
 * limit of 200m so three replicas stay kind to a 2-core machine) is scaled up to its maximum of 3
 * at a 50 % target, then back down to 1 once a ConfigMap flag (a volume every replica reads)
 * tells the burners to rest.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSYBOX, deployment, DEPLOYMENT, NS, retryOnConflict, setupCluster, type TestCluster } from './helpers.ts';

const HPA = { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler' } as const;
// Burns while /flag/stop is absent; each round of the inner loop is a few ms of pure shell work.
const BURNER = 'while :; do if [ -f /flag/stop ]; then sleep 1; else i=0; while [ $i -lt 5000 ]; do i=$((i+1)); done; fi; done';

describe('cluster on Docker: horizontal pod autoscaling', () => {
  let tc: TestCluster;
  beforeAll(async () => {
    tc = await setupCluster('hpa', {
      agent: { metrics: { intervalMs: 1_000 } },
      controllers: { hpaSyncPeriodSeconds: 2 },
    });
  });
  afterAll(() => tc?.close());

  const hpa = () => tc.client.get<any>({ ...HPA, namespace: NS, name: 'burn' });
  const replicas = async () => ((await tc.client.get<any>({ ...DEPLOYMENT, namespace: NS, name: 'burn' })).spec.replicas as number);
  const runningPods = async () => (await tc.pods('app=burn')).filter((p) => !p.metadata.deletionTimestamp && p.status?.phase === 'Running');

  it('scales a CPU-burning workload up to its maximum and back down when it rests', async () => {
    await tc.client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'burn-flag', namespace: NS }, data: { mode: 'burn' } });
    await tc.client.create(
      deployment('burn', 1, {
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'burner',
            image: BUSYBOX,
            command: ['sh', '-c', BURNER],
            resources: { requests: { cpu: '100m' }, limits: { cpu: '200m' } },
            volumeMounts: [{ name: 'flag', mountPath: '/flag' }],
          },
        ],
        volumes: [{ name: 'flag', configMap: { name: 'burn-flag' } }],
      }),
    );
    await tc.client.create({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'burn', namespace: NS },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'burn' },
        minReplicas: 1,
        maxReplicas: 3,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
        behavior: { scaleDown: { stabilizationWindowSeconds: 3 } },
      },
    });

    const t0 = Date.now();
    await tc.waitFor('the HPA to scale deployment burn to 3 running replicas', async () => (await replicas()) === 3 && (await runningPods()).length === 3, 90_000, 250);
    const upMs = Date.now() - t0;
    const up = await hpa();
    expect(up.status.currentMetrics[0].resource.name).toBe('cpu');
    expect(up.status.currentMetrics[0].resource.current.averageUtilization).toBeGreaterThan(50);
    const upEvent: any = await tc.waitFor('a SuccessfulRescale event to 3', async () => {
      const evs = await tc.events((e) => e.involvedObject?.kind === 'HorizontalPodAutoscaler' && e.reason === 'SuccessfulRescale');
      return evs.find((e) => e.message.startsWith('New size: 3;'));
    }, 10_000);
    expect(upEvent.message).toBe('New size: 3; reason: cpu resource utilization (percentage of request) above target');
    // Capped at maxReplicas: the burners would want more.
    const capped: any = await tc.waitFor('ScalingLimited=True (TooManyReplicas) while burning', async () => {
      const h = await hpa();
      return h.status.conditions?.some((c: any) => c.type === 'ScalingLimited' && c.status === 'True' && c.reason === 'TooManyReplicas') && h;
    }, 20_000, 250);
    expect(capped.status.desiredReplicas).toBe(3);
    expect(await replicas()).toBe(3);

    // Rest: every replica sees the flag through its ConfigMap volume.
    await retryOnConflict(() => tc.client.patch({ apiVersion: 'v1', kind: 'ConfigMap', namespace: NS, name: 'burn-flag' }, 'merge', { data: { stop: 'yes' } }));
    const t1 = Date.now();
    await tc.waitFor('the HPA to scale deployment burn back down to 1', async () => (await replicas()) === 1 && (await runningPods()).length === 1, 90_000, 250);
    const downMs = Date.now() - t1;
    const down = await hpa();
    expect(down.status.desiredReplicas).toBe(1);
    expect(down.status.currentMetrics[0].resource.current.averageUtilization).toBeLessThan(50);
    const downEvent: any = await tc.waitFor('a SuccessfulRescale event to 1', async () => {
      const evs = await tc.events((e) => e.involvedObject?.kind === 'HorizontalPodAutoscaler' && e.reason === 'SuccessfulRescale');
      return evs.find((e) => e.message.startsWith('New size: 1;'));
    }, 10_000);
    expect(downEvent.message).toBe('New size: 1; reason: All metrics below target');
    console.log(`[hpa] up to 3 in ${upMs} ms, down to 1 in ${downMs} ms; scale-down event: ${downEvent.message}`);
  });
});
