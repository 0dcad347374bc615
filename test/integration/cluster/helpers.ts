/**
 * Set-up for the control plane's real-Docker tests: a whole cluster (`startCluster`: lowdb store
 * in a temp folder, API layer, controllers, scheduler and local node agents on the real engine)
 * whose name is unique to the test file; everything Docker holds for it is removed by label
 * afterwards. Every wait is a condition poll with a deadline whose failure message shows the
 * pods' statuses and the latest events.
 */
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isApiError } from '../../../core/api/errors.ts';
import type { KubeObject } from '../../../core/api/types.ts';
import { startCluster, type Cluster, type ClusterConfig } from '../../../core/cluster.ts';
import type { WatchHandle } from '../../../core/client/client.ts';
import { LABEL } from '../../../core/runtime/runtime.ts';
import { BUSYBOX, cleanupCluster, docker, requireBusybox } from '../runtime/helpers.ts';

export { BUSYBOX, docker };

export const NS = 'default';
export const POD = { apiVersion: 'v1', kind: 'Pod' } as const;
export const EVENT = { apiVersion: 'v1', kind: 'Event' } as const;
export const DEPLOYMENT = { apiVersion: 'apps/v1', kind: 'Deployment' } as const;
export const REPLICASET = { apiVersion: 'apps/v1', kind: 'ReplicaSet' } as const;
export const NODE = { apiVersion: 'v1', kind: 'Node' } as const;

/** Fast agent timings for tests (the defaults are tuned for a desktop, not a test run). */
export const FAST_AGENT: NonNullable<ClusterConfig['agent']> = {
  restartBackoff: { initialMs: 300, maxMs: 2_000 },
  imagePullBackoff: { initialMs: 500, maxMs: 4_000 },
  leaseRenewIntervalMs: 1_000,
  nodeStatusUpdateIntervalMs: 1_000,
  resyncIntervalMs: 2_000,
  metrics: false,
};

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Conflicts absorbed by `retryOnConflict` in this process (reported by the tests that care). */
export const conflictStats = { retries: 0, errors: [] as string[] };

/**
 * Runs a write, retrying on Conflict — and on a failed JSON-patch `test` op, which is how
 * rollbackTo's resourceVersion guard fails — as a client-go user wraps writes in
 * retry.RetryOnConflict. Needed beyond Kubernetes' habits because on the lowdb store even an
 * unconditional patch fails with Conflict while another write of the object is being persisted
 * (see the it.todo in rollout.test.ts).
 */
export async function retryOnConflict<T>(fn: () => Promise<T>, attempts = 20): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (e) {
      const retriable = isApiError(e, 'Conflict') || (isApiError(e, 'Invalid') && /test failed/.test((e as Error).message));
      if (!retriable || i >= attempts) throw e;
      conflictStats.retries++;
      conflictStats.errors.push(`${(e as { status?: { code?: number } }).status?.code} ${(e as Error).message}`);
      await sleep(50 * Math.min(i, 4));
    }
  }
}

export interface TestCluster {
  readonly name: string;
  readonly cluster: Cluster;
  readonly client: Cluster['client'];
  /** Poll `fn` until it returns something other than undefined/false; on timeout, throw with pod statuses and events. */
  waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs?: number, everyMs?: number): Promise<T>;
  pods(labelSelector?: string): Promise<any[]>;
  events(filter?: (e: any) => boolean): Promise<any[]>;
  /** Pod statuses and the latest events, for failure messages. */
  dump(labelSelector?: string): Promise<string>;
  /** Docker containers (sandboxes included) of a pod, by the runtime's labels. */
  podContainers(podName: string): Promise<Array<{ Id: string; State: string; Labels: Record<string, string> }>>;
  close(): Promise<void>;
}

export async function setupCluster(prefix: string, cfg: Partial<ClusterConfig> = {}): Promise<TestCluster> {
  await requireBusybox();
  const name = `it-${prefix}-${randomBytes(3).toString('hex')}`;
  const dataDir = await mkdtemp(join(tmpdir(), `wh-it-${prefix}-`));
  const cluster = await startCluster({
    dataDir,
    name,
    defaultNode: { name: 'node-1', capacity: { cpu: '2', memory: '2Gi', pods: '110' } },
    ...cfg,
    agent: { ...FAST_AGENT, ...(cfg.agent ?? {}) },
    network: { removeRulesOnStop: true, ...(cfg.network ?? {}) },
  });
  const client = cluster.client;
  const tc: TestCluster = {
    name,
    cluster,
    client,
    async waitFor(what, fn, timeoutMs = 30_000, everyMs = 100) {
      const deadline = Date.now() + timeoutMs;
      let last: unknown;
      for (;;) {
        try {
          const v = await fn();
          if (v !== undefined && v !== false) return v as any;
          last = undefined;
        } catch (err) {
          last = err;
        }
        if (Date.now() > deadline) {
          const state = await tc.dump().catch((e) => `(no dump: ${String(e)})`);
          throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}\n${state}`);
        }
        await sleep(everyMs);
      }
    },
    async pods(labelSelector) {
      return (await client.list(POD, { namespace: NS, ...(labelSelector ? { labelSelector } : {}) })).items as any[];
    },
    async events(filter = () => true) {
      const items = (await client.list(EVENT, { namespace: NS })).items as any[];
      return items.filter(filter);
    },
    async dump(labelSelector) {
      const pods = await tc.pods(labelSelector);
      const lines = ['pods:'];
      for (const p of pods) lines.push(`  ${describePod(p)}`);
      const nodes = (await client.list(NODE)).items as any[];
      lines.push('nodes:');
      for (const n of nodes) {
        const ready = n.status?.conditions?.find((c: any) => c.type === 'Ready');
        lines.push(`  ${n.metadata.name} Ready=${ready?.status}(${ready?.reason ?? ''}) taints=${JSON.stringify(n.spec?.taints ?? [])}`);
      }
      const events = (await tc.events()).sort((a, b) => String(a.lastTimestamp ?? a.eventTime).localeCompare(String(b.lastTimestamp ?? b.eventTime)));
      lines.push('events (latest 40):');
      for (const e of events.slice(-40)) {
        lines.push(`  ${e.lastTimestamp ?? e.eventTime} ${e.type} ${e.reason} ${e.involvedObject?.kind}/${e.involvedObject?.name} x${e.count ?? 1}: ${e.message}`);
      }
      return lines.join('\n');
    },
    async podContainers(podName) {
      return (await docker.listContainers({ all: true, filters: { label: [`${LABEL.cluster}=${name}`, `${LABEL.podName}=${podName}`] } })) as any;
    },
    async close() {
      await cluster.stop().catch(() => {});
      await cleanupCluster(name);
      await rm(dataDir, { recursive: true, force: true });
      await rm(join('/dev/shm/wheelhouse', name), { recursive: true, force: true });
    },
  };
  return tc;
}

export function describePod(p: any): string {
  const ready = p.status?.conditions?.find((c: any) => c.type === 'Ready')?.status;
  const sched = p.status?.conditions?.find((c: any) => c.type === 'PodScheduled');
  const cs = (p.status?.containerStatuses ?? [])
    .map((c: any) => `${c.name}:${Object.keys(c.state ?? {})[0]}${c.state?.waiting?.reason ? `(${c.state.waiting.reason})` : ''} restarts=${c.restartCount}`)
    .join(',');
  return (
    `${p.metadata.name} node=${p.spec?.nodeName ?? '-'} phase=${p.status?.phase} ready=${ready} ip=${p.status?.podIP ?? '-'}` +
    `${p.metadata.deletionTimestamp ? ' TERMINATING' : ''} [${cs}]${sched?.status === 'False' ? ` unscheduled: ${sched.message}` : ''}`
  );
}

export const isReady = (p: any): boolean => p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True') ?? false;
export const isRunningReady = (p: any): boolean => !p.metadata.deletionTimestamp && p.status?.phase === 'Running' && isReady(p);

/** A busybox httpd container serving "<version>\n" at / and answering readiness on 8080. */
export function httpdContainer(version: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'web',
    image: BUSYBOX,
    command: ['sh', '-c', 'mkdir -p /www && echo "$VERSION" > /www/index.html && exec httpd -f -p 8080 -h /www'],
    env: [{ name: 'VERSION', value: version }],
    ports: [{ name: 'http', containerPort: 8080 }],
    readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 1, successThreshold: 1 },
    ...over,
  };
}

export function deployment(name: string, replicas: number, podSpec: Record<string, unknown>, spec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { terminationGracePeriodSeconds: 2, ...podSpec } },
      ...spec,
    },
  } as KubeObject;
}

/** One HTTP GET on a fresh connection (no keep-alive pool), with a deadline. */
export function httpGet(host: string, port: number, path = '/', timeoutMs = 3_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, agent: false, headers: { connection: 'close' }, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET http://${host}:${port}${path}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** The ready addresses of an Endpoints object, kept current by a watch. */
export class EndpointsWatcher {
  private addresses: string[] = [];
  private handle?: WatchHandle;
  /** Every distinct address list seen, in order (for reports). */
  readonly history: string[][] = [];

  constructor(
    private readonly client: Cluster['client'],
    private readonly name: string,
  ) {}

  start(): this {
    this.handle = this.client.watch({ apiVersion: 'v1', kind: 'Endpoints' }, { namespace: NS, fieldSelector: `metadata.name=${this.name}` }, (ev) => {
      if (ev.type === 'ERROR' || ev.type === 'BOOKMARK') return;
      const next = ev.type === 'DELETED' ? [] : ((ev.object as any).subsets ?? []).flatMap((s: any) => (s.addresses ?? []).map((a: any) => a.ip as string));
      this.addresses = next;
      this.history.push(next);
    });
    return this;
  }

  ready(): readonly string[] {
    return this.addresses;
  }

  stop(): void {
    this.handle?.close();
  }
}

/**
 * Continuous requests, as a client behind a Service would send them: each request goes to a
 * ready address picked (round robin) from the live Endpoints. Counts failures and answers.
 */
export class LoadGenerator {
  ok = 0;
  failures: string[] = [];
  readonly answers = new Map<string, number>();
  private running = false;
  private loops: Promise<void>[] = [];
  private next = 0;

  constructor(
    private readonly endpoints: EndpointsWatcher,
    private readonly port: number,
    private readonly concurrency = 2,
    private readonly pauseMs = 20,
  ) {}

  start(): this {
    this.running = true;
    for (let i = 0; i < this.concurrency; i++) this.loops.push(this.loop());
    return this;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const addrs = this.endpoints.ready();
      if (!addrs.length) {
        this.failures.push(`${new Date().toISOString()} no ready endpoint`);
        await sleep(100);
        continue;
      }
      const ip = addrs[this.next++ % addrs.length]!;
      try {
        const res = await httpGet(ip, this.port);
        if (res.status !== 200) this.failures.push(`${new Date().toISOString()} ${ip}: HTTP ${res.status}`);
        else {
          this.ok++;
          const v = res.body.trim();
          this.answers.set(v, (this.answers.get(v) ?? 0) + 1);
        }
      } catch (e) {
        this.failures.push(`${new Date().toISOString()} ${ip}: ${(e as Error).message}`);
      }
      await sleep(this.pauseMs);
    }
  }

  /** Resets counters (answers, ok, failures) so the next phase counts on its own. */
  reset(): void {
    this.ok = 0;
    this.failures = [];
    this.answers.clear();
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    this.loops = [];
  }
}
