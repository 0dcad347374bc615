/**
 * The reference driver, `memory:`. Everything lives in this process; writes apply at once.
 *
 * The class is also the base of the lowdb driver: reads, watches and compaction are the same
 * code, and a persistent driver overrides the three write hooks (`latest`, `nextRevision`,
 * `commit`) to make a planned mutation durable before it becomes visible.
 */
import {
  registerStoreDriver,
  StoreError,
  type KeyValue,
  type ListOptions,
  type ListResult,
  type Store,
  type StoredValue,
  type Watcher,
  type WatchEvent,
} from '../store.ts';
import { copyIn, KvState, planCreate, planDelete, planUpdate, toKeyValue, type Entry, type Mutation } from './kv-state.ts';
import { WatchHub, type HistoryOptions } from './watch-hub.ts';

export type MemoryStoreOptions = HistoryOptions;

export class MemoryStore implements Store {
  protected readonly state = new KvState();
  protected readonly hub: WatchHub;
  /** Set once close() starts: every later call fails with Closed. */
  protected closing = false;

  constructor(opts: MemoryStoreOptions = {}) {
    this.hub = new WatchHub(opts);
  }

  currentRevision(): number {
    return this.state.revision;
  }

  compactedRevision(): number {
    return this.hub.compactedRevision();
  }

  async get(key: string): Promise<KeyValue> {
    this.assertOpen('get');
    const entry = this.state.lookup(key);
    if (!entry) throw new StoreError('NotFound', `key ${key} not found`, key);
    return toKeyValue(key, entry);
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    this.assertOpen('list');
    const limit = opts.limit && opts.limit > 0 ? Math.floor(opts.limit) : 0;
    const { keys, more } = this.state.range(prefix, limit, opts.after);
    return { items: keys.map(([key, entry]) => toKeyValue(key, entry)), revision: this.state.revision, more };
  }

  async create(key: string, value: StoredValue): Promise<KeyValue> {
    this.assertOpen('create');
    const m = planCreate(this.latest, key, copyIn(key, value), this.nextRevision());
    await this.commit(m);
    return toKeyValue(key, m.entry);
  }

  async update(key: string, value: StoredValue, expectedRevision: number): Promise<KeyValue> {
    this.assertOpen('update');
    const m = planUpdate(this.latest, key, copyIn(key, value), expectedRevision, this.nextRevision());
    await this.commit(m);
    return toKeyValue(key, m.entry);
  }

  async delete(key: string, expectedRevision = 0): Promise<KeyValue> {
    this.assertOpen('delete');
    const m = planDelete(this.latest, key, expectedRevision, this.nextRevision());
    await this.commit(m);
    return toKeyValue(key, m.entry);
  }

  watch(prefix: string, fromRevision: number, listener: (ev: WatchEvent) => void): Watcher {
    this.assertOpen('watch');
    return this.hub.watch(prefix, fromRevision, this.state.revision, listener);
  }

  async compact(revision: number): Promise<void> {
    this.assertOpen('compact');
    // Compacting past the newest revision means "everything so far"; etcd refuses, we clamp.
    this.hub.compact(Math.min(revision, this.state.revision));
  }

  async close(): Promise<void> {
    this.closing = true;
    this.hub.closeAll();
  }

  /** The newest state of a key, including accepted writes that are not yet visible. */
  protected latest = (key: string): Entry | undefined => this.state.lookup(key);

  /** The revision the next planned write gets. */
  protected nextRevision(): number {
    return this.state.revision + 1;
  }

  /** Make a planned mutation happen; it is visible (and watchers told) when this resolves. */
  protected async commit(m: Mutation): Promise<void> {
    this.applyCommitted(m);
  }

  protected applyCommitted(m: Mutation): void {
    this.state.apply(m);
    this.hub.publish(m);
  }

  protected assertOpen(op: string): void {
    if (this.closing) throw new StoreError('Closed', `store is closed (${op})`);
  }
}

registerStoreDriver('memory', async (_rest, _url, opts) => new MemoryStore(opts));
