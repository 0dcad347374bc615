/**
 * Harness for the ReplicaSet and Deployment controller tests: an in-process API server on the
 * memory store with a fake clock, the controllers running under a manager, and a stand-in for
 * the kubelet that writes pod status (Running/Ready, CrashLoopBackOff …) through the API.
 */
import { openStore, type Store } from '../../../core/store/index.ts';
import { ApiServer } from '../../../core/server/api-server.ts';
import { InProcessClient } from '../../../core/client/in-process-client.ts';
import type { Client } from '../../../core/client/client.ts';
import { ControllerManager } from '../../../core/controllers/manager.ts';
import type { ControllerOptions } from '../../../core/controllers/controller.ts';
import { ReplicaSetController } from '../../../core/controllers/replicaset-controller.ts';
import { DeploymentController } from '../../../core/controllers/deployment-controller.ts';
import type { KubeObject } from '../../../core/api/types.ts';

export const POD = { apiVersion: 'v1', kind: 'Pod' } as const;
export const RS = { apiVersion: 'apps/v1', kind: 'ReplicaSet' } as const;
export const DEPLOY = { apiVersion: 'apps/v1', kind: 'Deployment' } as const;
export const NS = 'default';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class FakeClock {
  t = Date.parse('2024-05-01T12:00:00Z');
  now = (): Date => new Date(this.t);
  advance(seconds: number): void {
    this.t += seconds * 1000;
  }
  iso(): string {
    return new Date(this.t).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }
}

export interface HarnessOptions {
  deployments?: boolean;
  options?: Partial<ControllerOptions>;
  /** Wrap the controllers' client (e.g. to check invariants on every write). */
  wrap?: (client: Client) => Client;
}

export async function workloadHarness(opts: HarnessOptions = {}) {
  const clock = new FakeClock();
  const store: Store = await openStore('memory:');
  const api = new ApiServer({ store, now: clock.now });
  await api.bootstrap();
  const client = new InProcessClient(api);
  const manager = new ControllerManager(opts.wrap ? opts.wrap(client) : client, opts.options ?? {}, clock.now);
  let rsc!: ReplicaSetController;
  let dc: DeploymentController | undefined;
  manager.add((ctx) => (rsc = new ReplicaSetController(ctx)), 2);
  if (opts.deployments !== false) manager.add((ctx) => (dc = new DeploymentController(ctx)), 2);
  await manager.start();

  const h = {
    clock,
    store,
    api,
    client,
    manager,
    get rsc() {
      return rsc;
    },
    get dc() {
      return dc!;
    },

    /** Wait until the controllers are idle and the store has stopped changing. */
    async settle(): Promise<void> {
      let last = -1;
      let stable = 0;
      for (let i = 0; i < 400 && stable < 4; i++) {
        await sleep(6);
        await Promise.all([rsc.idle(), dc?.idle()]);
        const rev = store.currentRevision();
        if (rev === last) stable++;
        else {
          stable = 0;
          last = rev;
        }
      }
    },

    async pods(labelSelector?: string, includeTerminating = false): Promise<KubeObject[]> {
      const items = (await client.list(POD, { namespace: NS, labelSelector })).items;
      return items.filter((p) => includeTerminating || !p.metadata.deletionTimestamp);
    },

    async replicaSets(labelSelector?: string): Promise<KubeObject[]> {
      return (await client.list(RS, { namespace: NS, labelSelector })).items;
    },

    get(kind: typeof RS | typeof DEPLOY | typeof POD, name: string): Promise<KubeObject> {
      return client.get({ ...kind, namespace: NS, name });
    },

    async events(reason?: string): Promise<KubeObject[]> {
      for (const c of ['replicaset-controller', 'deployment-controller']) await manager.context.recorder(c).flush();
      const items = (await client.list({ apiVersion: 'v1', kind: 'Event' }, { namespace: NS })).items;
      return items.filter((e) => !reason || e.reason === reason);
    },

    /** Write a pod's status as the kubelet would (no resourceVersion precondition). */
    async setStatus(pod: KubeObject, status: Record<string, unknown>): Promise<void> {
      const cur = await client.get<KubeObject>({ ...POD, namespace: NS, name: pod.metadata.name! });
      delete cur.metadata.resourceVersion;
      await client.updateStatus({ ...cur, status: { ...(cur.status ?? {}), ...status } });
    },

    /** Running and Ready since now. */
    async ready(pod: KubeObject, restartCount = 0): Promise<void> {
      const t = clock.iso();
      await h.setStatus(pod, {
        phase: 'Running',
        startTime: t,
        conditions: [
          { type: 'Ready', status: 'True', lastTransitionTime: t },
          { type: 'ContainersReady', status: 'True', lastTransitionTime: t },
        ],
        containerStatuses: (pod.spec?.containers ?? []).map((c: any) => ({
          name: c.name,
          image: c.image,
          ready: true,
          restartCount,
          state: { running: { startedAt: t } },
        })),
      });
    },

    /** Running but its container keeps crashing. */
    async crashLoop(pod: KubeObject, restartCount = 2): Promise<void> {
      const t = clock.iso();
      await h.setStatus(pod, {
        phase: 'Running',
        startTime: t,
        conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: t, reason: 'ContainersNotReady' }],
        containerStatuses: (pod.spec?.containers ?? []).map((c: any) => ({
          name: c.name,
          image: c.image,
          ready: false,
          restartCount,
          state: { waiting: { reason: 'CrashLoopBackOff', message: `back-off 20s restarting failed container=${c.name}` } },
          lastState: { terminated: { exitCode: 1, reason: 'Error' } },
        })),
      });
    },

    /** Pending, its image not pulling. */
    async imagePullBackOff(pod: KubeObject, reason = 'ImagePullBackOff'): Promise<void> {
      const t = clock.iso();
      await h.setStatus(pod, {
        phase: 'Pending',
        startTime: t,
        conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: t, reason: 'ContainersNotReady' }],
        containerStatuses: (pod.spec?.containers ?? []).map((c: any) => ({
          name: c.name,
          image: c.image,
          ready: false,
          restartCount: 0,
          state: { waiting: { reason, message: `Back-off pulling image "${c.image}"` } },
        })),
      });
    },

    /** Make every not-ready, non-terminating pod matching `labelSelector` ready (at most `max`). */
    async readyAll(labelSelector?: string, max = Infinity): Promise<number> {
      let n = 0;
      for (const p of await h.pods(labelSelector)) {
        if (n >= max) break;
        if (p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True')) continue;
        await h.ready(p);
        n++;
      }
      return n;
    },

    async close(): Promise<void> {
      manager.stop();
      await store.close();
    },
  };
  return h;
}

export type Harness = Awaited<ReturnType<typeof workloadHarness>>;

export function podTemplate(app: string, image = 'nginx:1.25', extraLabels: Record<string, string> = {}) {
  return {
    metadata: { labels: { app, ...extraLabels } },
    spec: { containers: [{ name: 'web', image }] },
  };
}

export function replicaSet(name: string, replicas: number, extra: Record<string, unknown> = {}): KubeObject {
  return {
    ...RS,
    metadata: { name, namespace: NS },
    spec: { replicas, selector: { matchLabels: { app: name } }, template: podTemplate(name), ...extra },
  } as KubeObject;
}

export function deployment(name: string, replicas: number, spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): KubeObject {
  return {
    ...DEPLOY,
    metadata: { name, namespace: NS, ...meta },
    spec: { replicas, selector: { matchLabels: { app: name } }, template: podTemplate(name), ...spec },
  } as KubeObject;
}

/** Set the first container's image (a new template → a new revision). */
export async function setImage(client: Client, name: string, image: string, annotations?: Record<string, string>): Promise<void> {
  const patch: any = { spec: { template: { spec: { containers: [{ name: 'web', image }] } } } };
  if (annotations) patch.metadata = { annotations };
  await client.patch({ ...DEPLOY, namespace: NS, name }, 'strategic', patch);
}

export function condition(obj: KubeObject, type: string): any {
  return obj.status?.conditions?.find((c: any) => c.type === type);
}

export const isReady = (p: KubeObject) => p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');
