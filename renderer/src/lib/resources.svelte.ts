/**
 * The renderer's copy of the cluster, fed by pushed watch batches (no polling): one store per
 * kind, all namespaces (the namespace switcher filters). A batch from the main process updates
 * each store it touches once — one UI update per store per batch, ≤ 4 a second under churn.
 *
 * Items are held in `$state.raw` arrays (never deep proxies: 10,000 pods stay cheap), replaced
 * as a whole on each batch; helpers derive rows from them with per-object caches.
 */
import type { KubeObject } from '../../../core/api/types.ts';
import type { ResourceKind, WatchChange } from '../../../core/desktop-api.ts';
import { api } from './api.ts';

export const keyOf = (o: { metadata: { namespace?: string; name?: string } }) => `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;

export class ResourceStore {
  readonly kind: ResourceKind;
  items = $state.raw<KubeObject[]>([]);
  loaded = $state(false);
  error = $state<string | undefined>(undefined);
  private byKey = new Map<string, KubeObject>();
  private watchId: string | undefined;
  private opening: Promise<void> | undefined;

  constructor(kind: ResourceKind) {
    this.kind = kind;
  }

  /** Opens the watch (once); later calls share it. */
  start(): Promise<void> {
    this.opening ??= this.open();
    return this.opening;
  }

  get(namespace: string | undefined, name: string): KubeObject | undefined {
    return this.byKey.get(`${namespace ?? ''}/${name}`);
  }

  private async open(): Promise<void> {
    try {
      performance.mark(`wheelhouse:watch:${this.kind}:start`);
      const r = await api.call('resources.watch', { kind: this.kind });
      performance.mark(`wheelhouse:watch:${this.kind}:answer`);
      this.watchId = r.watchId;
      watches.set(r.watchId, this);
      this.reset(r.items);
      // Changes that overtook the watch's own answer.
      const early = earlyChanges.get(r.watchId);
      earlyChanges.delete(r.watchId);
      if (early?.length) {
        for (const c of early) this.apply(c);
        this.commit();
      }
      this.loaded = true;
      this.error = undefined;
      performance.mark(`wheelhouse:watch:${this.kind}:loaded`);
    } catch (e) {
      this.error = (e as Error).message;
      this.opening = undefined;
    }
  }

  /** After a reconnect: the old watch is gone with the old connection. */
  reopen(): void {
    if (this.watchId) watches.delete(this.watchId);
    this.watchId = undefined;
    this.opening = this.open();
  }

  reset(items: KubeObject[]): void {
    this.byKey = new Map(items.map((o) => [keyOf(o), o]));
    this.items = items;
  }

  /** Applies one change set; returns whether anything changed. */
  apply(c: WatchChange): boolean {
    if (c.reset) this.byKey = new Map(c.reset.map((o) => [keyOf(o), o]));
    for (const o of c.upserts) this.byKey.set(keyOf(o), o);
    for (const d of c.deletes) this.byKey.delete(`${d.namespace ?? ''}/${d.name}`);
    return !!c.reset || c.upserts.length > 0 || c.deletes.length > 0;
  }

  commit(): void {
    this.items = [...this.byKey.values()];
  }
}

const watches = new Map<string, ResourceStore>();
const earlyChanges = new Map<string, WatchChange[]>();

export const stores = {
  pods: new ResourceStore('Pod'),
  nodes: new ResourceStore('Node'),
  namespaces: new ResourceStore('Namespace'),
  deployments: new ResourceStore('Deployment'),
  statefulSets: new ResourceStore('StatefulSet'),
  daemonSets: new ResourceStore('DaemonSet'),
  replicaSets: new ResourceStore('ReplicaSet'),
  jobs: new ResourceStore('Job'),
  cronJobs: new ResourceStore('CronJob'),
  events: new ResourceStore('Event'),
  services: new ResourceStore('Service'),
  endpoints: new ResourceStore('Endpoints'),
  configMaps: new ResourceStore('ConfigMap'),
  secrets: new ResourceStore('Secret'),
  hpas: new ResourceStore('HorizontalPodAutoscaler'),
};

/** UI updates applied (one per batch) and when the last ones arrived — the UI bench reads them. */
export const counters = { batches: 0, recent: [] as number[] };
(globalThis as { __wheelhouse?: unknown }).__wheelhouse = { counters };

let wired = false;
export function startStores(): void {
  if (wired) return;
  wired = true;
  api.on('watch.batch', ({ changes }) => {
    const touched = new Set<ResourceStore>();
    for (const c of changes) {
      const s = watches.get(c.watchId);
      if (!s) {
        const list = earlyChanges.get(c.watchId) ?? [];
        list.push(c);
        earlyChanges.set(c.watchId, list);
        setTimeout(() => earlyChanges.delete(c.watchId), 30_000);
        continue;
      }
      if (s.apply(c)) touched.add(s);
    }
    for (const s of touched) s.commit();
    counters.batches++;
    counters.recent.push(performance.now());
    if (counters.recent.length > 256) counters.recent.splice(0, 128);
  });
  api.onReconnect(() => {
    for (const s of Object.values(stores)) s.reopen();
  });
  for (const s of Object.values(stores)) void s.start();
}

export function storeFor(kind: string): ResourceStore | undefined {
  return Object.values(stores).find((s) => s.kind === kind);
}
