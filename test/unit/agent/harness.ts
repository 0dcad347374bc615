/**
 * A node agent on the fake runtime with an in-process control plane (memory store), for the
 * agent's unit tests: short backoffs and intervals so state machines run in milliseconds.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../../../core/api/types.ts';
import { InProcessClient } from '../../../core/client/in-process-client.ts';
import { NodeAgent, type NodeAgentOptions } from '../../../core/agent/node-agent.ts';
import { FakeRuntime } from '../../../core/runtime/fake-runtime.ts';
import { ApiServer } from '../../../core/server/api-server.ts';
import { openStore } from '../../../core/store/index.ts';

export const IMAGE = 'wheelhouse-test/busybox:1';

export interface Harness {
  client: InProcessClient;
  runtime: FakeRuntime;
  agent: NodeAgent;
  dataDir: string;
  newAgent(over?: Partial<NodeAgentOptions>): NodeAgent;
  createPod(name: string, spec: Record<string, unknown>, meta?: Record<string, unknown>): Promise<KubeObject>;
  pod(name: string): Promise<any>;
  waitPod(name: string, pred: (p: any) => unknown, what?: string, timeoutMs?: number): Promise<any>;
  events(name?: string): Promise<any[]>;
  containersOf(name: string, container?: string): Array<{ id: string; state: string; attempt: number }>;
  close(): Promise<void>;
}

export async function harness(over: Partial<NodeAgentOptions> = {}, images: string[] = [IMAGE]): Promise<Harness> {
  const store = await openStore('memory:');
  const api = new ApiServer({ store });
  await api.bootstrap();
  const client = new InProcessClient(api);
  const runtime = new FakeRuntime({ images });
  const dataDir = await mkdtemp(join(tmpdir(), 'wh-agent-'));
  const agents: NodeAgent[] = [];
  const newAgent = (o: Partial<NodeAgentOptions> = {}) => {
    const a = new NodeAgent({
      client,
      runtime,
      nodeName: 'node-1',
      cluster: 'unit',
      dataDir,
      restartBackoff: { initialMs: 200, maxMs: 800 },
      imagePullBackoff: { initialMs: 200, maxMs: 800 },
      metrics: { intervalMs: 60_000 },
      secretsOnTmpfs: false,
      resyncIntervalMs: 60_000,
      ...over,
      ...o,
    });
    agents.push(a);
    return a;
  };
  const agent = newAgent();
  const h: Harness = {
    client,
    runtime,
    agent,
    dataDir,
    newAgent,
    async createPod(name, spec, meta = {}) {
      return client.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', ...meta }, spec: { nodeName: 'node-1', ...spec } });
    },
    pod: (name) => client.get({ apiVersion: 'v1', kind: 'Pod', namespace: 'default', name }),
    async waitPod(name, pred, what = 'condition', timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      let last: any;
      for (;;) {
        try {
          last = await h.pod(name);
          if (pred(last)) return last;
        } catch (e) {
          last = e;
        }
        if (Date.now() > deadline) throw new Error(`timed out waiting for pod ${name}: ${what}; last: ${JSON.stringify(last?.status ?? String(last), null, 1)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async events(name) {
      await Promise.all(agents.map((a) => (a as any).ctx.recorder.flush()));
      const list = await client.list({ apiVersion: 'v1', kind: 'Event', namespace: 'default' });
      return list.items.filter((e: any) => !name || e.involvedObject?.name === name);
    },
    containersOf(name, container) {
      return [...runtime.containers.values()]
        .map((c) => c.status)
        .filter((s) => s.podName === name && (!container || s.name === container))
        .map((s) => ({ id: s.id, state: s.state, attempt: s.attempt }))
        .sort((a, b) => b.attempt - a.attempt);
    },
    async close() {
      for (const a of agents) await a.stop();
      await rm(dataDir, { recursive: true, force: true });
      await store.close();
    },
  };
  return h;
}

export async function until<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 5000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const running = (c = 0) => (p: any) => p.status?.containerStatuses?.[c]?.state?.running;
