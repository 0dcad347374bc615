/**
 * The ReplicaSet controller, as Kubernetes' pkg/controller/replicaset: keeps `spec.replicas`
 * active pods matching the selector. Pods are claimed through controller ownerReferences
 * (matching orphans adopted, owned pods that no longer match released); missing pods are
 * created in slow-start batches (1, 2, 4 …, at most 500 per sync); surplus pods are deleted
 * least valuable first (see compareForDeletion). Expectations keep a stale cache or a burst of
 * watch events from creating or deleting twice. Pods being deleted or terminated (Failed,
 * Succeeded) do not count, so terminated ones are replaced.
 *
 * Status: replicas, fullyLabeledReplicas, readyReplicas, availableReplicas (minReadySeconds),
 * observedGeneration, and a ReplicaFailure condition (FailedCreate / FailedDelete) while
 * creating or deleting fails (quota, admission). Written only when it changed.
 */
import { isApiError } from '../api/errors.ts';
import { labelSelectorFromObject, selectorFromSet, type Selector } from '../api/selectors.ts';
import type { KubeObject } from '../api/types.ts';
import type { EventRecorder } from '../client/event-recorder.ts';
import { log } from '../log.ts';
import type { Controller, ControllerContext } from './controller.ts';
import {
  ControllerExpectations, filterActivePods, isPodAvailable, isPodReady, podsToDelete, rfc3339, slowStartBatch,
} from './controller-utils.ts';
import { keyOf, type Informer } from './informer.ts';
import {
  BY_CONTROLLER_UID, claimObjects, getControllerOf, indexByControllerUid, isNamespaceTerminating, PodControl, recheckOwner, resolveControllerRef,
} from './pod-control.ts';
import { WorkQueue } from './workqueue.ts';

export const REPLICASET = { apiVersion: 'apps/v1', kind: 'ReplicaSet' } as const;
const POD = { apiVersion: 'v1', kind: 'Pod' } as const;
const NAME = 'replicaset-controller';

/** At most this many pods are created or deleted in one sync (Kubernetes' burstReplicas). */
export const BURST_REPLICAS = 500;
export const SLOW_START_INITIAL_BATCH_SIZE = 1;

export class ReplicaSetController implements Controller {
  readonly name = NAME;
  private readonly queue = new WorkQueue({ name: NAME });
  private readonly replicaSets: Informer;
  private readonly pods: Informer;
  private readonly expectations: ControllerExpectations;
  private readonly recorder: EventRecorder;
  private readonly podControl: PodControl;

  constructor(private readonly ctx: ControllerContext) {
    this.replicaSets = ctx.informers.for(REPLICASET);
    this.pods = ctx.informers.for(POD);
    indexByControllerUid(this.pods);
    this.expectations = new ControllerExpectations(() => ctx.now());
    this.recorder = ctx.recorder(NAME);
    this.podControl = new PodControl(ctx.client, this.recorder, NAME);

    this.replicaSets.addHandlers({
      onAdd: (rs) => this.enqueue(keyOf(rs)),
      onUpdate: (_old, rs) => this.enqueue(keyOf(rs)),
      onDelete: (rs) => {
        this.expectations.delete(keyOf(rs));
        this.enqueue(keyOf(rs));
      },
    });
    this.pods.addHandlers({
      onAdd: (pod) => this.podAdded(pod),
      onUpdate: (old, pod) => this.podUpdated(old, pod),
      onDelete: (pod) => this.podDeleted(pod),
    });
  }

  run(workers: number): void {
    void this.queue.run(workers, (key) => this.reconcile(key));
  }

  stop(): void {
    this.queue.shutdown();
  }

  enqueue(key: string): void {
    this.queue.add(key);
  }

  /** Resolves when no key is queued or being reconciled (tests). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  // ---- event routing -----------------------------------------------------------------------

  /** The ReplicaSet a controller reference points at, if it is still that one (uid). */
  private resolve(namespace: string | undefined, ref: { kind: string; name: string; uid: string } | undefined): KubeObject | undefined {
    return resolveControllerRef(namespace, ref, 'ReplicaSet', this.replicaSets);
  }

  /** ReplicaSets whose selector matches an orphan pod (they may adopt it). */
  private replicaSetsSelecting(pod: KubeObject): KubeObject[] {
    return this.replicaSets.list(pod.metadata.namespace).filter((rs) => {
      const sel = safeSelector(rs);
      return !!sel && !sel.empty() && sel.matches(pod.metadata.labels ?? {});
    });
  }

  private podAdded(pod: KubeObject): void {
    if (pod.metadata.deletionTimestamp) return this.podDeleted(pod); // seen already terminating after a restart
    const ref = getControllerOf(pod);
    if (ref) {
      const rs = this.resolve(pod.metadata.namespace, ref);
      if (!rs) return;
      this.expectations.creationObserved(keyOf(rs));
      this.enqueue(keyOf(rs));
      return;
    }
    for (const rs of this.replicaSetsSelecting(pod)) this.enqueue(keyOf(rs));
  }

  private podUpdated(old: KubeObject, pod: KubeObject): void {
    if (old.metadata.resourceVersion === pod.metadata.resourceVersion) return;
    const labelsChanged = !sameLabels(old.metadata.labels, pod.metadata.labels);
    if (pod.metadata.deletionTimestamp) {
      // A graceful delete: the pod is as good as gone; don't wait for the final delete event.
      this.podDeleted(pod);
      if (labelsChanged) this.podDeleted(old);
      return;
    }
    const cur = getControllerOf(pod);
    const prev = getControllerOf(old);
    const refChanged = JSON.stringify(cur) !== JSON.stringify(prev);
    if (refChanged && prev) {
      const rs = this.resolve(old.metadata.namespace, prev);
      if (rs) this.enqueue(keyOf(rs));
    }
    if (cur) {
      const rs = this.resolve(pod.metadata.namespace, cur);
      if (!rs) return;
      this.enqueue(keyOf(rs));
      const minReady = rs.spec?.minReadySeconds ?? 0;
      if (minReady > 0 && !isPodReady(old) && isPodReady(pod)) this.queue.addAfter(keyOf(rs), minReady * 1000 + 1000);
      return;
    }
    if (labelsChanged || refChanged) for (const rs of this.replicaSetsSelecting(pod)) this.enqueue(keyOf(rs));
  }

  private podDeleted(pod: KubeObject): void {
    const rs = this.resolve(pod.metadata.namespace, getControllerOf(pod));
    if (!rs) return;
    this.expectations.deletionObserved(keyOf(rs), keyOf(pod));
    this.enqueue(keyOf(rs));
  }

  // ---- reconcile ---------------------------------------------------------------------------

  async reconcile(key: string): Promise<void> {
    const cached = this.replicaSets.get(key);
    if (!cached) {
      this.expectations.delete(key);
      return;
    }
    const rs = structuredClone(cached);
    const selector = safeSelector(rs);
    if (!selector) {
      log.warn('replicaset has an invalid selector; not syncing', { replicaSet: key });
      return;
    }
    const needsSync = this.expectations.satisfied(key) && !rs.metadata.deletionTimestamp;
    const active = filterActivePods(this.pods.list(rs.metadata.namespace));
    const owned = await claimObjects(active, {
      client: this.ctx.client,
      owner: rs,
      selector,
      canAdopt: recheckOwner(this.ctx.client, rs),
      fieldManager: NAME,
    });

    let manageError: Error | undefined;
    if (needsSync) {
      try {
        await this.manageReplicas(owned, rs, key);
      } catch (e) {
        manageError = e as Error;
      }
    }
    const now = this.ctx.now();
    const status = calculateStatus(rs, owned, manageError, now);
    const updated = await this.writeStatus(rs, status);
    const want = updated.spec?.replicas ?? 1;
    const minReady = updated.spec?.minReadySeconds ?? 0;
    if (!manageError && minReady > 0 && (status.readyReplicas ?? 0) === want && (status.availableReplicas ?? 0) !== want) {
      this.queue.addAfter(key, minReady * 1000);
    }
    if (manageError) throw manageError;
  }

  /** Create or delete pods so that `pods` (active, owned) becomes spec.replicas. */
  private async manageReplicas(pods: KubeObject[], rs: KubeObject, key: string): Promise<void> {
    const want = rs.spec?.replicas ?? 1;
    const diff = pods.length - want;
    if (diff < 0) {
      const n = Math.min(-diff, BURST_REPLICAS);
      this.expectations.expectCreations(key, n);
      const { successes, error } = await slowStartBatch(n, SLOW_START_INITIAL_BATCH_SIZE, async () => {
        try {
          await this.podControl.createPod(rs.spec.template, rs);
        } catch (e) {
          if (!isNamespaceTerminating(e)) throw e; // all further creates fail too; nothing to report
        }
      });
      // Creates never made will never be observed.
      for (let i = successes; i < n; i++) this.expectations.creationObserved(key);
      if (error) throw error;
    } else if (diff > 0) {
      const n = Math.min(diff, BURST_REPLICAS);
      const victims = podsToDelete(pods, this.relatedPods(rs), n, this.ctx.now());
      this.expectations.expectDeletions(key, victims.map((p) => keyOf(p)));
      const results = await Promise.allSettled(victims.map((p) => this.podControl.deletePod(p.metadata.namespace!, p.metadata.name!, rs)));
      let first: unknown;
      results.forEach((r, i) => {
        if (r.status === 'fulfilled') return;
        // The informer will never see a deletion that did not happen.
        this.expectations.deletionObserved(key, keyOf(victims[i]!));
        if (!isApiError(r.reason, 'NotFound')) first ??= r.reason;
      });
      if (first) throw first;
    }
  }

  /** Active pods of every ReplicaSet with the same controller as `rs` (a Deployment's family). */
  private relatedPods(rs: KubeObject): KubeObject[] {
    const owner = getControllerOf(rs);
    const family = owner
      ? this.replicaSets.list(rs.metadata.namespace).filter((r) => getControllerOf(r)?.uid === owner.uid)
      : [rs];
    return family.flatMap((r) => this.pods.byIndex(BY_CONTROLLER_UID, r.metadata.uid!));
  }

  private async writeStatus(rs: KubeObject, status: Record<string, any>): Promise<KubeObject> {
    if (sameStatus(rs.status, status)) return rs;
    const next = structuredClone(rs);
    next.status = status;
    try {
      return await this.ctx.client.updateStatus(next, { fieldManager: NAME });
    } catch (e) {
      if (!isApiError(e, 'Conflict')) throw e;
      // One retry on a fresh copy, as Kubernetes does; a later sync fixes anything else.
      const fresh = await this.ctx.client.get({ ...REPLICASET, namespace: rs.metadata.namespace, name: rs.metadata.name! });
      fresh.status = { ...status, observedGeneration: fresh.metadata.generation };
      return await this.ctx.client.updateStatus(fresh, { fieldManager: NAME });
    }
  }
}

/** The factory for `manager.add(replicaSetController)`. */
export const replicaSetController = (ctx: ControllerContext): ReplicaSetController => new ReplicaSetController(ctx);

function safeSelector(rs: KubeObject): Selector | undefined {
  try {
    return labelSelectorFromObject(rs.spec?.selector);
  } catch {
    return undefined;
  }
}

function sameLabels(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ka = Object.keys(a ?? {});
  return ka.length === Object.keys(b ?? {}).length && ka.every((k) => a![k] === b?.[k]);
}

/** calculateStatus (zero counts omitted, as Go's omitempty does; `replicas` always present). */
export function calculateStatus(rs: KubeObject, pods: KubeObject[], manageError: Error | undefined, now: Date): Record<string, any> {
  const templateLabels = selectorFromSet(rs.spec?.template?.metadata?.labels);
  const minReady = rs.spec?.minReadySeconds ?? 0;
  let fullyLabeled = 0;
  let ready = 0;
  let available = 0;
  for (const pod of pods) {
    if (templateLabels.matches(pod.metadata.labels ?? {})) fullyLabeled++;
    if (isPodReady(pod)) {
      ready++;
      if (isPodAvailable(pod, minReady, now)) available++;
    }
  }
  let conditions: any[] = structuredClone(rs.status?.conditions ?? []);
  const failure = conditions.find((c) => c.type === 'ReplicaFailure');
  if (manageError && !failure) {
    const want = rs.spec?.replicas ?? 1;
    conditions.push({
      type: 'ReplicaFailure',
      status: 'True',
      lastTransitionTime: rfc3339(now),
      reason: pods.length < want ? 'FailedCreate' : 'FailedDelete',
      message: manageError.message,
    });
  } else if (!manageError && failure) {
    conditions = conditions.filter((c) => c.type !== 'ReplicaFailure');
  }
  const status: Record<string, any> = { replicas: pods.length };
  if (fullyLabeled) status.fullyLabeledReplicas = fullyLabeled;
  if (ready) status.readyReplicas = ready;
  if (available) status.availableReplicas = available;
  if (rs.metadata.generation) status.observedGeneration = rs.metadata.generation;
  if (conditions.length) status.conditions = conditions;
  return status;
}

function sameStatus(a: Record<string, any> | undefined, b: Record<string, any>): boolean {
  const fields = ['replicas', 'fullyLabeledReplicas', 'readyReplicas', 'availableReplicas', 'observedGeneration'];
  if (fields.some((f) => (a?.[f] ?? 0) !== (b[f] ?? 0))) return false;
  return JSON.stringify(a?.conditions ?? []) === JSON.stringify(b.conditions ?? []);
}
