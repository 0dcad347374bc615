/**
 * Event expiry. kube-apiserver stores every Event with a one-hour etcd lease (`--event-ttl`), so
 * events disappear an hour after their last update; without it a long-running desktop cluster's
 * store (and memory) would grow with every pod it ever ran. This controller does the same on any
 * store: every `eventTTLSeconds / 4` (at most a minute) it pages through Events and deletes the
 * ones whose last update (lastTimestamp, eventTime, or creation) is older than the TTL. A delete
 * is preconditioned on the resourceVersion read, so an event bumped meanwhile stays.
 */
import { isApiError } from '../api/errors.ts';
import type { KubeObject } from '../api/types.ts';
import { log } from '../log.ts';
import type { Controller, ControllerContext } from './controller.ts';
import { timeMs } from './controller-utils.ts';

const EVENT = { apiVersion: 'v1', kind: 'Event' } as const;
const PAGE = 500;

export function lastSeen(ev: KubeObject): number | undefined {
  return timeMs((ev as any).lastTimestamp) ?? timeMs((ev as any).series?.lastObservedTime) ?? timeMs((ev as any).eventTime) ?? timeMs(ev.metadata.creationTimestamp);
}

export class EventTTLController implements Controller {
  readonly name = 'event-ttl';
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(private readonly ctx: ControllerContext) {}

  private get ttlMs(): number {
    return this.ctx.options.eventTTLSeconds * 1000;
  }

  run(): void {
    const every = Math.min(60_000, Math.max(1_000, this.ttlMs / 4));
    this.timer = setInterval(() => void this.sweep(), every);
    this.timer.unref();
    void this.sweep();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  /** Not keyed: the sweep is the unit of work (the key is ignored). */
  reconcile(): Promise<void> {
    return this.sweep();
  }

  /** One pass over every Event; resolves with the pass (concurrent calls share it). */
  sweep(): Promise<void> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(): Promise<void> {
    const cutoff = this.ctx.now().getTime() - this.ttlMs;
    let cont: string | undefined;
    let deleted = 0;
    try {
      do {
        const page = await this.ctx.client.list(EVENT, { limit: PAGE, ...(cont ? { continue: cont } : {}) });
        for (const ev of page.items) {
          if (this.stopped) return;
          const at = lastSeen(ev);
          if (at === undefined || at > cutoff) continue;
          try {
            await this.ctx.client.delete(
              { ...EVENT, namespace: ev.metadata.namespace, name: ev.metadata.name! },
              { preconditions: { resourceVersion: ev.metadata.resourceVersion } },
            );
            deleted++;
          } catch (e) {
            if (!isApiError(e, 'NotFound') && !isApiError(e, 'Conflict')) throw e;
          }
        }
        cont = page.metadata.continue;
      } while (cont && !this.stopped);
    } catch (e) {
      log.warn('event expiry pass failed; retrying at the next one', { error: (e as Error).message });
    }
    if (deleted) log.debug('expired events deleted', { deleted });
  }
}
