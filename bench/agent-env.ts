/**
 * Shared set-up for the node agent's benchmarks: an in-process control plane (memory store), the
 * Docker runtime, a NodeAgent whose cluster name is unique to the run, a pod watcher, and
 * clean-up by label. Not a bench itself (bench/run.ts only runs *.bench.ts).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { NodeAgent, type NodeAgentOptions } from '../core/agent/node-agent.ts';
import { InProcessClient } from '../core/client/in-process-client.ts';
import { DockerRuntime } from '../core/runtime/docker/docker-runtime.ts';
import { LABEL } from '../core/runtime/runtime.ts';
import { ApiServer } from '../core/server/api-server.ts';
import { openStore, type Store } from '../core/store/index.ts';
import { removeLabelled } from '../test/docker-cleanup.ts';

process.env.WHEELHOUSE_LOG ??= 'warn';

export const IMAGE = `wheelhouse-test/busybox:${process.env.TEST_IMAGE_VERSION ?? '1'}`;
export const docker = new Docker();

export interface BenchEnv {
  cluster: string;
  store: Store;
  client: InProcessClient;
  runtime: DockerRuntime;
  agent: NodeAgent;
  dataDir: string;
  /** Resolves with the time (performance.now()) each named pod first satisfied `pred`. */
  watchPods(names: string[], pred: (p: any) => boolean): Promise<Map<string, number>>;
  cleanup(): Promise<void>;
}

export async function benchEnv(prefix: string, over: Partial<NodeAgentOptions> = {}): Promise<BenchEnv> {
  try {
    await docker.getImage(IMAGE).inspect();
  } catch {
    throw new Error(`bench image ${IMAGE} is missing: run bash scripts/build-test-images.sh`);
  }
  const cluster = `bench-${prefix}-${randomBytes(3).toString('hex')}`;
  const store = await openStore('memory:');
  const api = new ApiServer({ store });
  await api.bootstrap();
  const client = new InProcessClient(api);
  const runtime = new DockerRuntime();
  await runtime.ensurePauseImage();
  const dataDir = await mkdtemp(join(tmpdir(), `wh-bench-${prefix}-`));
  const agent = new NodeAgent({ client, runtime, nodeName: 'node-1', cluster, dataDir, metrics: false, ...over });
  return {
    cluster,
    store,
    client,
    runtime,
    agent,
    dataDir,
    watchPods(names, pred) {
      const want = new Set(names);
      const seen = new Map<string, number>();
      return new Promise((resolve) => {
        const w = client.watch({ apiVersion: 'v1', kind: 'Pod', namespace: 'default' }, {}, (ev) => {
          const p = ev.object as any;
          const n = p.metadata?.name;
          if (!want.has(n) || seen.has(n) || !pred(p)) return;
          seen.set(n, performance.now());
          if (seen.size === want.size) {
            w.close();
            resolve(seen);
          }
        });
      });
    },
    async cleanup() {
      await agent.stop().catch(() => {});
      await removeByLabel(cluster);
      await runtime.close();
      await rm(dataDir, { recursive: true, force: true });
      await store.close();
    },
  };
}

export async function removeByLabel(cluster: string, extra: string[] = []): Promise<void> {
  const label = [`${LABEL.cluster}=${cluster}`, ...extra];
  const list = await docker.listContainers({ all: true, filters: { label } });
  await Promise.all(list.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => {})));
  if (extra.length) return;
  await removeLabelled(docker, cluster);
}

export function quantile(xs: number[], q: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

export const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

export function print(line: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(line) + '\n');
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
