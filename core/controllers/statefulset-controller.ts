/**
 * The StatefulSet controller, as Kubernetes' (pkg/controller/statefulset): stable pod names
 * `<set>-<ordinal>` with hostname/subdomain for per-pod DNS, one PersistentVolumeClaim per claim
 * template and ordinal created before its pod and kept (or owned for the garbage collector, per
 * persistentVolumeClaimRetentionPolicy), OrderedReady or Parallel pod management, RollingUpdate
 * (reverse ordinal order, respecting the partition) and OnDelete with ControllerRevisions.
 *
 * Shape: handlers enqueue the set's key (pods through their controller ownerReference; orphans to
 * the sets whose selector takes them), `reconcile` reads the caches and writes through the client.
 */
import { isDeepStrictEqual } from 'node:util';
import { isApiError } from '../api/errors.ts';
import { labelSelectorFromObject, type Selector } from '../api/selectors.ts';
import type { KubeObject } from '../api/types.ts';
import type { EventRecorder } from '../client/event-recorder.ts';
import { controllerOwnerKey, type Controller, type ControllerContext } from './controller.ts';
import {
  CONTROLLER_REVISION, HISTORY_HASH_LABEL, ownedRevisions, syncRevisions, templateOf, truncateHistory,
} from './controller-revision.ts';
import { keyOf, type Informer } from './informer.ts';
import { claimObjects, indexByControllerUid, recheckOwner } from './pod-control.ts';
import {
  claimRefsFor, claimsFor, identityMatches, isMemberOf, ordinalOf, podRevision, updateIdentity,
} from './statefulset/identity.ts';
import { isRunningAndAvailable, isRunningAndReady, replicaStatus, updateStatefulSet, type StatefulPodControl } from './statefulset/update.ts';
import { WorkQueue } from './workqueue.ts';

const STS = { apiVersion: 'apps/v1', kind: 'StatefulSet' } as const;
const POD = { apiVersion: 'v1', kind: 'Pod' } as const;
const PVC = { apiVersion: 'v1', kind: 'PersistentVolumeClaim' } as const;

export class StatefulSetController implements Controller, StatefulPodControl {
  readonly name = 'statefulset-controller';
  readonly queue = new WorkQueue({ name: 'statefulset' });
  private readonly sets: Informer;
  private readonly pods: Informer;
  private readonly claims: Informer;
  private readonly revisions: Informer;
  private readonly recorder: EventRecorder;

  constructor(private readonly ctx: ControllerContext) {
    this.sets = ctx.informers.for(STS);
    this.pods = ctx.informers.for(POD);
    this.claims = ctx.informers.for(PVC);
    this.revisions = ctx.informers.for(CONTROLLER_REVISION);
    this.recorder = ctx.recorder('statefulset-controller');
    indexByControllerUid(this.pods);
    indexByControllerUid(this.revisions);
    this.sets.addHandlers({
      onAdd: (s) => this.queue.add(keyOf(s)),
      onUpdate: (_o, s) => this.queue.add(keyOf(s)),
      onDelete: (s) => this.queue.add(keyOf(s)),
    });
    this.pods.addHandlers({
      onAdd: (p) => this.podChanged(p),
      onUpdate: (o, p) => {
        this.podChanged(p);
        const before = controllerOwnerKey(o, 'StatefulSet');
        if (before && before !== controllerOwnerKey(p, 'StatefulSet')) this.queue.add(before);
      },
      onDelete: (p) => this.podChanged(p),
    });
  }

  run(workers: number): void {
    void this.queue.run(workers, (k) => this.reconcile(k));
  }

  stop(): void {
    this.queue.shutdown();
  }

  now(): Date {
    return this.ctx.now();
  }

  /** A pod's set, by controller ownerReference; an orphan goes to every set that could adopt it. */
  private podChanged(pod: KubeObject): void {
    const owner = controllerOwnerKey(pod, 'StatefulSet');
    if (owner) return this.queue.add(owner);
    if (pod.metadata.ownerReferences?.some((r) => r.controller)) return;
    for (const set of this.sets.list(pod.metadata.namespace)) {
      if (isMemberOf(set, pod) && selectorOf(set)?.matches(pod.metadata.labels)) this.queue.add(keyOf(set));
    }
  }

  async reconcile(key: string): Promise<void> {
    const set = this.sets.get(key);
    if (!set) return;
    const selector = selectorOf(set);
    if (!selector) return;
    const pods = await this.claimPods(set, selector);
    const revs = await syncRevisions(this.ctx.client, set, ownedRevisions(this.revisions, set), {
      hashLabel: HISTORY_HASH_LABEL,
      collisionCount: Number(set.status?.collisionCount ?? 0),
    });
    const currentName = revs.current.metadata.name!;
    const updateName = revs.update.metadata.name!;
    const after = await updateStatefulSet(this, {
      set,
      currentSet: withTemplate(set, templateOf(revs.current)),
      currentRevision: currentName,
      updateSet: withTemplate(set, templateOf(revs.update)),
      updateRevision: updateName,
      pods,
    });
    await this.writeStatus(set, after, currentName, updateName, revs.collisionCount);
    const live = new Set([currentName, updateName, ...pods.map(podRevision)]);
    await truncateHistory(this.ctx.client, revs.all, (r) => live.has(r.metadata.name!), Number(set.spec?.revisionHistoryLimit ?? 10));
  }

  private async writeStatus(set: KubeObject, pods: KubeObject[], current: string, update: string, collisionCount: number): Promise<void> {
    const minReadySeconds = Number(set.spec?.minReadySeconds ?? 0);
    const now = this.ctx.now();
    const counts = replicaStatus(pods, minReadySeconds, now, current, update);
    const status: Record<string, unknown> = {
      ...(set.status ?? {}),
      observedGeneration: set.metadata.generation,
      ...counts,
      currentRevision: current,
      updateRevision: update,
      collisionCount,
    };
    // completeRollingUpdate: every replica updated and ready → the update revision is current.
    const rolling = (set.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
    if (rolling && counts.updatedReplicas === counts.replicas && counts.readyReplicas === counts.replicas) {
      status.currentReplicas = counts.updatedReplicas;
      status.currentRevision = update;
    }
    if (!isDeepStrictEqual(status, set.status ?? {})) {
      const next = structuredClone(set);
      next.status = status;
      await this.ctx.client.updateStatus(next);
    }
    // Pods ready but not yet available for minReadySeconds: look again when they will be.
    if (minReadySeconds > 0 && pods.some((p) => isRunningAndReady(p) && !isRunningAndAvailable(p, minReadySeconds, now))) {
      this.queue.addAfter(keyOf(set), minReadySeconds * 1000);
    }
  }

  /** getPodsForStatefulSet: owned members matching the selector; matching orphans adopted, the rest released. */
  private async claimPods(set: KubeObject, selector: Selector): Promise<KubeObject[]> {
    const pods = await claimObjects(this.pods.list(set.metadata.namespace), {
      client: this.ctx.client,
      owner: set,
      selector,
      canAdopt: recheckOwner(this.ctx.client, set),
      fieldManager: this.name,
      match: (pod) => isMemberOf(set, pod),
    });
    return pods.sort((a, b) => ordinalOf(a) - ordinalOf(b));
  }

  // ---- StatefulPodControl ---------------------------------------------------------------------

  async createPod(set: KubeObject, pod: KubeObject): Promise<KubeObject> {
    await this.createMissingClaims(set, pod);
    let created: KubeObject;
    try {
      created = await this.ctx.client.create(pod);
    } catch (e) {
      if (!isApiError(e, 'AlreadyExists')) this.podEvent('create', set, pod, e);
      throw e;
    }
    await this.syncClaimOwners(set, created);
    this.podEvent('create', set, created);
    return created;
  }

  async deletePod(set: KubeObject, pod: KubeObject): Promise<void> {
    try {
      await this.ctx.client.delete({ ...POD, namespace: pod.metadata.namespace, name: pod.metadata.name! }, { preconditions: { uid: pod.metadata.uid } });
    } catch (e) {
      if (isApiError(e, 'NotFound')) return;
      this.podEvent('delete', set, pod, e);
      throw e;
    }
    this.podEvent('delete', set, pod);
  }

  async syncPod(set: KubeObject, pod: KubeObject): Promise<void> {
    if (pod.status?.phase === 'Pending') await this.createMissingClaims(set, pod);
    await this.syncClaimOwners(set, pod);
    if (identityMatches(set, pod)) return;
    const next = structuredClone(pod);
    updateIdentity(next);
    try {
      await this.ctx.client.update(next);
    } catch (e) {
      this.podEvent('update', set, pod, e);
      throw e;
    }
    this.podEvent('update', set, pod);
  }

  private async createMissingClaims(set: KubeObject, pod: KubeObject): Promise<void> {
    for (const claim of claimsFor(set, ordinalOf(pod)).values()) {
      const existing = this.claims.get(keyOf(claim));
      if (existing) {
        if (existing.metadata.deletionTimestamp) throw new Error(`pvc ${claim.metadata.name} is being deleted`);
        continue;
      }
      try {
        await this.ctx.client.create(claim);
      } catch (e) {
        if (isApiError(e, 'AlreadyExists')) continue; // the cache had not seen it yet
        this.recorder.event(set, 'Warning', 'FailedCreate', `create Claim ${claim.metadata.name} for Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${(e as Error).message}`);
        throw e;
      }
      this.recorder.event(set, 'Normal', 'SuccessfulCreate', `create Claim ${claim.metadata.name} Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} success`);
    }
  }

  /** persistentVolumeClaimRetentionPolicy: give each claim the owners the policy asks for. */
  private async syncClaimOwners(set: KubeObject, pod: KubeObject): Promise<void> {
    for (const want of claimsFor(set, ordinalOf(pod)).values()) {
      const claim = this.claims.get(keyOf(want));
      if (!claim || claim.metadata.deletionTimestamp) continue;
      const refs = claimRefsFor(set, pod, claim);
      if (!refs) continue;
      const next = structuredClone(claim);
      next.metadata.ownerReferences = refs;
      if (!refs.length) delete next.metadata.ownerReferences;
      try {
        await this.ctx.client.update(next);
      } catch (e) {
        if (!isApiError(e, 'NotFound')) throw e;
      }
    }
  }

  /** stateful_pod_control.go recordPodEvent: `create Pod web-0 in StatefulSet web successful`. */
  private podEvent(verb: 'create' | 'delete' | 'update', set: KubeObject, pod: KubeObject, err?: unknown): void {
    const Verb = verb[0]!.toUpperCase() + verb.slice(1);
    const what = `${verb} Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name}`;
    if (err) this.recorder.event(set, 'Warning', `Failed${Verb}`, `${what} failed error: ${(err as Error).message}`);
    else this.recorder.event(set, 'Normal', `Successful${Verb}`, `${what} successful`);
  }
}

function selectorOf(set: KubeObject): Selector | undefined {
  try {
    return labelSelectorFromObject(set.spec?.selector);
  } catch {
    return undefined;
  }
}

/** ApplyRevision: the set as it was with the revision's pod template. */
function withTemplate(set: KubeObject, template: unknown): KubeObject {
  return { ...set, spec: { ...set.spec, template } };
}
