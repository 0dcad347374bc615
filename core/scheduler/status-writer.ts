/**
 * Pod status writes the scheduler makes (PodScheduled=False with the reason and message,
 * status.nominatedNodeName, a victim's DisruptionTarget condition), serialized per pod and made
 * only when something changes, through the status subresource. A write starts from the informer's
 * copy and re-reads the pod on a Conflict.
 */
import { isApiError } from '../api/errors.ts';
import type { KubeObject } from '../api/types.ts';
import type { Client } from '../client/client.ts';
import type { Informer } from '../controllers/informer.ts';
import { log } from '../log.ts';

export interface PodCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

const MAX_ATTEMPTS = 5;

/** podutil.UpdatePodCondition: @returns whether the status changed. */
export function updatePodCondition(status: any, c: PodCondition, now: string): boolean {
  const conditions: any[] = (status.conditions ??= []);
  const i = conditions.findIndex((x) => x.type === c.type);
  if (i < 0) {
    conditions.push({ ...c, lastProbeTime: null, lastTransitionTime: now });
    return true;
  }
  const old = conditions[i];
  if (old.status === c.status && old.reason === c.reason && old.message === c.message) return false;
  conditions[i] = { ...c, lastProbeTime: null, lastTransitionTime: old.status === c.status ? old.lastTransitionTime : now };
  return true;
}

export class PodStatusWriter {
  private readonly chains = new Map<string, Promise<void>>();
  private pending = 0;
  private waiters: Array<() => void> = [];

  constructor(
    private readonly client: Client,
    private readonly pods: Informer,
    private readonly now: () => Date,
  ) {}

  /** PodScheduled=False; `nominate`: set (a node) or clear ('') status.nominatedNodeName. */
  setScheduledFalse(namespace: string, name: string, reason: string, message: string, nominate: string | undefined): void {
    void this.enqueue(namespace, name, (pod, status) => {
      if (pod.spec?.nodeName) return false;
      let changed = updatePodCondition(status, { type: 'PodScheduled', status: 'False', reason, message }, this.stamp());
      if (nominate !== undefined && (status.nominatedNodeName ?? '') !== nominate) {
        if (nominate) status.nominatedNodeName = nominate;
        else delete status.nominatedNodeName;
        changed = true;
      }
      return changed;
    }).catch(() => undefined);
  }

  clearNominatedNode(namespace: string, name: string): void {
    void this.enqueue(namespace, name, (_pod, status) => {
      if (!status.nominatedNodeName) return false;
      delete status.nominatedNodeName;
      return true;
    }).catch(() => undefined);
  }

  /** Resolves when written (or not needed); rejects if the pod could not be updated. */
  setCondition(namespace: string, name: string, c: PodCondition): Promise<void> {
    return this.enqueue(namespace, name, (_pod, status) => updatePodCondition(status, c, this.stamp()));
  }

  idle(): Promise<void> {
    if (!this.pending) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  private stamp(): string {
    return this.now().toISOString().replace(/\.\d+Z$/, 'Z');
  }

  private enqueue(namespace: string, name: string, mutate: (pod: KubeObject, status: any) => boolean): Promise<void> {
    const key = `${namespace}/${name}`;
    this.pending++;
    const prev = this.chains.get(key) ?? Promise.resolve();
    const run = prev.then(() => this.write(namespace, name, mutate));
    const tail = run.catch(() => undefined).finally(() => {
      if (this.chains.get(key) === tail) this.chains.delete(key);
      if (--this.pending === 0) for (const w of this.waiters.splice(0)) w();
    });
    this.chains.set(key, tail);
    return run;
  }

  private async write(namespace: string, name: string, mutate: (pod: KubeObject, status: any) => boolean): Promise<void> {
    let pod: KubeObject | undefined = this.pods.get(`${namespace}/${name}`);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      try {
        pod ??= await this.client.get({ apiVersion: 'v1', kind: 'Pod', namespace, name });
        const status = structuredClone(pod.status ?? {});
        if (!mutate(pod, status)) return;
        await this.client.updateStatus({ ...pod, status });
        return;
      } catch (e) {
        if (isApiError(e, 'NotFound')) return;
        if (!isApiError(e, 'Conflict') || attempt === MAX_ATTEMPTS - 1) {
          log.warn('could not update pod status', { pod: `${namespace}/${name}`, error: (e as Error).message });
          throw e;
        }
        pod = undefined; // re-read
      }
    }
  }
}
