/**
 * client-go's workqueue: a key is in at most one of *dirty* (waiting) and *processing* at a time,
 * so one key is never reconciled twice at once, and a burst of adds collapses into one run.
 * A key added while it is processing is run again once the current run finishes.
 * Failed keys come back after a per-key exponential backoff (5 ms doubling to 5 min by default).
 */
import { log } from '../log.ts';

export interface WorkQueueOptions {
  name: string;
  baseDelayMs?: number;
  maxDelayMs?: number;
}

export type Reconcile = (key: string) => Promise<void>;

export class WorkQueue {
  readonly name: string;
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, { timer: NodeJS.Timeout; due: number }>();
  private readonly waiters: Array<() => void> = [];
  private readonly idleWaiters: Array<() => void> = [];
  private readonly baseDelay: number;
  private readonly maxDelay: number;
  private stopped = false;

  constructor(opts: WorkQueueOptions) {
    this.name = opts.name;
    this.baseDelay = opts.baseDelayMs ?? 5;
    this.maxDelay = opts.maxDelayMs ?? 300_000;
  }

  add(key: string): void {
    if (this.stopped || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return; // re-queued when the current run is done
    this.queue.push(key);
    this.waiters.shift()?.();
  }

  /** Add after a delay. A key waiting already keeps the earlier of its two due times. */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    if (ms <= 0) return this.add(key);
    const due = Date.now() + ms;
    const existing = this.timers.get(key);
    if (existing && existing.due <= due) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    timer.unref?.();
    this.timers.set(key, { timer, due });
  }

  /** Add after this key's backoff, which doubles with each consecutive failure. */
  addRateLimited(key: string): void {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    this.addAfter(key, Math.min(this.maxDelay, this.baseDelay * 2 ** n));
  }

  /** Clear the key's failure count (after a successful reconcile). */
  forget(key: string): void {
    this.failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  get length(): number {
    return this.queue.length;
  }

  private async next(): Promise<string | undefined> {
    while (!this.queue.length) {
      if (this.stopped) return undefined;
      await new Promise<void>((r) => this.waiters.push(r));
    }
    const key = this.queue.shift()!;
    this.dirty.delete(key);
    this.processing.add(key);
    return key;
  }

  private done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      this.queue.push(key);
      this.waiters.shift()?.();
    }
    if (!this.queue.length && !this.processing.size) for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Run `workers` loops calling reconcile; errors re-queue the key with backoff. */
  run(workers: number, reconcile: Reconcile): Promise<void> {
    const loop = async () => {
      for (;;) {
        const key = await this.next();
        if (key === undefined) return;
        try {
          await reconcile(key);
          this.forget(key);
        } catch (e) {
          if (!this.stopped) {
            log.warn('reconcile failed; retrying with backoff', { queue: this.name, key, error: (e as Error).message, retries: this.numRequeues(key) });
            this.addRateLimited(key);
          }
        } finally {
          this.done(key);
        }
      }
    };
    return Promise.all(Array.from({ length: workers }, loop)).then(() => undefined);
  }

  /** Resolves when nothing is queued or processing (timers pending later do not count). Tests use it. */
  idle(): Promise<void> {
    if (!this.queue.length && !this.processing.size) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  shutdown(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t.timer);
    this.timers.clear();
    for (const w of this.waiters.splice(0)) w();
    for (const w of this.idleWaiters.splice(0)) w();
  }
}
