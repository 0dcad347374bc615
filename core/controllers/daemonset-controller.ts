/**
 * The DaemonSet controller, as Kubernetes' (pkg/controller/daemon): one pod per node that the
 * template's node selector, required node affinity and tolerations (plus the standard DaemonSet
 * tolerations) allow. Pods are created unbound with a required node affinity on `metadata.name`
 * and the scheduler binds them. Nodes added, removed or relabelled/retainted are followed; failed
 * pods are deleted (with a per-node backoff) and replaced. Updates roll out with RollingUpdate
 * (maxUnavailable, or maxSurge) or wait for deletions with OnDelete; each template is kept as a
 * ControllerRevision and pods carry its `controller-revision-hash`.
 *
 * Status: desiredNumberScheduled, currentNumberScheduled, numberMisscheduled, numberReady,
 * numberAvailable, numberUnavailable, updatedNumberScheduled, observedGeneration, collisionCount.
 */
import { isDeepStrictEqual } from 'node:util';
import { isApiError } from '../api/errors.ts';
import { labelSelectorFromObject, type Selector } from '../api/selectors.ts';
import type { KubeObject } from '../api/types.ts';
import type { EventRecorder } from '../client/event-recorder.ts';
import type { Controller, ControllerContext } from './controller.ts';
import {
  CONTROLLER_REVISION, CONTROLLER_REVISION_HASH_LABEL, ownedRevisions, syncRevisions, truncateHistory,
} from './controller-revision.ts';
import { ControllerExpectations, isPodReady, slowStartBatch } from './controller-utils.ts';
import { daemonSetCounts, planManage, planRollingUpdate } from './daemonset/plan.ts';
import { daemonPodTemplate, nodeShouldRunDaemonPod, withNodeNameAffinity } from './daemonset/placement.ts';
import { keyOf, type Informer } from './informer.ts';
import { claimObjects, getControllerOf, indexByControllerUid, PodControl, recheckOwner, resolveControllerRef } from './pod-control.ts';
import { WorkQueue } from './workqueue.ts';

const DS = { apiVersion: 'apps/v1', kind: 'DaemonSet' } as const;
const POD = { apiVersion: 'v1', kind: 'Pod' } as const;
const NODE = { apiVersion: 'v1', kind: 'Node' } as const;
const NAME = 'daemonset-controller';
/** Kubernetes' DaemonSet burstReplicas. */
const BURST_REPLICAS = 250;
/** Failed-pod backoff per (DaemonSet, node): 1 s doubling to 15 min (failedPodsBackoff). */
const FAILED_BACKOFF_MS = { initial: 1000, max: 15 * 60_000 };

export class DaemonSetController implements Controller {
  readonly name = NAME;
  readonly queue = new WorkQueue({ name: NAME });
  private readonly sets: Informer;
  private readonly pods: Informer;
  private readonly nodes: Informer;
  private readonly revisions: Informer;
  private readonly recorder: EventRecorder;
  private readonly podControl: PodControl;
  private readonly expectations: ControllerExpectations;
  private readonly failedBackoff = new Map<string, { delay: number; until: number }>();

  constructor(private readonly ctx: ControllerContext) {
    this.sets = ctx.informers.for(DS);
    this.pods = ctx.informers.for(POD);
    this.nodes = ctx.informers.for(NODE);
    this.revisions = ctx.informers.for(CONTROLLER_REVISION);
    indexByControllerUid(this.pods);
    indexByControllerUid(this.revisions);
    this.recorder = ctx.recorder(NAME);
    this.podControl = new PodControl(ctx.client, this.recorder, NAME);
    this.expectations = new ControllerExpectations(() => ctx.now());

    this.sets.addHandlers({
      onAdd: (ds) => this.queue.add(keyOf(ds)),
      onUpdate: (_o, ds) => this.queue.add(keyOf(ds)),
      onDelete: (ds) => {
        this.expectations.delete(keyOf(ds));
        this.queue.add(keyOf(ds));
      },
    });
    this.pods.addHandlers({
      onAdd: (pod) => {
        if (pod.metadata.deletionTimestamp) return this.podDeleted(pod);
        const ds = this.owner(pod);
        if (ds) {
          this.expectations.creationObserved(keyOf(ds));
          this.queue.add(keyOf(ds));
        } else if (!getControllerOf(pod)) this.enqueueSelecting(pod);
      },
      onUpdate: (old, pod) => {
        if (pod.metadata.deletionTimestamp) return this.podDeleted(pod);
        const before = this.owner(old);
        const now = this.owner(pod);
        if (before && before !== now) this.queue.add(keyOf(before));
        if (now) {
          this.queue.add(keyOf(now));
          const minReady = Number(now.spec?.minReadySeconds ?? 0);
          if (minReady > 0 && !isPodReady(old) && isPodReady(pod)) this.queue.addAfter(keyOf(now), minReady * 1000 + 1000);
        } else if (!getControllerOf(pod) && !isDeepStrictEqual(old.metadata.labels, pod.metadata.labels)) this.enqueueSelecting(pod);
      },
      onDelete: (pod) => this.podDeleted(pod),
    });
    this.nodes.addHandlers({
      onAdd: () => this.enqueueAll(),
      onUpdate: (old, node) => {
        if (!nodeChanged(old, node)) return;
        for (const ds of this.sets.list()) {
          if (!isDeepStrictEqual(nodeShouldRunDaemonPod(old, ds), nodeShouldRunDaemonPod(node, ds))) this.queue.add(keyOf(ds));
        }
      },
      onDelete: () => this.enqueueAll(),
    });
  }

  run(workers: number): void {
    void this.queue.run(workers, (k) => this.reconcile(k));
  }

  stop(): void {
    this.queue.shutdown();
  }

  private owner(pod: KubeObject): KubeObject | undefined {
    return resolveControllerRef(pod.metadata.namespace, getControllerOf(pod), 'DaemonSet', this.sets);
  }

  private podDeleted(pod: KubeObject): void {
    const ds = this.owner(pod);
    if (!ds) return;
    this.expectations.deletionObserved(keyOf(ds), keyOf(pod));
    this.queue.add(keyOf(ds));
  }

  private enqueueSelecting(pod: KubeObject): void {
    for (const ds of this.sets.list(pod.metadata.namespace)) {
      const sel = selectorOf(ds);
      if (sel && !sel.empty() && sel.matches(pod.metadata.labels ?? {})) this.queue.add(keyOf(ds));
    }
  }

  private enqueueAll(): void {
    for (const ds of this.sets.list()) this.queue.add(keyOf(ds));
  }

  async reconcile(key: string): Promise<void> {
    const cached = this.sets.get(key);
    if (!cached) {
      this.expectations.delete(key);
      return;
    }
    const ds = structuredClone(cached);
    const selector = selectorOf(ds);
    if (!selector) return;
    if (selector.empty()) {
      this.recorder.event(ds, 'Warning', 'SelectingAll', 'This daemon set is selecting all pods. A non-empty selector is required.');
      return;
    }
    const nodes = this.nodes.list();
    const pods = await claimObjects(this.pods.list(ds.metadata.namespace), {
      client: this.ctx.client,
      owner: ds,
      selector,
      canAdopt: recheckOwner(this.ctx.client, ds),
      fieldManager: NAME,
    });
    const revs = await syncRevisions(this.ctx.client, ds, ownedRevisions(this.revisions, ds), {
      hashLabel: CONTROLLER_REVISION_HASH_LABEL,
      collisionCount: Number(ds.status?.collisionCount ?? 0),
    });
    const hash = revs.update.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL] ?? '';

    if (!ds.metadata.deletionTimestamp && this.expectations.satisfied(key)) {
      const acted = await this.manage(ds, nodes, pods, hash);
      if (!acted && (ds.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate') {
        const plan = planRollingUpdate(ds, nodes, pods, hash, this.ctx.now());
        await this.syncNodes(ds, plan.delete, plan.create, hash);
      }
      const live = new Set(pods.map((p) => p.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL]).filter(Boolean));
      await truncateHistory(
        this.ctx.client,
        revs.all,
        (r) => r.metadata.uid === revs.update.metadata.uid || live.has(r.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL]),
        Number(ds.spec?.revisionHistoryLimit ?? 10),
      );
    }
    await this.writeStatus(ds, nodes, pods, hash, revs.collisionCount);
  }

  /** Create/delete what placement asks for. True when it wrote anything. */
  private async manage(ds: KubeObject, nodes: KubeObject[], pods: KubeObject[], hash: string): Promise<boolean> {
    const now = this.ctx.now();
    const plan = planManage(ds, nodes, pods, hash, now);
    const toDelete = [...plan.delete];
    for (const pod of plan.failed) {
      const node = pod.spec?.nodeName ?? '';
      const bk = `${keyOf(ds)}/${node}`;
      const b = this.failedBackoff.get(bk);
      if (b && b.until > now.getTime()) {
        this.queue.addAfter(keyOf(ds), b.until - now.getTime());
        continue;
      }
      const delay = b ? Math.min(b.delay * 2, FAILED_BACKOFF_MS.max) : FAILED_BACKOFF_MS.initial;
      this.failedBackoff.set(bk, { delay, until: now.getTime() + delay });
      this.recorder.event(ds, 'Warning', 'FailedDaemonPod', `Found failed daemon pod ${pod.metadata.namespace}/${pod.metadata.name} on node ${node}, will try to kill it`);
      toDelete.push(pod);
    }
    return this.syncNodes(ds, toDelete, plan.create, hash);
  }

  /**
   * syncNodes: deletions first; creations only when nothing was deleted (the next sync makes
   * them), so one expectation record covers each pass.
   */
  private async syncNodes(ds: KubeObject, toDelete: KubeObject[], createOn: string[], hash: string): Promise<boolean> {
    const key = keyOf(ds);
    if (toDelete.length) {
      const batch = toDelete.slice(0, BURST_REPLICAS);
      this.expectations.expectDeletions(key, batch.map(keyOf));
      const errors: unknown[] = [];
      await Promise.all(
        batch.map(async (pod) => {
          try {
            await this.podControl.deletePod(pod.metadata.namespace!, pod.metadata.name!, ds);
          } catch (e) {
            this.expectations.deletionObserved(key, keyOf(pod));
            if (!isApiError(e, 'NotFound')) errors.push(e);
          }
        }),
      );
      if (errors.length) throw errors[0];
      return true;
    }
    if (!createOn.length) return false;
    const nodes = createOn.slice(0, BURST_REPLICAS);
    const template = daemonPodTemplate(ds, hash);
    this.expectations.expectCreations(key, nodes.length);
    let next = 0;
    const { successes, error } = await slowStartBatch(nodes.length, 1, () => {
      const t = structuredClone(template);
      t.spec.affinity = withNodeNameAffinity(t.spec.affinity, nodes[next++]!);
      return this.podControl.createPod(t, ds);
    });
    for (let i = successes; i < nodes.length; i++) this.expectations.creationObserved(key);
    if (error) throw error;
    return true;
  }

  private async writeStatus(ds: KubeObject, nodes: KubeObject[], pods: KubeObject[], hash: string, collisionCount: number): Promise<void> {
    const minReady = Number(ds.spec?.minReadySeconds ?? 0);
    const counts = daemonSetCounts(ds, nodes, pods, hash, this.ctx.now());
    const status = { ...(ds.status ?? {}), observedGeneration: ds.metadata.generation, ...counts, collisionCount };
    if (!isDeepStrictEqual(status, ds.status ?? {})) {
      const next = structuredClone(ds);
      next.status = status;
      await this.ctx.client.updateStatus(next);
    }
    if (minReady > 0 && counts.numberReady !== counts.numberAvailable) this.queue.addAfter(keyOf(ds), minReady * 1000);
  }
}

function selectorOf(ds: KubeObject): Selector | undefined {
  try {
    return labelSelectorFromObject(ds.spec?.selector);
  } catch {
    return undefined;
  }
}

/** shouldIgnoreNodeUpdate's complement: labels, spec (taints, unschedulable) or condition states changed. */
function nodeChanged(old: KubeObject, node: KubeObject): boolean {
  const conds = (n: KubeObject) => ((n.status?.conditions ?? []) as any[]).map((c) => `${c.type}=${c.status}`).sort();
  return (
    !isDeepStrictEqual(old.metadata.labels ?? {}, node.metadata.labels ?? {}) ||
    !isDeepStrictEqual(old.spec ?? {}, node.spec ?? {}) ||
    !isDeepStrictEqual(conds(old), conds(node))
  );
}
