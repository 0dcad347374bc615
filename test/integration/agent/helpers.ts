/**
 * Set-up for the node agent's integration tests: an in-process control plane (memory store), a
 * DockerRuntime on the real engine and a NodeAgent whose cluster name is unique to the test file;
 * everything Docker holds for that cluster is removed by label afterwards.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeAgent, type NodeAgentOptions } from '../../../core/agent/node-agent.ts';
import type { KubeObject } from '../../../core/api/types.ts';
import { InProcessClient } from '../../../core/client/in-process-client.ts';
import { DockerRuntime } from '../../../core/runtime/docker/docker-runtime.ts';
import { LABEL } from '../../../core/runtime/runtime.ts';
import { ApiServer } from '../../../core/server/api-server.ts';
import { openStore, type Store } from '../../../core/store/index.ts';
import { BUSYBOX, cleanupCluster, docker, requireBusybox } from '../runtime/helpers.ts';

export { BUSYBOX, docker };

export interface Env {
  cluster: string;
  client: InProcessClient;
  runtime: DockerRuntime;
  agent: NodeAgent;
  dataDir: string;
  newAgent(over?: Partial<NodeAgentOptions>): NodeAgent;
  createPod(name: string, spec: Record<string, unknown>, meta?: Record<string, unknown>): Promise<KubeObject>;
  pod(name: string): Promise<any>;
  waitPod(name: string, pred: (p: any) => unknown, what?: string, timeoutMs?: number): Promise<any>;
  waitGone(name: string, timeoutMs?: number): Promise<void>;
  events(name?: string): Promise<any[]>;
  exec(pod: string, container: string | undefined, cmd: string[]): Promise<{ code: number; out: string }>;
  /** Docker containers of this cluster (sandboxes included), by label. */
  dockerContainers(extra?: string[]): Promise<Array<{ Id: string; State: string; Labels: Record<string, string> }>>;
  close(): Promise<void>;
}

export async function setup(prefix: string, over: Partial<NodeAgentOptions> = {}): Promise<Env> {
  await requireBusybox();
  const cluster = `ag-${prefix}-${randomBytes(3).toString('hex')}`;
  const store: Store = await openStore('memory:');
  const api = new ApiServer({ store });
  await api.bootstrap();
  const client = new InProcessClient(api);
  const runtime = new DockerRuntime();
  const dataDir = await mkdtemp(join(tmpdir(), `wh-${prefix}-`));
  const agents: NodeAgent[] = [];
  const newAgent = (o: Partial<NodeAgentOptions> = {}) => {
    const a = new NodeAgent({
      client,
      runtime,
      nodeName: 'node-1',
      cluster,
      dataDir,
      restartBackoff: { initialMs: 300, maxMs: 2000 },
      imagePullBackoff: { initialMs: 500, maxMs: 4000 },
      metrics: false,
      ...over,
      ...o,
    });
    agents.push(a);
    return a;
  };
  const agent = newAgent();
  await agent.start();
  const env: Env = {
    cluster,
    client,
    runtime,
    agent,
    dataDir,
    newAgent,
    createPod: (name, spec, meta = {}) =>
      client.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', ...meta }, spec: { nodeName: 'node-1', ...spec } }),
    pod: (name) => client.get({ apiVersion: 'v1', kind: 'Pod', namespace: 'default', name }),
    async waitPod(name, pred, what = 'condition', timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      let last: any;
      for (;;) {
        try {
          last = await env.pod(name);
          if (pred(last)) return last;
        } catch (e) {
          last = e;
        }
        if (Date.now() > deadline) throw new Error(`timed out waiting for pod ${name}: ${what}; last status: ${JSON.stringify(last?.status ?? String(last))}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async waitGone(name, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        try {
          await env.pod(name);
        } catch {
          return;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`pod ${name} was not deleted within ${timeoutMs}ms`);
    },
    async events(name) {
      await Promise.all(agents.map((a) => (a as any).ctx.recorder.flush()));
      const list = await client.list({ apiVersion: 'v1', kind: 'Event', namespace: 'default' });
      return list.items.filter((e: any) => !name || e.involvedObject?.name === name);
    },
    async exec(pod, container, cmd) {
      const s = await env.agent.exec('default', pod, container, cmd);
      let out = '';
      s.stdout.on('data', (b) => (out += b));
      s.stderr.on('data', (b) => (out += b));
      const ended = Promise.all([new Promise((r) => s.stdout.on('end', r)), new Promise((r) => s.stderr.on('end', r))]);
      const code = await s.exitCode();
      await ended;
      return { code, out };
    },
    async dockerContainers(extra = []) {
      return (await docker.listContainers({ all: true, filters: { label: [`${LABEL.cluster}=${cluster}`, ...extra] } })) as any;
    },
    async close() {
      for (const a of agents) await a.stop().catch(() => {});
      await cleanupCluster(cluster);
      await runtime.close();
      await rm(dataDir, { recursive: true, force: true });
      await rm(join('/dev/shm/wheelhouse', cluster), { recursive: true, force: true });
      await store.close();
    },
  };
  return env;
}

export const isRunning = (i = 0) => (p: any) => p.status?.containerStatuses?.[i]?.state?.running;
export const allRunning = (p: any) => p.status?.phase === 'Running' && p.status.containerStatuses?.every((c: any) => c.state.running);
