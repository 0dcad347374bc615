/** Test setup for the scheduler: an in-process API server on the memory store, nodes and pods. */
import { vi } from 'vitest';
import { openStore } from '../../../core/store/index.ts';
import { ApiServer } from '../../../core/server/api-server.ts';
import { InProcessClient } from '../../../core/client/in-process-client.ts';
import { EventRecorder } from '../../../core/client/event-recorder.ts';
import { Scheduler, type SchedulerOptions } from '../../../core/scheduler/scheduler.ts';
import type { KubeObject } from '../../../core/api/types.ts';
import type { Store } from '../../../core/store/store.ts';

// Shared CI machines can be slow; waits are bounded by `eventually`, not by the test timeout.
vi.setConfig({ testTimeout: 30_000 });

export interface Env {
  store: Store;
  api: ApiServer;
  client: InProcessClient;
  recorder: EventRecorder;
  scheduler: Scheduler;
  close(): Promise<void>;
}

/** A seeded PRNG (mulberry32), so tie-breaking is repeatable. */
export function seeded(seed = 42): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function setup(opts: Partial<SchedulerOptions> = {}, start = true): Promise<Env> {
  const store = await openStore('memory:');
  const api = new ApiServer({ store });
  await api.bootstrap();
  const client = new InProcessClient(api);
  const recorder = new EventRecorder(client, { component: 'default-scheduler' });
  const scheduler = new Scheduler({ client, recorder, random: seeded(), queue: { initialBackoffMs: 50, maxBackoffMs: 200 }, ...opts });
  if (start) await scheduler.start();
  return {
    store,
    api,
    client,
    recorder,
    scheduler,
    async close() {
      scheduler.stop();
      await scheduler.stopped();
      await store.close();
    },
  };
}

export interface NodeSpec {
  cpu?: string;
  memory?: string;
  pods?: string;
  labels?: Record<string, string>;
  taints?: Array<{ key: string; value?: string; effect: string }>;
  unschedulable?: boolean;
  extra?: Record<string, string>;
  images?: Array<{ names: string[]; sizeBytes: number }>;
}

export function node(name: string, s: NodeSpec = {}): KubeObject {
  const alloc = { cpu: s.cpu ?? '4', memory: s.memory ?? '8Gi', pods: s.pods ?? '110', 'ephemeral-storage': '100Gi', ...s.extra };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...s.labels } },
    spec: { ...(s.taints ? { taints: s.taints } : {}), ...(s.unschedulable ? { unschedulable: true } : {}) },
    status: { capacity: alloc, allocatable: alloc, ...(s.images ? { images: s.images } : {}), conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

export interface PodSpec {
  cpu?: string;
  memory?: string;
  labels?: Record<string, string>;
  spec?: Record<string, unknown>;
  extra?: Record<string, string>;
  namespace?: string;
  image?: string;
}

export function pod(name: string, s: PodSpec = {}): KubeObject {
  const requests: Record<string, string> = { ...(s.cpu ? { cpu: s.cpu } : {}), ...(s.memory ? { memory: s.memory } : {}), ...s.extra };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: s.namespace ?? 'default', labels: s.labels ?? {} },
    spec: {
      containers: [{ name: 'c', image: s.image ?? 'registry.k8s.io/pause:3.10', resources: Object.keys(requests).length ? { requests, limits: { ...requests } } : {} }],
      ...s.spec,
    },
  };
}

export async function createAll(client: InProcessClient, objs: KubeObject[]): Promise<void> {
  for (const o of objs) await client.create(o);
}

export async function getPod(client: InProcessClient, name: string, namespace = 'default'): Promise<KubeObject> {
  return client.get({ apiVersion: 'v1', kind: 'Pod', namespace, name });
}

/** Poll until `fn` returns a value (not undefined), or fail after `ms`. */
export async function eventually<T>(fn: () => Promise<T | undefined> | T | undefined, ms = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function boundNode(client: InProcessClient, name: string, ms = 8000): Promise<string> {
  return eventually(async () => (await getPod(client, name)).spec?.nodeName || undefined, ms, `pod ${name} to be bound`);
}

/** The PodScheduled=False message once written. */
export async function unschedulableMessage(client: InProcessClient, name: string, ms = 8000): Promise<string> {
  return eventually(
    async () => {
      const p = await getPod(client, name);
      const c = (p.status?.conditions ?? []).find((x: any) => x.type === 'PodScheduled' && x.status === 'False');
      return c?.message as string | undefined;
    },
    ms,
    `pod ${name} to be marked unschedulable`,
  );
}

export async function events(client: InProcessClient, podName: string, reason?: string): Promise<KubeObject[]> {
  const list = await client.list({ apiVersion: 'v1', kind: 'Event' }, { namespace: 'default' });
  return list.items.filter((e: any) => e.involvedObject?.name === podName && (!reason || e.reason === reason));
}
