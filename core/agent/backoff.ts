/**
 * The kubelet's per-item exponential backoff (k8s.io/client-go/util/flowcontrol.Backoff), used for
 * container restarts (CrashLoopBackOff: 10 s doubling to 300 s) and image pulls (ImagePullBackOff).
 *
 * Semantics kept from the kubelet:
 * - The first failure of an item is not delayed: `next` creates the entry with the initial delay,
 *   so only the *second* crash waits (a container's first restart is immediate).
 * - An entry expires when the event happens more than 2 × max after its last update: a container
 *   that ran cleanly for 10 minutes (defaults) starts again from the initial delay.
 */
export interface BackoffOptions {
  /** Default 10 000 ms. */
  initialMs?: number;
  /** Default 300 000 ms. */
  maxMs?: number;
}

interface Entry {
  backoffMs: number;
  lastUpdate: number;
}

export class Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  private readonly entries = new Map<string, Entry>();

  constructor(opts: BackoffOptions = {}, private readonly now: () => number = Date.now) {
    this.initialMs = opts.initialMs ?? 10_000;
    this.maxMs = opts.maxMs ?? 300_000;
  }

  /** The current delay of `key` (0 when it has none). */
  get(key: string): number {
    return this.entries.get(key)?.backoffMs ?? 0;
  }

  /** Records a failure at `eventTime`: the first one (or after expiry) sets the initial delay, later ones double it. */
  next(key: string, eventTime: number = this.now()): void {
    const e = this.entries.get(key);
    if (!e || this.expired(eventTime, e)) {
      this.entries.set(key, { backoffMs: this.initialMs, lastUpdate: this.now() });
      return;
    }
    e.backoffMs = Math.min(e.backoffMs * 2, this.maxMs);
    e.lastUpdate = this.now();
  }

  /** Whether something that happened at `eventTime` (a container's finish) is still inside its delay. */
  isInBackOffSince(key: string, eventTime: number): boolean {
    const e = this.entries.get(key);
    if (!e || this.expired(eventTime, e)) return false;
    return this.now() - eventTime < e.backoffMs;
  }

  /** Whether the delay that started with the last `next` is still running (image pulls). */
  isInBackOffSinceUpdate(key: string): boolean {
    const e = this.entries.get(key);
    if (!e || this.expired(this.now(), e)) return false;
    return this.now() - e.lastUpdate < e.backoffMs;
  }

  /** When the delay for an event at `eventTime` ends (ms since the epoch). */
  retryAt(key: string, eventTime: number): number {
    return eventTime + this.get(key);
  }

  /** When the delay since the last update ends. */
  retryAtSinceUpdate(key: string): number {
    const e = this.entries.get(key);
    return e ? e.lastUpdate + e.backoffMs : this.now();
  }

  reset(key: string): void {
    this.entries.delete(key);
  }

  /** Forgets every key starting with `prefix` (a pod's uid when it goes away). */
  resetPrefix(prefix: string): void {
    for (const k of this.entries.keys()) if (k.startsWith(prefix)) this.entries.delete(k);
  }

  /** Drops expired entries (called now and then). */
  gc(): void {
    const now = this.now();
    for (const [k, e] of this.entries) if (this.expired(now, e)) this.entries.delete(k);
  }

  get size(): number {
    return this.entries.size;
  }

  private expired(eventTime: number, e: Entry): boolean {
    return eventTime - e.lastUpdate > 2 * this.maxMs;
  }
}
