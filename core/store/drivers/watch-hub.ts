/**
 * Watch history and live fan-out, shared by every in-process driver.
 *
 * History: every applied mutation is kept, in revision order, so a watcher can resume from a
 * revision. It is bounded automatically: at most `historyLimit` events (default 10,000) and none
 * older than `historyMaxAgeMs` (default 5 minutes — the interval at which Kubernetes compacts
 * etcd). Dropping an event moves `compactRevision` up to it; `compact(rev)` does the same on
 * request. A watch from a revision below `compactRevision` throws StoreError('Compacted') and the
 * caller relists, exactly as against etcd. 10,000 Pod-sized events are a few tens of MB at most,
 * and on a desktop the age bound is usually the one that bites.
 *
 * Delivery: each watcher has its own FIFO, filled synchronously (replay first, then live events,
 * so nothing is duplicated or reordered) and drained in a microtask. Each listener call gets its
 * own copy of the values. A listener that throws is logged and does not affect other watchers or
 * the rest of its own stream.
 */
import { log } from '../../log.ts';
import { StoreError, type Watcher, type WatchEvent } from '../store.ts';
import { toWatchEvent, type Mutation } from './kv-state.ts';

export interface HistoryOptions {
  /** Most events kept for resuming watches (default 10,000). */
  historyLimit?: number;
  /** Events older than this many ms are dropped (default 300,000 = 5 minutes). */
  historyMaxAgeMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

export const DEFAULT_HISTORY_LIMIT = 10_000;
export const DEFAULT_HISTORY_MAX_AGE_MS = 5 * 60_000;

interface Item {
  m: Mutation;
  at: number;
}

export class WatchHub {
  private items: Item[] = [];
  private head = 0;
  private readonly watchers = new Set<QueuedWatcher>();
  private readonly limit: number;
  private readonly maxAgeMs: number;
  private readonly now: () => number;
  private compactRev = 0;

  constructor(opts: HistoryOptions = {}) {
    this.limit = Math.max(1, opts.historyLimit ?? DEFAULT_HISTORY_LIMIT);
    this.maxAgeMs = opts.historyMaxAgeMs ?? DEFAULT_HISTORY_MAX_AGE_MS;
    this.now = opts.now ?? Date.now;
  }

  compactedRevision(): number {
    this.trim();
    return this.compactRev;
  }

  /** Start history at `revision` (a store recovered from disk has nothing older). */
  resetHistory(revision: number): void {
    this.items = [];
    this.head = 0;
    this.compactRev = revision;
  }

  publish(m: Mutation): void {
    this.items.push({ m, at: this.now() });
    this.trim();
    for (const w of this.watchers) w.offer(m);
  }

  watch(prefix: string, fromRevision: number, currentRevision: number, listener: (ev: WatchEvent) => void): Watcher {
    if (!Number.isInteger(fromRevision) || fromRevision < 0) {
      throw new TypeError(`watch ${prefix}: fromRevision must be a non-negative integer, got ${fromRevision}`);
    }
    this.trim();
    if (fromRevision !== 0 && fromRevision < this.compactRev) {
      throw new StoreError(
        'Compacted',
        `watch ${prefix} from revision ${fromRevision}: history before revision ${this.compactRev} is compacted; list again and watch from the list's revision`,
      );
    }
    const from = fromRevision === 0 ? currentRevision : fromRevision;
    const w = new QueuedWatcher(prefix, from, listener, (x) => this.watchers.delete(x));
    for (let i = this.firstAfter(from); i < this.items.length; i++) w.offer(this.items[i]!.m);
    this.watchers.add(w);
    return w;
  }

  compact(revision: number): void {
    if (revision <= this.compactRev) return;
    this.compactRev = revision;
    while (this.head < this.items.length && this.items[this.head]!.m.revision <= revision) this.head++;
    this.shrink();
  }

  closeAll(): void {
    for (const w of [...this.watchers]) w.close();
  }

  /** Index of the first history item with revision > `rev`. */
  private firstAfter(rev: number): number {
    let lo = this.head;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.items[mid]!.m.revision <= rev) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private trim(): void {
    const oldest = this.now() - this.maxAgeMs;
    while (
      this.head < this.items.length &&
      (this.items.length - this.head > this.limit || this.items[this.head]!.at < oldest)
    ) {
      this.compactRev = Math.max(this.compactRev, this.items[this.head]!.m.revision);
      this.head++;
    }
    this.shrink();
  }

  /** Drops trimmed items from the array once there are 1,024 (they hold whole objects). */
  private shrink(): void {
    if (this.head >= 1024) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}

class QueuedWatcher implements Watcher {
  private queue: Mutation[] = [];
  private next = 0;
  private scheduled = false;
  private closed = false;

  constructor(
    private readonly prefix: string,
    private readonly from: number,
    private readonly listener: (ev: WatchEvent) => void,
    private readonly onClose: (w: QueuedWatcher) => void,
  ) {}

  offer(m: Mutation): void {
    if (this.closed || m.revision <= this.from || !m.key.startsWith(this.prefix)) return;
    this.queue.push(m);
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => this.drain());
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.next = 0;
    this.onClose(this);
  }

  private drain(): void {
    this.scheduled = false;
    while (!this.closed && this.next < this.queue.length) {
      const m = this.queue[this.next++]!;
      try {
        this.listener(toWatchEvent(m));
      } catch (err) {
        log.warn('store watch listener threw', { prefix: this.prefix, key: m.key, revision: m.revision, error: String(err) });
      }
    }
    if (!this.closed) {
      this.queue = [];
      this.next = 0;
    }
  }
}
