/**
 * Pod start: N pods (N = 1 and 50; same local image, same limits) from bound to Running through
 * the node agent (status seen through a watch, as a user would), against raw dockerode creating
 * and starting the same containers in the same run. The raw baseline creates, per pod, the same
 * pair the agent does — a pause container on the cluster network plus the busybox container
 * joining its network and IPC namespaces — so both sides pay for sandboxes. The sides alternate
 * (raw, agent, raw, agent …; 5 runs each for N=1, 1 for N=50) and the best run of each is compared.
 *   {"name":"pod-start","pods":50,"value":…,"unit":"ms","baseline_ms":…,"ratio":…,"target":1.15,…}
 */
import { LABEL } from '../core/runtime/runtime.ts';
import { IMAGE, benchEnv, docker, print, quantile, removeByLabel, round, sleep, type BenchEnv } from './agent-env.ts';

const SIZES = (process.env.WHEELHOUSE_BENCH_PODS ?? '1,50').split(',').map(Number);
/** Runs per side: small N is cheap and noisy (5 runs), large N is slow (1 run keeps the bench under 90 s). */
const rounds = (n: number) => Number(process.env.WHEELHOUSE_BENCH_ROUNDS ?? (n <= 10 ? 5 : 1));
const LIMITS = { cpu: '100m', memory: '32Mi' };

async function rawRun(env: BenchEnv, n: number, round: number): Promise<{ total: number; perPod: number[] }> {
  const network = env.agent.network;
  const label = { [LABEL.cluster]: env.cluster, 'bench.raw': `r${round}` };
  const t0 = performance.now();
  const perPod = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const start = performance.now();
      const pause = await docker.createContainer({
        name: `${env.cluster}-raw${round}-${i}-pause`,
        Image: env.runtime.pauseImage,
        Labels: label,
        HostConfig: { NetworkMode: network, IpcMode: 'shareable', RestartPolicy: { Name: 'no' } },
      });
      await pause.start();
      const ns = `container:${pause.id}`;
      const c = await docker.createContainer({
        name: `${env.cluster}-raw${round}-${i}-c`,
        Image: IMAGE,
        Entrypoint: ['sleep', '3600'],
        Labels: label,
        HostConfig: { NetworkMode: ns, IpcMode: ns, Memory: 32 * 1024 * 1024, NanoCpus: 100_000_000, CpuShares: 102, RestartPolicy: { Name: 'no' } },
      });
      await c.start();
      return performance.now() - start;
    }),
  );
  const total = performance.now() - t0;
  await removeByLabel(env.cluster, [`bench.raw=r${round}`]);
  return { total, perPod };
}

async function agentRun(env: BenchEnv, n: number, round: number): Promise<{ total: number; perPod: number[] }> {
  const names = Array.from({ length: n }, (_, i) => `p${round}-${i}`);
  const running = env.watchPods(names, (p) => p.status?.phase === 'Running' && p.status.containerStatuses?.[0]?.state?.running);
  const created = new Map<string, number>();
  const t0 = performance.now();
  await Promise.all(
    names.map(async (name) => {
      created.set(name, performance.now());
      await env.client.create({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: 'default' },
        spec: {
          nodeName: 'node-1',
          terminationGracePeriodSeconds: 0,
          containers: [{ name: 'c', image: IMAGE, command: ['sleep', '3600'], resources: { limits: LIMITS } }],
        },
      });
    }),
  );
  const at = await running;
  const total = Math.max(...at.values()) - t0;
  const perPod = names.map((n) => at.get(n)! - created.get(n)!);
  await Promise.all(names.map((name) => env.client.delete({ apiVersion: 'v1', kind: 'Pod', namespace: 'default', name }, { gracePeriodSeconds: 0 })));
  for (let i = 0; i < 600; i++) {
    const left = await docker.listContainers({ all: true, filters: { label: [`${LABEL.cluster}=${env.cluster}`, `${LABEL.node}=node-1`] } });
    if (!left.length) break;
    await sleep(100);
  }
  return { total, perPod };
}

const env = await benchEnv('start');
try {
  await env.agent.start();
  // Warm-up: the first container create on a fresh network is slower on both sides.
  await rawRun(env, 1, 99);
  await agentRun(env, 1, 99);
  for (const n of SIZES) {
    const raw: Array<{ total: number; perPod: number[] }> = [];
    const agent: Array<{ total: number; perPod: number[] }> = [];
    for (let r = 0; r < rounds(n); r++) {
      raw.push(await rawRun(env, n, r));
      agent.push(await agentRun(env, n, r));
    }
    const bestRaw = raw.reduce((a, b) => (b.total < a.total ? b : a));
    const bestAgent = agent.reduce((a, b) => (b.total < a.total ? b : a));
    print({
      name: 'pod-start',
      pods: n,
      value: round(bestAgent.total),
      unit: 'ms',
      baseline_ms: round(bestRaw.total),
      ratio: round(bestAgent.total / bestRaw.total, 3),
      target: 1.15,
      agent_p50_ms: round(quantile(bestAgent.perPod, 0.5)),
      raw_p50_ms: round(quantile(bestRaw.perPod, 0.5)),
      agent_runs_ms: agent.map((x) => round(x.total)),
      raw_runs_ms: raw.map((x) => round(x.total)),
      baseline: 'raw dockerode: pause container + busybox container per pod, same limits',
    });
  }
} finally {
  await env.cleanup();
}
