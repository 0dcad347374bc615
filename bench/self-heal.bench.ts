/**
 * Self-healing: a pod's container is killed until a container of that pod runs again (the
 * engine's `start` event), through the node agent, against Docker's own `restart: always` policy
 * on plain containers of the same image in the same run.
 *
 * How containers are killed: Docker 20.10 treats `docker kill` as a manual stop and does NOT
 * restart the container, so the baseline cannot use it. Both sides are therefore killed the same
 * way — SIGKILL to the container's main process from the host (a crash, as the engine sees it);
 * the agent is also measured with `docker kill` (the wording), which it handles the same.
 * Kills are one at a time, each on a different pod/container: the kubelet restarts a container's
 * first crash without delay (CrashLoopBackOff only holds back the second and later ones), and so
 * does the agent. Also reported: when the restart shows in the pod's status through the API.
 *   {"name":"self-heal","value":<agent p50 ms>,"unit":"ms","baseline_ms":<docker p50>,"ratio":…,"target":1.5,…}
 */
import { LABEL } from '../core/runtime/runtime.ts';
import { IMAGE, benchEnv, docker, print, quantile, round, sleep } from './agent-env.ts';

const KILLS = Number(process.env.WHEELHOUSE_BENCH_KILLS ?? 8);

/** SIGKILL to a container's main process, from the host (needs the engine on this kernel, as on Linux). */
async function crash(id: string): Promise<void> {
  const pid = (await docker.getContainer(id).inspect()).State.Pid;
  try {
    process.kill(pid, 'SIGKILL');
  } catch (err) {
    throw new Error(`cannot signal container process ${pid} from here (${(err as Error).message}); this bench needs a local Linux engine`);
  }
}

/** Calls `onStart(id, labels, t)` for every container start of the cluster, from the engine's event stream. */
async function startEvents(cluster: string, onStart: (id: string, labels: Record<string, string>, t: number) => void): Promise<() => void> {
  const stream = (await docker.getEvents({ filters: { type: ['container'], event: ['start'], label: [`${LABEL.cluster}=${cluster}`] } })) as NodeJS.ReadableStream & { destroy(): void };
  let buf = '';
  stream.on('data', (chunk: Buffer) => {
    const t = performance.now();
    buf += chunk.toString('utf8');
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (!line.trim()) continue;
      const ev = JSON.parse(line) as { Actor?: { ID?: string; Attributes?: Record<string, string> } };
      onStart(ev.Actor?.ID ?? '', ev.Actor?.Attributes ?? {}, t);
    }
  });
  return () => stream.destroy();
}

function waiter() {
  const waiting = new Map<string, (t: number) => void>();
  return {
    wait(key: string, timeoutMs = 30_000): Promise<number> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no restart of ${key} within ${timeoutMs} ms`)), timeoutMs);
        waiting.set(key, (t) => {
          clearTimeout(timer);
          resolve(t);
        });
      });
    },
    fire(key: string, t: number) {
      const w = waiting.get(key);
      waiting.delete(key);
      w?.(t);
    },
  };
}

const env = await benchEnv('heal');
try {
  await env.agent.start();
  const starts = waiter();
  const stop = await startEvents(env.cluster, (id, labels, t) => {
    if (labels[LABEL.type] === 'container') starts.fire(`pod:${labels[LABEL.podName]}`, t);
    starts.fire(`id:${id}`, t);
  });
  try {
    // The pods, and the same number of plain containers with restart: always.
    const names = Array.from({ length: 2 * KILLS }, (_, i) => `heal-${i}`);
    const ready = env.watchPods(names, (p) => p.status?.containerStatuses?.[0]?.state?.running);
    await Promise.all(
      names.map((name) =>
        env.client.create({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name, namespace: 'default' },
          spec: { nodeName: 'node-1', terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: IMAGE, command: ['sleep', '3600'] }] },
        }),
      ),
    );
    await ready;
    const plain = await Promise.all(
      names.slice(0, KILLS).map(async (_, i) => {
        const c = await docker.createContainer({
          name: `${env.cluster}-plain-${i}`,
          Image: IMAGE,
          Entrypoint: ['sleep', '3600'],
          Labels: { [LABEL.cluster]: env.cluster, 'bench.plain': '1' },
          HostConfig: { NetworkMode: env.agent.network, RestartPolicy: { Name: 'always' } },
        });
        await c.start();
        return c.id;
      }),
    );
    await sleep(500);

    const agentMs: number[] = [];
    const apiMs: number[] = [];
    const dockerKillMs: number[] = [];
    const dockerMs: number[] = [];
    const healPod = async (name: string, kill: (id: string) => Promise<void>) => {
      const [target] = await docker.listContainers({ filters: { label: [`${LABEL.cluster}=${env.cluster}`, `${LABEL.podName}=${name}`, `${LABEL.type}=container`] } });
      const inApi = env.watchPods([name], (p) => p.status?.containerStatuses?.[0]?.restartCount === 1 && p.status.containerStatuses[0].state.running);
      const started = starts.wait(`pod:${name}`);
      const t0 = performance.now();
      await kill(target!.Id);
      const ms = (await started) - t0;
      return { ms, apiMs: (await inApi).get(name)! - t0 };
    };
    for (let i = 0; i < KILLS; i++) {
      // Agent, process crash.
      const a = await healPod(names[i]!, crash);
      agentMs.push(a.ms);
      apiMs.push(a.apiMs);
      // Docker, process crash of a plain container with restart: always.
      const id = plain[i]!;
      const back = starts.wait(`id:${id}`);
      const t1 = performance.now();
      await crash(id);
      dockerMs.push((await back) - t1);
      // Agent, `docker kill`.
      dockerKillMs.push((await healPod(names[KILLS + i]!, (cid) => docker.getContainer(cid).kill())).ms);
      await sleep(200);
    }
    const p50 = quantile(agentMs, 0.5);
    const base = quantile(dockerMs, 0.5);
    print({
      name: 'self-heal',
      kills: KILLS,
      value: round(p50),
      unit: 'ms',
      baseline_ms: round(base),
      ratio: round(p50 / base, 3),
      target: 1.5,
      target_p50_ms: 500,
      agent_p90_ms: round(quantile(agentMs, 0.9)),
      docker_p90_ms: round(quantile(dockerMs, 0.9)),
      api_visible_p50_ms: round(quantile(apiMs, 0.5)),
      agent_docker_kill_p50_ms: round(quantile(dockerKillMs, 0.5)),
      agent_ms: agentMs.map((x) => round(x)),
      docker_ms: dockerMs.map((x) => round(x)),
      baseline: "Docker's restart policy always on plain containers (same image); both killed by SIGKILL to the main process",
    });
  } finally {
    stop();
  }
} finally {
  await env.cleanup();
}
