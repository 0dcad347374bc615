/**
 * Removal of dead sandboxes (and their containers) once the node is quiet, as the kubelet leaves
 * them to its garbage collector instead of removing them while it re-creates pods. After the
 * engine restarts, every pod gets a new sandbox at once; removing each old one first (an inspect,
 * a list and two removals per pod) was about a quarter of the engine's work during the recovery.
 * Now a new sandbox starts right away and the old ones go when no pod sync has run for a while.
 *
 * Only what is dead is given here (a sandbox a newer one replaced, after its containers were
 * stopped); removal ignores what is already gone. Anything left when the agent stops is found
 * again by the relist (older sandboxes of a pod that are not ready) after the next start.
 */
import { log } from '../log.ts';
import type { ContainerRuntime } from '../runtime/runtime.ts';
import { errorMessage } from './util.ts';

export interface ReaperOptions {
  /** Wait this long without new work or pod syncs before removing (default 10 s). */
  quietMs?: number;
  /** Removals at once (default 2). */
  concurrency?: number;
  /**
   * A node that is never quiet (pods crash-looping, probes restarting containers) must not keep
   * dead sandboxes forever: once the oldest has waited this long, removal goes on regardless
   * (default 60 s), still `concurrency` at a time.
   */
  maxDeferMs?: number;
  /** Stop waiting for one removal after this long (default 20 s). */
  removalTimeoutMs?: number;
}

export class Reaper {
  private readonly sandboxes = new Set<string>();
  private timer?: NodeJS.Timeout;
  private draining?: Promise<void>;
  private stopped = false;
  private readonly quietMs: number;
  private readonly concurrency: number;
  private readonly maxDeferMs: number;
  private readonly removalTimeoutMs: number;
  /** When the oldest pending sandbox was handed over. */
  private since = 0;

  constructor(
    private readonly runtime: ContainerRuntime,
    /** Syncs running or due now: the reaper waits while there are any. */
    private readonly busy: () => boolean,
    opts: ReaperOptions = {},
  ) {
    this.quietMs = opts.quietMs ?? 10_000;
    this.concurrency = opts.concurrency ?? 2;
    this.maxDeferMs = opts.maxDeferMs ?? 60_000;
    this.removalTimeoutMs = opts.removalTimeoutMs ?? 20_000;
  }

  /** Dead sandboxes to remove later, each with every container in it. */
  removeSandboxes(ids: Iterable<string>): void {
    if (this.stopped) return;
    let added = false;
    for (const id of ids) {
      if (this.sandboxes.has(id)) continue;
      if (!this.sandboxes.size) this.since = Date.now();
      this.sandboxes.add(id);
      added = true;
    }
    if (added) this.arm(this.quietMs);
  }

  get pending(): number {
    return this.sandboxes.size;
  }

  /** Removes everything pending now (tests, and the node's removal). */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.draining;
    await this.drain();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private overdue(): boolean {
    return this.sandboxes.size > 0 && Date.now() - this.since >= this.maxDeferMs;
  }

  /** Whether the node is (or within `withinMs` becomes) free of syncs, or the removals are overdue. */
  private async settled(withinMs: number): Promise<boolean> {
    for (const end = Date.now() + withinMs; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) if (!this.busy() || this.overdue()) return true;
    return !this.busy() || this.overdue();
  }

  private arm(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.busy() && !this.overdue()) return this.arm(2_000);
      void this.drain();
    }, ms);
    this.timer.unref?.();
  }

  private drain(): Promise<void> {
    if (this.draining) return this.draining;
    // Cleared in a `.finally` (always after this assignment): clearing it inside the loop's own
    // `finally` ran before the assignment when there was nothing to do, which left a settled
    // promise here for good — and no removal ever again (CI: 100 sandboxes pending for 180 s).
    const run = this.drainLoop().finally(() => {
      if (this.draining === run) this.draining = undefined;
    });
    this.draining = run;
    return run;
  }

  private async drainLoop(): Promise<void> {
    while (this.sandboxes.size && !this.stopped) {
      const batch = [...this.sandboxes].slice(0, this.concurrency);
      await Promise.all(
        batch.map(async (id) => {
          try {
            // A removal the engine never answers (seen right after engine restarts) must not
            // hold up the others: give up waiting after removalTimeoutMs; the relist hands the
            // sandbox over again if it is still there.
            let timer: NodeJS.Timeout | undefined;
            await Promise.race([
              this.runtime.removePodSandbox(id),
              new Promise<never>((_, reject) => {
                timer = setTimeout(() => reject(new Error(`no answer within ${this.removalTimeoutMs} ms`)), this.removalTimeoutMs);
                timer.unref?.();
              }),
            ]).finally(() => clearTimeout(timer));
          } catch (err) {
            const msg = errorMessage(err);
            (/no answer within/.test(msg) ? log.warn : log.debug)('dead sandbox not removed; the relist will find it again', { sandbox: id, error: msg });
          } finally {
            this.sandboxes.delete(id);
            if (!this.sandboxes.size) this.since = 0;
          }
        }),
      );
      // A removal can make its pod sync once (the relist sees its sandboxes change): give
      // those a moment. Pods that keep the engine busy beyond that (an engine restart, a
      // rollout) come first: the rest waits for the next free moment (checked every 2 s,
      // not another full quiet period: under steady load that starved the removals).
      if (this.sandboxes.size && !(await this.settled(1_000))) {
        this.arm(2_000);
        break;
      }
    }
  }
}
