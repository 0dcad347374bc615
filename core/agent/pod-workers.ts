/**
 * Per-pod workers (the kubelet's podWorkers): every pod is synced by at most one run at a time;
 * changes that arrive during a run collapse into one more run after it; a delayed request (a
 * backoff that ends, a probe period) keeps only the earliest time. A failing sync is retried with
 * its own backoff (1 s doubling to 30 s) so a broken engine does not spin. At most
 * `maxConcurrent` pods sync at once (the others wait their turn in order): the engine does the
 * work one request at a time anyway, and a burst of 100 new pods then does not hold 100 syncs'
 * worth of memory at once.
 */
import { log } from '../log.ts';

export type SyncFn = (uid: string) => Promise<void>;

interface Worker {
  running?: Promise<void>;
  dirty: boolean;
  queued: boolean;
  timer?: NodeJS.Timeout;
  timerAt?: number;
  failures: number;
  forgotten?: boolean;
}

export interface PodWorkersOptions {
  errorBackoffMs?: number;
  maxErrorBackoffMs?: number;
  /** Default: unlimited. */
  maxConcurrent?: number;
}

export class PodWorkers {
  private readonly workers = new Map<string, Worker>();
  /** Pods due now, waiting for a free slot (in arrival order). */
  private readonly ready = new Set<string>();
  private activeCount = 0;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];
  private readonly max: number;

  constructor(
    private readonly sync: SyncFn,
    private readonly opts: PodWorkersOptions = {},
  ) {
    this.max = opts.maxConcurrent ?? Infinity;
  }

  /** Sync `uid` now (or after `delayMs`; the earliest pending time wins). */
  enqueue(uid: string, delayMs = 0): void {
    if (this.stopped) return;
    let w = this.workers.get(uid);
    if (!w) this.workers.set(uid, (w = { dirty: false, queued: false, failures: 0 }));
    w.forgotten = false;
    if (delayMs <= 0) {
      if (w.timer) {
        clearTimeout(w.timer);
        w.timer = undefined;
        w.timerAt = undefined;
      }
      if (w.running) w.dirty = true;
      else if (!w.queued) {
        w.queued = true;
        this.ready.add(uid);
        this.pump();
      }
      return;
    }
    const at = Date.now() + delayMs;
    if (w.timer && w.timerAt! <= at) return;
    if (w.timer) clearTimeout(w.timer);
    w.timerAt = at;
    w.timer = setTimeout(() => {
      w!.timer = undefined;
      w!.timerAt = undefined;
      this.enqueue(uid);
    }, delayMs);
  }

  /** Forget a pod once it is gone (a running sync finishes first). */
  forget(uid: string): void {
    const w = this.workers.get(uid);
    if (!w) return;
    if (w.timer) clearTimeout(w.timer);
    w.timer = undefined;
    w.dirty = false;
    w.forgotten = true;
    w.queued = false;
    this.ready.delete(uid);
    if (!w.running) this.workers.delete(uid);
    this.wakeIdle();
  }

  has(uid: string): boolean {
    return this.workers.has(uid);
  }

  /** Number of syncs running now. */
  get active(): number {
    return this.activeCount;
  }

  /** Resolves when no sync is running or immediately due (timers for later are ignored). */
  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Stops scheduling; resolves when running syncs have finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.ready.clear();
    const running: Promise<void>[] = [];
    for (const w of this.workers.values()) {
      if (w.timer) clearTimeout(w.timer);
      w.timer = undefined;
      w.dirty = false;
      w.queued = false;
      if (w.running) running.push(w.running);
    }
    await Promise.allSettled(running);
    this.workers.clear();
    this.wakeIdle();
  }

  private pump(): void {
    while (!this.stopped && this.activeCount < this.max && this.ready.size) {
      const uid = this.ready.values().next().value!;
      this.ready.delete(uid);
      const w = this.workers.get(uid);
      if (!w) continue;
      w.queued = false;
      this.run(uid, w);
    }
  }

  private run(uid: string, w: Worker): void {
    w.dirty = false;
    this.activeCount++;
    w.running = this.sync(uid).then(
      () => {
        w.failures = 0;
      },
      (err) => {
        w.failures++;
        const base = this.opts.errorBackoffMs ?? 1000;
        const delay = Math.min(base * 2 ** (w.failures - 1), this.opts.maxErrorBackoffMs ?? 30_000);
        log.warn('pod sync failed; retrying', { podUid: uid, retryInMs: delay, error: (err as Error)?.message ?? String(err) });
        if (!this.stopped && !w.forgotten && this.workers.get(uid) === w) this.enqueue(uid, delay);
      },
    );
    void w.running.finally(() => {
      w.running = undefined;
      this.activeCount--;
      if (!this.stopped && this.workers.get(uid) === w) {
        if (w.forgotten && !w.dirty && !w.timer) this.workers.delete(uid);
        else if (w.dirty) {
          w.dirty = false;
          w.queued = true;
          this.ready.add(uid);
        }
      }
      this.pump();
      this.wakeIdle();
    });
  }

  /** No sync running or due now. */
  isIdle(): boolean {
    if (this.ready.size || this.activeCount) return false;
    for (const w of this.workers.values()) if (w.running || w.dirty) return false;
    return true;
  }

  private wakeIdle(): void {
    if (!this.isIdle()) return;
    for (const r of this.idleWaiters.splice(0)) r();
  }
}
