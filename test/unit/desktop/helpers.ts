/**
 * A control-plane-only cluster (no container runtime) with a desktop host and one session that
 * records every pushed event — what the desktop handlers are tested against.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type Cluster } from '../../../core/cluster.ts';
import type { CallArgs, CallName, CallResult, DesktopEvents, EventName } from '../../../core/desktop-api.ts';
import { DesktopHost, type DesktopSession } from '../../../core/desktop/host.ts';

export interface Harness {
  cluster: Cluster;
  host: DesktopHost;
  session: DesktopSession;
  events: Array<{ event: EventName; payload: unknown; at: number }>;
  call<K extends CallName>(name: K, args: CallArgs<K>): Promise<CallResult<K>>;
  /** Calls with arguments the types would refuse (what a hostile renderer could send). */
  rawCall(name: string, args: unknown): Promise<unknown>;
  eventsOf<E extends EventName>(name: E): Array<DesktopEvents[E]>;
  close(): Promise<void>;
}

export async function harness(opts: { controlPlane?: boolean; batchIntervalMs?: number } = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'wh-desktop-'));
  const cluster = await startCluster({ dataDir: dir, runtime: false, storeUrl: 'memory:', controlPlane: opts.controlPlane ?? false });
  const host = new DesktopHost(cluster, { mode: 'browser', ...(opts.batchIntervalMs ? { batchIntervalMs: opts.batchIntervalMs } : {}) });
  const events: Harness['events'] = [];
  const session = host.openSession((event, payload) => events.push({ event, payload, at: Date.now() }));
  return {
    cluster,
    host,
    session,
    events,
    call: (name, args) => session.call(name, args) as never,
    rawCall: (name, args) => session.call(name, args),
    eventsOf: (name) => events.filter((e) => e.event === name).map((e) => e.payload) as never,
    async close() {
      session.close();
      await host.close();
      await cluster.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function deployment(name: string, opts: { namespace?: string; replicas?: number; image?: string; env?: unknown[]; volumes?: unknown[] } = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: opts.namespace ?? 'default' },
    spec: {
      replicas: opts.replicas ?? 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [{ name: 'main', image: opts.image ?? 'wheelhouse-test/busybox:1', ...(opts.env ? { env: opts.env } : {}) }],
          ...(opts.volumes ? { volumes: opts.volumes } : {}),
        },
      },
    },
  };
}

export async function until<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 5_000): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
