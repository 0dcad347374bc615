/**
 * Events as client-go's recorder writes them: `<object>.<hex time>` in the object's namespace,
 * Kubernetes reasons (Scheduled, Pulling, BackOff, …); a repeat of the same event for the same
 * object bumps `count` and `lastTimestamp` instead of creating another. Recording never throws:
 * an event that cannot be written is logged and dropped (as in Kubernetes).
 */
import type { KubeObject } from '../api/types.ts';
import { isApiError } from '../api/errors.ts';
import { log } from '../log.ts';
import type { Client } from './client.ts';

export type EventType = 'Normal' | 'Warning';

export interface EventSource {
  component: string;
  host?: string;
}

interface Seen {
  namespace: string;
  name: string;
  count: number;
  at: number;
}

const MAX_SEEN = 4096;
let seq = 0;
const nextSeq = () => (seq = (seq + 1) % 1_000_000);

export class EventRecorder {
  private readonly seen = new Map<string, Seen>();
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly client: Client,
    private readonly source: EventSource,
  ) {}

  /** Record an event about `obj`; `fieldPath` names a part of it (`spec.containers{web}`). */
  event(obj: KubeObject, type: EventType, reason: string, message: string, fieldPath?: string): void {
    this.chain = this.chain.then(() => this.write(obj, type, reason, message, fieldPath)).catch(() => undefined);
  }

  /** Resolves when every event recorded so far is written (tests). */
  flush(): Promise<unknown> {
    return this.chain;
  }

  private async write(obj: KubeObject, type: EventType, reason: string, message: string, fieldPath?: string): Promise<void> {
    const m = obj.metadata;
    const namespace = m.namespace || 'default';
    const id = [this.source.component, this.source.host ?? '', m.uid ?? `${namespace}/${m.name}`, fieldPath ?? '', type, reason, message].join('\u0000');
    const now = new Date();
    const ts = now.toISOString().replace(/\.\d+Z$/, 'Z');
    const prior = this.seen.get(id);
    try {
      if (prior) {
        prior.count += 1;
        prior.at = now.getTime();
        this.touch(id, prior);
        await this.client.patch(
          { apiVersion: 'v1', kind: 'Event', namespace: prior.namespace, name: prior.name },
          'merge',
          { count: prior.count, lastTimestamp: ts, eventTime: null },
        );
        return;
      }
    } catch (e) {
      if (!isApiError(e, 'NotFound')) throw e;
      this.seen.delete(id); // the event was deleted (TTL, namespace cleanup): write a new one
    }
    // `<object>.<hex nanoseconds>` as client-go names events; a sequence keeps names unique within a millisecond.
    const name = `${m.name}.${(BigInt(now.getTime()) * 1_000_000n + BigInt(nextSeq())).toString(16)}`;
    const ev: KubeObject = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        namespace: m.namespace,
        name: m.name,
        uid: m.uid,
        resourceVersion: m.resourceVersion,
        ...(fieldPath ? { fieldPath } : {}),
      },
      reason,
      message,
      type,
      source: { component: this.source.component, ...(this.source.host ? { host: this.source.host } : {}) },
      reportingComponent: this.source.component,
      reportingInstance: this.source.host ?? '',
      firstTimestamp: ts,
      lastTimestamp: ts,
      count: 1,
    };
    try {
      await this.client.create(ev);
      this.touch(id, { namespace, name, count: 1, at: now.getTime() });
    } catch (e) {
      log.warn('could not record event', { object: `${obj.kind} ${namespace}/${m.name}`, reason, error: (e as Error).message });
    }
  }

  private touch(id: string, s: Seen): void {
    this.seen.delete(id);
    this.seen.set(id, s);
    if (this.seen.size > MAX_SEEN) this.seen.delete(this.seen.keys().next().value!);
  }
}
