/**
 * Per-pod workers (the kubelet's podWorkers): every pod is synced by at most one run at a time;
 * changes that arrive during a run collapse into one more run after it; a delayed request (a
 * backoff that ends, a probe period) keeps only the earliest time. A failing sync is retried with
 * its own backoff (1 s doubling to 30 s) so a broken engine does not spin.
 */
import { log } from '../log.ts';

export type SyncFn = (uid: string) => Promise<void>;

interface Worker {
  running?: Promise<void>;
  dirty: boolean;
  timer?: NodeJS.Timeout;
  timerAt?: number;
  failures: number;
  forgotten?: boolean;
}

export interface PodWorkersOptions {
  errorBackoffMs?: number;
  maxErrorBackoffMs?: number;
}

export class PodWorkers {
  private readonly workers = new Map<string, Worker>();
  private stopped = false;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly sync: SyncFn,
    private readonly opts: PodWorkersOptions = {},
  ) {}

  /** Sync `uid` now (or after `delayMs`; the earliest pending time wins). */
  enqueue(uid: string, delayMs = 0): void {
    if (this.stopped) return;
    let w = this.workers.get(uid);
    if (!w) this.workers.set(uid, (w = { dirty: false, failures: 0 }));
    w.forgotten = false;
    if (delayMs <= 0) {
      if (w.timer) {
        clearTimeout(w.timer);
        w.timer = undefined;
        w.timerAt = undefined;
      }
      if (w.running) w.dirty = true;
      else this.run(uid, w);
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
    if (!w.running) this.workers.delete(uid);
  }

  has(uid: string): boolean {
    return this.workers.has(uid);
  }

  /** Number of syncs running now. */
  get active(): number {
    let n = 0;
    for (const w of this.workers.values()) if (w.running) n++;
    return n;
  }

  /** Resolves when no sync is running or immediately due (timers for later are ignored). */
  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Stops scheduling; resolves when running syncs have finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    const running: Promise<void>[] = [];
    for (const w of this.workers.values()) {
      if (w.timer) clearTimeout(w.timer);
      w.timer = undefined;
      w.dirty = false;
      if (w.running) running.push(w.running);
    }
    await Promise.allSettled(running);
    this.workers.clear();
    this.wakeIdle();
  }

  private run(uid: string, w: Worker): void {
    w.dirty = false;
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
      if (this.stopped) return this.wakeIdle();
      if (this.workers.get(uid) !== w) return this.wakeIdle();
      if (w.forgotten && !w.dirty && !w.timer) this.workers.delete(uid);
      if (w.dirty) this.run(uid, w);
      else this.wakeIdle();
    });
  }

  private isIdle(): boolean {
    for (const w of this.workers.values()) if (w.running || w.dirty) return false;
    return true;
  }

  private wakeIdle(): void {
    if (!this.isIdle()) return;
    for (const r of this.idleWaiters.splice(0)) r();
  }
}
