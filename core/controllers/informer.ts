/**
 * An informer as client-go's: list, then watch from the list's resourceVersion, keeping a local
 * cache that controllers read instead of the API. Handlers only get told; they should enqueue
 * keys, not do work. A watch that ends or answers 410 Expired is re-listed and the difference is
 * delivered as adds/updates/deletes, so the cache converges whatever happened meanwhile.
 */
import type { KubeObject } from '../api/types.ts';
import type { Client, ClientWatchEvent, KindRef, WatchHandle } from '../client/client.ts';
import { log } from '../log.ts';

export interface InformerHandlers<T extends KubeObject> {
  onAdd?(obj: T): void;
  onUpdate?(oldObj: T, newObj: T): void;
  onDelete?(obj: T): void;
}

export interface InformerOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Delay before re-listing after a failed list/watch. */
  retryMs?: number;
}

/** `namespace/name`, or `name` for cluster-scoped objects: the workqueue key. */
export function keyOf(obj: { metadata?: { namespace?: string; name?: string } }): string {
  const m = obj.metadata ?? {};
  return m.namespace ? `${m.namespace}/${m.name}` : (m.name ?? '');
}

export function splitKey(key: string): { namespace?: string; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

export class Informer<T extends KubeObject = KubeObject> {
  private readonly cache = new Map<string, T>();
  private readonly handlers: InformerHandlers<T>[] = [];
  private readonly indexers = new Map<string, (obj: T) => string[]>();
  private readonly indexes = new Map<string, Map<string, Set<string>>>();
  private watch?: WatchHandle;
  private lastRv = '';
  private stopped = false;
  private synced = false;
  private syncWaiters: Array<() => void> = [];
  private retry?: NodeJS.Timeout;

  constructor(
    private readonly client: Client,
    readonly ref: KindRef,
    private readonly opts: InformerOptions = {},
  ) {}

  addHandlers(h: InformerHandlers<T>): void {
    this.handlers.push(h);
    if (this.synced) for (const obj of this.cache.values()) h.onAdd?.(obj);
  }

  /** A secondary index, e.g. pods by `spec.nodeName` or by owner uid. Add before start(). */
  addIndex(name: string, fn: (obj: T) => string[]): void {
    this.indexers.set(name, fn);
    const idx = new Map<string, Set<string>>();
    this.indexes.set(name, idx);
    for (const [k, o] of this.cache) for (const v of fn(o)) this.indexAdd(idx, v, k);
  }

  byIndex(name: string, value: string): T[] {
    const keys = this.indexes.get(name)?.get(value);
    if (!keys) return [];
    return [...keys].map((k) => this.cache.get(k)!).filter(Boolean);
  }

  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  list(namespace?: string): T[] {
    const all = [...this.cache.values()];
    return namespace ? all.filter((o) => o.metadata.namespace === namespace) : all;
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  get resourceVersion(): string {
    return this.lastRv;
  }

  /** Resolves once the first list is in the cache. */
  async start(): Promise<void> {
    void this.relist();
    if (this.synced) return;
    await new Promise<void>((r) => this.syncWaiters.push(r));
  }

  stop(): void {
    this.stopped = true;
    this.watch?.close();
    if (this.retry) clearTimeout(this.retry);
    for (const w of this.syncWaiters.splice(0)) w();
  }

  private async relist(): Promise<void> {
    if (this.stopped) return;
    this.watch?.close();
    this.watch = undefined;
    try {
      const list = await this.client.list<T>(this.ref, {
        namespace: this.opts.namespace,
        labelSelector: this.opts.labelSelector,
        fieldSelector: this.opts.fieldSelector,
      });
      if (this.stopped) return;
      this.replace(list.items);
      this.lastRv = list.metadata.resourceVersion ?? '';
      this.follow();
      if (!this.synced) {
        this.synced = true;
        for (const w of this.syncWaiters.splice(0)) w();
      }
    } catch (e) {
      log.warn('informer list failed; retrying', { kind: this.ref.kind, error: (e as Error).message });
      this.scheduleRelist();
    }
  }

  private scheduleRelist(): void {
    if (this.stopped || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.relist();
    }, this.opts.retryMs ?? 1000);
    this.retry.unref?.();
  }

  private follow(): void {
    this.watch = this.client.watch<T>(
      this.ref,
      {
        namespace: this.opts.namespace,
        labelSelector: this.opts.labelSelector,
        fieldSelector: this.opts.fieldSelector,
        resourceVersion: this.lastRv,
        allowWatchBookmarks: true,
      },
      (ev) => this.onEvent(ev),
    );
  }

  private onEvent(ev: ClientWatchEvent<T>): void {
    if (this.stopped) return;
    if (ev.type === 'ERROR') {
      // 410 Expired (history compacted) or a broken stream: list again and deliver the difference.
      log.debug('informer watch ended; re-listing', { kind: this.ref.kind, status: (ev.object as any)?.message });
      this.scheduleRelistNow();
      return;
    }
    this.lastRv = ev.object.metadata?.resourceVersion ?? this.lastRv;
    if (ev.type === 'BOOKMARK') return;
    const key = keyOf(ev.object);
    if (ev.type === 'DELETED') this.remove(key, ev.object);
    else this.upsert(key, ev.object);
  }

  private scheduleRelistNow(): void {
    this.watch?.close();
    this.watch = undefined;
    queueMicrotask(() => void this.relist());
  }

  /** A watch transport that ended (HTTP stream closed) calls this to resume or re-list. */
  resume(): void {
    if (!this.stopped) this.scheduleRelistNow();
  }

  private replace(items: T[]): void {
    const seen = new Set<string>();
    for (const obj of items) {
      const key = keyOf(obj);
      seen.add(key);
      const old = this.cache.get(key);
      if (!old || old.metadata.resourceVersion !== obj.metadata.resourceVersion) this.upsert(key, obj);
    }
    for (const [key, obj] of [...this.cache]) if (!seen.has(key)) this.remove(key, obj);
  }

  private upsert(key: string, obj: T): void {
    const old = this.cache.get(key);
    if (old) this.unindex(key, old);
    this.cache.set(key, obj);
    this.index(key, obj);
    for (const h of this.handlers) {
      try {
        if (old) h.onUpdate?.(old, obj);
        else h.onAdd?.(obj);
      } catch (e) {
        log.error('informer handler threw', { kind: this.ref.kind, key, error: (e as Error).message });
      }
    }
  }

  private remove(key: string, last: T): void {
    const old = this.cache.get(key);
    if (!old) return;
    this.unindex(key, old);
    this.cache.delete(key);
    for (const h of this.handlers) {
      try {
        h.onDelete?.(last);
      } catch (e) {
        log.error('informer handler threw', { kind: this.ref.kind, key, error: (e as Error).message });
      }
    }
  }

  private index(key: string, obj: T): void {
    for (const [name, fn] of this.indexers) for (const v of fn(obj)) this.indexAdd(this.indexes.get(name)!, v, key);
  }

  private unindex(key: string, obj: T): void {
    for (const [name, fn] of this.indexers) {
      const idx = this.indexes.get(name)!;
      for (const v of fn(obj)) {
        const s = idx.get(v);
        s?.delete(key);
        if (s && !s.size) idx.delete(v);
      }
    }
  }

  private indexAdd(idx: Map<string, Set<string>>, v: string, key: string): void {
    let s = idx.get(v);
    if (!s) idx.set(v, (s = new Set()));
    s.add(key);
  }
}

/** Shared informers: one per kind (and namespace), started once, read by every controller. */
export class InformerFactory {
  private readonly informers = new Map<string, Informer<any>>();
  constructor(private readonly client: Client) {}

  for<T extends KubeObject = KubeObject>(ref: KindRef): Informer<T> {
    const id = `${ref.apiVersion}/${ref.kind}/${ref.namespace ?? ''}`;
    let inf = this.informers.get(id);
    if (!inf) {
      inf = new Informer<T>(this.client, ref, { namespace: ref.namespace });
      this.informers.set(id, inf);
    }
    return inf as Informer<T>;
  }

  async start(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.start()));
  }

  stop(): void {
    for (const i of this.informers.values()) i.stop();
  }
}
