/**
 * The Deployment controller, as Kubernetes' pkg/controller/deployment: owns ReplicaSets named
 * `<deployment>-<pod-template-hash>` (adopting matching orphans, releasing ones that stop
 * matching), rolls out template changes with RollingUpdate (maxSurge / maxUnavailable, gated by
 * readiness and minReadySeconds) or Recreate, scales proportionally mid-rollout, honours
 * `spec.paused` (scaling still applies), keeps revision history and cleans it up beyond
 * `revisionHistoryLimit`, and reports progress (Progressing / Available / ReplicaFailure
 * conditions, ProgressDeadlineExceeded). Rollback is `rollbackTo` (kubectl's way).
 *
 * Beyond Kubernetes, a failed rollout rolls itself back (see deployment/auto-rollback.ts).
 * Pod changes of a Deployment's ReplicaSets are routed to the Deployment (ReplicaSet →
 * Deployment through controller references) so crash-looping new pods are noticed at once.
 */
import { labelSelectorFromObject, type Selector } from '../api/selectors.ts';
import type { KubeObject } from '../api/types.ts';
import type { EventRecorder } from '../client/event-recorder.ts';
import { log } from '../log.ts';
import type { Controller, ControllerContext } from './controller.ts';
import { checkRollout } from './deployment/auto-rollback.ts';
import { checkPausedConditions, writeStatus } from './deployment/progress.ts';
import { rolloutRecreate, type PodMap } from './deployment/recreate.ts';
import { rolloutRolling } from './deployment/rolling.ts';
import { getAllReplicaSetsAndSyncRevision, isScalingEvent, syncScaling, syncStatusOnly } from './deployment/sync.ts';
import { COMPONENT, DEPLOYMENT, REPLICASET, type Deployment, type ReplicaSet, type SyncContext } from './deployment/util.ts';
import { keyOf, type Informer } from './informer.ts';
import { claimObjects, getControllerOf, recheckOwner } from './pod-control.ts';
import { WorkQueue } from './workqueue.ts';

export { rollbackTo, type RollbackResult, type RollbackOptions } from './deployment/rollback.ts';
export { FAILING_THRESHOLDS, type AutoRollbackRecord } from './deployment/auto-rollback.ts';
export {
  AUTO_ROLLBACK_ANNOTATION, CHANGE_CAUSE_ANNOTATION, LAST_AUTO_ROLLBACK_ANNOTATION, REVISION_ANNOTATION, ROLLOUT_COMPLETE_ANNOTATION,
} from './deployment/util.ts';

const POD = { apiVersion: 'v1', kind: 'Pod' } as const;

export class DeploymentController implements Controller {
  readonly name = COMPONENT;
  private readonly queue = new WorkQueue({ name: COMPONENT });
  private readonly deployments: Informer;
  private readonly replicaSets: Informer;
  private readonly pods: Informer;
  private readonly recorder: EventRecorder;
  /** Failed rollouts already reported (deployment uid / hash / revision). */
  private readonly reported = new Set<string>();

  constructor(private readonly ctx: ControllerContext) {
    this.deployments = ctx.informers.for(DEPLOYMENT);
    this.replicaSets = ctx.informers.for(REPLICASET);
    this.pods = ctx.informers.for(POD);
    this.recorder = ctx.recorder(COMPONENT);

    this.deployments.addHandlers({
      onAdd: (d) => this.enqueue(keyOf(d)),
      onUpdate: (_old, d) => this.enqueue(keyOf(d)),
      onDelete: (d) => this.enqueue(keyOf(d)),
    });
    this.replicaSets.addHandlers({
      onAdd: (rs) => this.replicaSetChanged(undefined, rs),
      onUpdate: (old, rs) => this.replicaSetChanged(old, rs),
      onDelete: (rs) => this.enqueueOwner(rs),
    });
    const podChanged = (pod: KubeObject) => {
      const ref = getControllerOf(pod);
      if (ref?.kind !== 'ReplicaSet') return;
      const rs = this.replicaSets.get(`${pod.metadata.namespace}/${ref.name}`);
      if (rs && rs.metadata.uid === ref.uid) this.enqueueOwner(rs);
    };
    this.pods.addHandlers({ onAdd: podChanged, onUpdate: (_o, p) => podChanged(p), onDelete: podChanged });
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

  /** Enqueue the Deployment controlling `rs` (if it is still that Deployment). */
  private enqueueOwner(rs: KubeObject, ref = getControllerOf(rs)): boolean {
    if (ref?.kind !== 'Deployment') return false;
    const d = this.deployments.get(`${rs.metadata.namespace}/${ref.name}`);
    if (!d || d.metadata.uid !== ref.uid) return false;
    this.enqueue(keyOf(d));
    return true;
  }

  private replicaSetChanged(old: KubeObject | undefined, rs: KubeObject): void {
    if (old && old.metadata.resourceVersion === rs.metadata.resourceVersion) return;
    const cur = getControllerOf(rs);
    const prev = old && getControllerOf(old);
    const refChanged = JSON.stringify(cur) !== JSON.stringify(prev);
    if (old && refChanged && prev) this.enqueueOwner(old, prev);
    if (cur) {
      this.enqueueOwner(rs, cur);
      return;
    }
    // An orphan: Deployments selecting it may adopt it.
    const labelsChanged = !old || JSON.stringify(old.metadata.labels ?? {}) !== JSON.stringify(rs.metadata.labels ?? {});
    if (!labelsChanged && !refChanged) return;
    for (const d of this.deployments.list(rs.metadata.namespace)) {
      const sel = selectorOf(d);
      if (sel && !sel.empty() && sel.matches(rs.metadata.labels ?? {})) this.enqueue(keyOf(d));
    }
  }

  // ---- reconcile ---------------------------------------------------------------------------

  async reconcile(key: string): Promise<void> {
    const cached = this.deployments.get(key);
    if (!cached) return;
    const d: Deployment = structuredClone(cached);
    d.status ??= {};
    const sc = this.syncContext(key);
    const selector = selectorOf(d);
    if (!selector) return; // invalid: validation keeps these out; nothing sensible to do
    if (selector.empty()) {
      this.recorder.event(d, 'Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
      if ((d.status.observedGeneration ?? 0) < (d.metadata.generation ?? 0)) {
        d.status.observedGeneration = d.metadata.generation;
        await writeStatus(sc, d);
      }
      return;
    }
    const rsList = await claimObjects(this.replicaSets.list(d.metadata.namespace), {
      client: this.ctx.client,
      owner: d,
      selector,
      canAdopt: recheckOwner(this.ctx.client, d),
      fieldManager: COMPONENT,
    });
    const podMap = this.podMap(d, selector, rsList);
    if (d.metadata.deletionTimestamp) return syncStatusOnly(sc, d, rsList);

    await checkPausedConditions(sc, d);
    if (d.spec?.paused) {
      await syncScaling(sc, d, rsList);
      return;
    }
    let result: { newRS?: ReplicaSet; oldRSs: ReplicaSet[] };
    if (await isScalingEvent(sc, d, rsList)) result = await syncScaling(sc, d, rsList);
    else if (d.spec?.strategy?.type === 'Recreate') result = await rolloutRecreate(sc, d, rsList, podMap);
    else result = await rolloutRolling(sc, d, rsList);

    const newRS = result.newRS ?? (await getAllReplicaSetsAndSyncRevision(sc, d, rsList, false)).newRS;
    await checkRollout(sc, d, newRS, result.oldRSs, newRS ? (podMap.get(newRS.metadata.uid!) ?? []) : [], this.reported);
  }

  /** getPodMapForDeployment: pods selected by the Deployment, by the uid of their ReplicaSet. */
  private podMap(d: Deployment, selector: Selector, rsList: ReplicaSet[]): PodMap {
    const map: PodMap = new Map(rsList.map((rs) => [rs.metadata.uid!, []]));
    for (const pod of this.pods.list(d.metadata.namespace)) {
      if (!selector.matches(pod.metadata.labels ?? {})) continue;
      const ref = getControllerOf(pod);
      if (ref) map.get(ref.uid)?.push(pod);
    }
    return map;
  }

  private syncContext(key: string): SyncContext {
    return {
      client: this.ctx.client,
      recorder: this.recorder,
      now: () => this.ctx.now(),
      options: this.ctx.options,
      cachedReplicaSet: (k) => this.replicaSets.get(k),
      enqueueAfter: (ms) => this.queue.addAfter(key, ms),
      enqueueRateLimited: () => this.queue.addRateLimited(key),
    };
  }
}

/** The factory for `manager.add(deploymentController)`. */
export const deploymentController = (ctx: ControllerContext): DeploymentController => new DeploymentController(ctx);

function selectorOf(d: Deployment): Selector | undefined {
  try {
    return labelSelectorFromObject(d.spec?.selector);
  } catch (e) {
    log.warn('deployment has an invalid selector', { deployment: keyOf(d), error: (e as Error).message });
    return undefined;
  }
}
