/**
 * The disruption controller, as kube-controller-manager's pkg/controller/disruption: for every
 * PodDisruptionBudget it counts the pods its selector picks (`{}` picks every pod of the
 * namespace, a missing selector none) and writes the status the eviction subresource checks:
 *
 *  - expectedPods and desiredHealthy: with an integer minAvailable, desiredHealthy = minAvailable
 *    and expectedPods = the number of matching pods; with a percentage minAvailable, or with
 *    maxUnavailable, expectedPods = the sum of the scales of the pods' controllers (a Deployment
 *    through its ReplicaSet, a ReplicaSet, a StatefulSet) and desiredHealthy = minAvailable of it
 *    (rounded up), or expectedPods − maxUnavailable (rounded up) — pods without a controller are
 *    reported in an UnmanagedPods event, a controller without a scale fails the sync;
 *  - currentHealthy: matching pods that are Ready, not being deleted and not recorded in
 *    disruptedPods by an eviction less than 2 minutes ago (entries older than that are dropped,
 *    with a NotDeleted event on the pod; the budget is re-checked when the next one expires);
 *  - disruptionsAllowed = currentHealthy − desiredHealthy (never below 0, and 0 while
 *    expectedPods is 0), the DisruptionAllowed condition (True/SufficientPods,
 *    False/InsufficientPods) and observedGeneration.
 *
 * A sync that fails for another reason than a write conflict sets disruptionsAllowed to 0 with
 * DisruptionAllowed False/SyncFailed (fail safe: no eviction is approved on a budget it cannot
 * compute). Besides pod and budget events, a change of a Deployment's, ReplicaSet's or
 * StatefulSet's replicas re-syncs the budgets of its namespace.
 */
import { isDeepStrictEqual } from 'node:util';
import {
  conditionsAreUpToDate, DISRUPTION_ALLOWED_CONDITION, isPodReady, PDB, pdbSelector, setStatusCondition,
  SYNC_FAILED_REASON, updateDisruptionAllowedCondition, type Condition,
} from '../api/disruption-budget.ts';
import { isApiError } from '../api/errors.ts';
import type { KubeObject, OwnerReference } from '../api/types.ts';
import type { EventRecorder } from '../client/event-recorder.ts';
import type { Controller, ControllerContext } from './controller.ts';
import { scaledValue, timeMs } from './controller-utils.ts';
import { keyOf, type Informer } from './informer.ts';
import { getControllerOf } from './pod-control.ts';
import { WorkQueue } from './workqueue.ts';

const NAME = 'disruption-controller';
const POD = { apiVersion: 'v1', kind: 'Pod' } as const;
const RS = { apiVersion: 'apps/v1', kind: 'ReplicaSet' } as const;
const DEPLOY = { apiVersion: 'apps/v1', kind: 'Deployment' } as const;
const STS = { apiVersion: 'apps/v1', kind: 'StatefulSet' } as const;

/** How long an eviction's disruptedPods entry keeps a pod out of currentHealthy (Kubernetes: 2 min). */
export const DELETION_TIMEOUT_MS = 2 * 60_000;

/** Kinds served here and whether they have a scale subresource, for the "does not implement" error. */
const RESOURCE_OF: Record<string, string> = {
  'apps/DaemonSet': 'daemonsets.apps',
  'batch/Job': 'jobs.batch',
  'batch/CronJob': 'cronjobs.batch',
  '/Pod': 'pods',
  '/Node': 'nodes',
};

interface Expected {
  expectedCount: number;
  desiredHealthy: number;
  unmanaged: string[];
}

export class DisruptionController implements Controller {
  readonly name = NAME;
  private readonly queue = new WorkQueue({ name: 'disruption' });
  private readonly budgets: Informer;
  private readonly pods: Informer;
  private readonly replicaSets: Informer;
  private readonly deployments: Informer;
  private readonly statefulSets: Informer;
  private readonly recorder: EventRecorder;

  constructor(private readonly ctx: ControllerContext) {
    this.budgets = ctx.informers.for(PDB);
    this.pods = ctx.informers.for(POD);
    this.replicaSets = ctx.informers.for(RS);
    this.deployments = ctx.informers.for(DEPLOY);
    this.statefulSets = ctx.informers.for(STS);
    this.recorder = ctx.recorder(NAME);

    this.budgets.addHandlers({
      onAdd: (b) => this.queue.add(keyOf(b)),
      onUpdate: (_o, b) => this.queue.add(keyOf(b)),
      onDelete: (b) => this.queue.add(keyOf(b)),
    });
    this.pods.addHandlers({
      onAdd: (p) => this.podChanged(p, true),
      onUpdate: (o, p) => {
        const relabeled = !isDeepStrictEqual(o.metadata.labels, p.metadata.labels);
        this.podChanged(p, relabeled);
        if (relabeled) this.podChanged(o, false);
      },
      onDelete: (p) => this.podChanged(p, false),
    });
    const scaleChanged = (o: KubeObject, n: KubeObject) => {
      if (o.spec?.replicas !== n.spec?.replicas) this.enqueueNamespace(n.metadata.namespace);
    };
    const scaleAddedOrGone = (w: KubeObject) => this.enqueueNamespace(w.metadata.namespace);
    for (const inf of [this.replicaSets, this.deployments, this.statefulSets]) {
      inf.addHandlers({ onAdd: scaleAddedOrGone, onUpdate: scaleChanged, onDelete: scaleAddedOrGone });
    }
  }

  run(workers: number): void {
    void this.queue.run(workers, (key) => this.reconcile(key));
  }

  stop(): void {
    this.queue.shutdown();
  }

  /** Resolves when nothing is queued or being synced (tests). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  private enqueueNamespace(namespace: string | undefined): void {
    for (const b of this.budgets.list(namespace)) this.queue.add(keyOf(b));
  }

  private podChanged(pod: KubeObject, warnMultiple: boolean): void {
    const matching = this.budgets.list(pod.metadata.namespace).filter((b) => selects(b, pod));
    for (const b of matching) this.queue.add(keyOf(b));
    if (warnMultiple && matching.length > 1) {
      const msg = `Pod "${pod.metadata.namespace}"/"${pod.metadata.name}" matches multiple PodDisruptionBudgets.  Chose "${matching[0]!.metadata.name}" arbitrarily.`;
      this.recorder.event(pod, 'Warning', 'MultiplePodDisruptionBudgets', msg);
    }
  }

  async reconcile(key: string): Promise<void> {
    const pdb = this.budgets.get(key);
    if (!pdb) return;
    try {
      await this.trySync(pdb);
    } catch (e) {
      // A conflict is retried with backoff; anything else leaves the budget closed (failSafe).
      if (isApiError(e, 'Conflict') || isApiError(e, 'NotFound')) throw e;
      await this.failSafe(pdb, e as Error);
    }
  }

  private async trySync(pdb: KubeObject): Promise<void> {
    let pods: KubeObject[];
    try {
      const selector = pdbSelector(pdb);
      pods = this.pods.list(pdb.metadata.namespace).filter((p) => selector.matches(p.metadata.labels ?? {}));
    } catch (e) {
      this.recorder.event(pdb, 'Warning', 'NoPods', `Failed to get pods: ${(e as Error).message}`);
      throw e;
    }
    if (!pods.length) this.recorder.event(pdb, 'Normal', 'NoPods', 'No matching pods found');

    let expected: Expected;
    try {
      expected = this.expectedPodCount(pdb, pods);
    } catch (e) {
      this.recorder.event(pdb, 'Warning', 'CalculateExpectedPodCountFailed', `Failed to calculate the number of expected pods: ${(e as Error).message}`);
      throw e;
    }
    if (expected.unmanaged.length) {
      this.recorder.event(
        pdb,
        'Warning',
        'UnmanagedPods',
        `Pods selected by this PodDisruptionBudget (selector: ${JSON.stringify(pdb.spec?.selector ?? null)}) were found to be unmanaged. ` +
          'As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. ' +
          'To account for these pods please set ".spec.minAvailable" field of the PDB to an integer value.',
      );
    }

    const now = this.ctx.now();
    const { disrupted, recheckAt } = this.buildDisruptedPodMap(pods, pdb, now);
    const currentHealthy = countHealthyPods(pods, disrupted, now);
    await this.updateStatus(pdb, currentHealthy, expected.desiredHealthy, expected.expectedCount, disrupted, now);
    if (recheckAt !== undefined) this.queue.addAfter(keyOf(pdb), Math.max(1, recheckAt - now.getTime()));
  }

  /** getExpectedPodCount: expectedCount and desiredHealthy from minAvailable / maxUnavailable. */
  private expectedPodCount(pdb: KubeObject, pods: KubeObject[]): Expected {
    const { minAvailable, maxUnavailable } = pdb.spec ?? {};
    if (maxUnavailable !== undefined && maxUnavailable !== null) {
      const { expectedCount, unmanaged } = this.expectedScale(pods);
      const max = scaledValue(maxUnavailable, expectedCount, true);
      return { expectedCount, desiredHealthy: Math.max(0, expectedCount - max), unmanaged };
    }
    if (typeof minAvailable === 'number') return { expectedCount: pods.length, desiredHealthy: minAvailable, unmanaged: [] };
    if (typeof minAvailable === 'string') {
      const { expectedCount, unmanaged } = this.expectedScale(pods);
      return { expectedCount, desiredHealthy: scaledValue(minAvailable, expectedCount, true), unmanaged };
    }
    return { expectedCount: 0, desiredHealthy: 0, unmanaged: [] };
  }

  /** getExpectedScale: the sum of the scales of the pods' controllers, each counted once. */
  private expectedScale(pods: KubeObject[]): { expectedCount: number; unmanaged: string[] } {
    const scales = new Map<string, number>();
    const unmanaged: string[] = [];
    for (const pod of pods) {
      const ref = getControllerOf(pod);
      if (!ref) {
        unmanaged.push(pod.metadata.name!);
        continue;
      }
      if (scales.has(ref.uid)) continue;
      const found = this.controllerScale(ref, pod.metadata.namespace!);
      if (!found) throw new Error(`found no controllers for pod "${pod.metadata.name}"`);
      scales.set(found.uid, found.scale);
    }
    let expectedCount = 0;
    for (const n of scales.values()) expectedCount += n;
    return { expectedCount, unmanaged };
  }

  /** The finders, in Kubernetes' order: Deployment (via its ReplicaSet), ReplicaSet, StatefulSet, then any scale. */
  private controllerScale(ref: OwnerReference, namespace: string): { uid: string; scale: number } | undefined {
    const group = groupOf(ref.apiVersion);
    const ownedBy = (inf: Informer, r: OwnerReference) => {
      const o = inf.get(`${namespace}/${r.name}`);
      return o && o.metadata.uid === r.uid ? o : undefined;
    };
    const isRS = ref.kind === 'ReplicaSet' && (group === 'apps' || group === 'extensions');
    if (isRS) {
      const rs = ownedBy(this.replicaSets, ref);
      const rsOwner = rs && getControllerOf(rs);
      if (rsOwner && rsOwner.kind === 'Deployment' && ['apps', 'extensions'].includes(groupOf(rsOwner.apiVersion))) {
        const d = ownedBy(this.deployments, rsOwner);
        if (d) return { uid: d.metadata.uid!, scale: replicas(d) };
      } else if (rs) {
        return { uid: rs.metadata.uid!, scale: replicas(rs) };
      }
    }
    if (ref.kind === 'StatefulSet' && group === 'apps') {
      const s = ownedBy(this.statefulSets, ref);
      if (s) return { uid: s.metadata.uid!, scale: replicas(s) };
    }
    // getScaleController: the kind's scale subresource.
    const scalable: Record<string, Informer> = { 'apps/ReplicaSet': this.replicaSets, 'apps/Deployment': this.deployments, 'apps/StatefulSet': this.statefulSets };
    const inf = scalable[`${group === 'extensions' ? 'apps' : group}/${ref.kind}`];
    if (!inf) {
      const resource = RESOURCE_OF[`${group}/${ref.kind}`];
      if (resource) throw new Error(`${resource} does not implement the scale subresource`);
      throw new Error(`no matches for kind "${ref.kind}" in version "${ref.apiVersion}"`);
    }
    const o = ownedBy(inf, ref);
    return o ? { uid: o.metadata.uid!, scale: replicas(o) } : undefined;
  }

  /** buildDisruptedPodMap: the entries still pending (pod present, not yet deleted, under 2 min). */
  private buildDisruptedPodMap(pods: KubeObject[], pdb: KubeObject, now: Date): { disrupted: Record<string, string>; recheckAt?: number } {
    const recorded: Record<string, string> = pdb.status?.disruptedPods ?? {};
    const disrupted: Record<string, string> = {};
    let recheckAt: number | undefined;
    for (const pod of pods) {
      if (pod.metadata.deletionTimestamp) continue;
      const at = recorded[pod.metadata.name!];
      if (at === undefined) continue;
      const expectedDeletion = (timeMs(at) ?? 0) + DELETION_TIMEOUT_MS;
      if (expectedDeletion < now.getTime()) {
        this.recorder.event(pod, 'Warning', 'NotDeleted', `Pod was expected by PDB ${pdb.metadata.namespace}/${pdb.metadata.name} to be deleted but it wasn't`);
      } else {
        if (recheckAt === undefined || expectedDeletion < recheckAt) recheckAt = expectedDeletion;
        disrupted[pod.metadata.name!] = at;
      }
    }
    return { disrupted, recheckAt };
  }

  private async updateStatus(pdb: KubeObject, currentHealthy: number, desiredHealthy: number, expectedPods: number, disrupted: Record<string, string>, now: Date): Promise<void> {
    let disruptionsAllowed = currentHealthy - desiredHealthy;
    // expectedPods > 0: a budget matching no pod yet stays closed until a sync has seen its pods.
    if (expectedPods <= 0 || disruptionsAllowed <= 0) disruptionsAllowed = 0;
    const s = pdb.status ?? {};
    const generation = pdb.metadata.generation ?? 0;
    if (
      s.currentHealthy === currentHealthy &&
      s.desiredHealthy === desiredHealthy &&
      s.expectedPods === expectedPods &&
      s.disruptionsAllowed === disruptionsAllowed &&
      isDeepStrictEqual(s.disruptedPods ?? {}, disrupted) &&
      (s.observedGeneration ?? 0) === generation &&
      conditionsAreUpToDate(pdb)
    ) {
      return;
    }
    const status: Record<string, any> = {
      ...(generation ? { observedGeneration: generation } : {}),
      ...(Object.keys(disrupted).length ? { disruptedPods: disrupted } : {}),
      disruptionsAllowed,
      currentHealthy,
      desiredHealthy,
      expectedPods,
      conditions: s.conditions ?? [],
    };
    updateDisruptionAllowedCondition(status, now);
    await this.ctx.client.updateStatus({ ...structuredClone(pdb), status });
  }

  /** Closes the budget (disruptionsAllowed 0, DisruptionAllowed False/SyncFailed) when it cannot be computed. */
  private async failSafe(pdb: KubeObject, err: Error): Promise<void> {
    const s = structuredClone(pdb.status ?? {});
    s.disruptionsAllowed = 0;
    s.conditions = setStatusCondition(
      (s.conditions as Condition[]) ?? [],
      { type: DISRUPTION_ALLOWED_CONDITION, status: 'False', reason: SYNC_FAILED_REASON, message: err.message, observedGeneration: s.observedGeneration ?? 0 },
      this.ctx.now(),
    );
    if (isDeepStrictEqual(s, pdb.status ?? {})) return;
    await this.ctx.client.updateStatus({ ...structuredClone(pdb), status: s });
  }
}

/** The controller's match: `{}` selects every pod of the namespace, null none, a malformed selector none. */
function selects(pdb: KubeObject, pod: KubeObject): boolean {
  if (pdb.metadata.namespace !== pod.metadata.namespace) return false;
  try {
    return pdbSelector(pdb).matches(pod.metadata.labels ?? {});
  } catch {
    return false;
  }
}

/** countHealthyPods: Ready, not being deleted, not about to be (a recent eviction). */
function countHealthyPods(pods: KubeObject[], disrupted: Record<string, string>, now: Date): number {
  let n = 0;
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) continue;
    const at = disrupted[pod.metadata.name!];
    if (at !== undefined && (timeMs(at) ?? 0) + DELETION_TIMEOUT_MS > now.getTime()) continue;
    if (isPodReady(pod)) n++;
  }
  return n;
}

function groupOf(apiVersion: string): string {
  return apiVersion.includes('/') ? apiVersion.split('/')[0]! : '';
}

function replicas(o: KubeObject): number {
  return typeof o.spec?.replicas === 'number' ? o.spec.replicas : 1;
}
