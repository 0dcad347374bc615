/**
 * The Deployment sync steps shared by both strategies (deployment/sync.go): find or create the
 * new ReplicaSet (`<deployment>-<pod-template-hash>`, revision = max old + 1, hash label added to
 * its selector and template), scale ReplicaSets with the ScalingReplicaSet event, proportional
 * scaling of every active ReplicaSet when the Deployment is resized mid-rollout, and the
 * scaling-only sync used while paused.
 */
import { isApiError } from '../../api/errors.ts';
import { computeHash, equalIgnoreHash, POD_TEMPLATE_HASH_LABEL, scaledValue } from '../controller-utils.ts';
import { getControllerOf, isNamespaceTerminating, newControllerRef } from '../pod-control.ts';
import { cleanupDeployment, setDeploymentRevision, setNewReplicaSetAnnotations } from './history.ts';
import { syncDeploymentStatus, writeStatus } from './progress.ts';
import {
  bySize, COMPONENT, desiredReplicasAnnotation, filterActiveReplicaSets, findActiveOrLatest, findNewReplicaSet, getCondition,
  hasProgressDeadline, isRollingUpdate, isSaturated, MAX_REV_HISTORY_LENGTH_IN_CHARS, maxReplicasAnnotation, maxRevision, maxSurge,
  newCondition, REASON, REPLICASET, replicaCount, replicasOf, replicasAnnotationsNeedUpdate, REVISION_ANNOTATION, setCondition,
  setReplicasAnnotations, type Deployment, type ReplicaSet, type SyncContext,
} from './util.ts';

export interface Split {
  newRS: ReplicaSet | undefined;
  oldRSs: ReplicaSet[];
}

/** getAllReplicaSetsAndSyncRevision: the new ReplicaSet (created when asked) and all the others. */
export async function getAllReplicaSetsAndSyncRevision(sc: SyncContext, d: Deployment, rsList: ReplicaSet[], create: boolean): Promise<Split> {
  const existing = findNewReplicaSet(d, rsList);
  const oldRSs = rsList.filter((rs) => rs !== existing);
  const newRS = await getNewReplicaSet(sc, d, rsList, oldRSs, create);
  return { newRS, oldRSs };
}

/** NewRSNewReplicas: how far the new ReplicaSet may scale up now. */
export function newRSNewReplicas(d: Deployment, allRSs: (ReplicaSet | undefined)[], newRS: ReplicaSet): number {
  if (!isRollingUpdate(d)) return replicasOf(d);
  const surge = scaledValue(d.spec?.strategy?.rollingUpdate?.maxSurge ?? '25%', replicasOf(d), true);
  const current = replicaCount(allRSs);
  const maxTotal = replicasOf(d) + surge;
  if (current >= maxTotal) return replicasOf(newRS);
  return replicasOf(newRS) + Math.min(maxTotal - current, replicasOf(d) - replicasOf(newRS));
}

async function getNewReplicaSet(sc: SyncContext, d: Deployment, rsList: ReplicaSet[], oldRSs: ReplicaSet[], create: boolean): Promise<ReplicaSet | undefined> {
  const existing = findNewReplicaSet(d, rsList);
  const newRevision = String(maxRevision(oldRSs) + 1);
  if (existing) {
    const copy = structuredClone(existing);
    const annotationsUpdated = setNewReplicaSetAnnotations(d, copy, newRevision, true, MAX_REV_HISTORY_LENGTH_IN_CHARS);
    const minReady = d.spec?.minReadySeconds ?? 0;
    if (annotationsUpdated || (copy.spec?.minReadySeconds ?? 0) !== minReady) {
      copy.spec.minReadySeconds = minReady;
      return await sc.client.update(copy, { fieldManager: COMPONENT });
    }
    await setDeploymentRevision(sc, d, copy.metadata.annotations?.[REVISION_ANNOTATION]);
    if (hasProgressDeadline(d) && !getCondition(d.status, 'Progressing')) {
      d.status ??= {};
      setCondition(d.status, newCondition('Progressing', 'True', REASON.foundNewRS, `Found new replica set "${copy.metadata.name}"`, sc.now()));
      await writeStatus(sc, d);
    }
    return copy;
  }
  if (!create) return undefined;

  const template = structuredClone(d.spec.template ?? {});
  const hash = computeHash(d.spec.template, d.status?.collisionCount);
  template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash } };
  const selector = structuredClone(d.spec.selector ?? {});
  selector.matchLabels = { ...(selector.matchLabels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash };
  const name = `${d.metadata.name}-${hash}`;
  const rs: ReplicaSet = {
    ...REPLICASET,
    metadata: { name, namespace: d.metadata.namespace, ownerReferences: [newControllerRef(d)], labels: { ...template.metadata.labels } },
    spec: { replicas: 0, minReadySeconds: d.spec?.minReadySeconds ?? 0, selector, template },
  };
  const count = newRSNewReplicas(d, [...oldRSs, rs], rs);
  rs.spec.replicas = count;
  setNewReplicaSetAnnotations(d, rs, newRevision, false, MAX_REV_HISTORY_LENGTH_IN_CHARS);

  let created: ReplicaSet;
  let alreadyExists = false;
  try {
    created = await sc.client.create(rs, { fieldManager: COMPONENT });
  } catch (e) {
    if (isApiError(e, 'AlreadyExists')) {
      alreadyExists = true;
      const ns = d.metadata.namespace;
      const found = sc.cachedReplicaSet(`${ns}/${name}`) ?? (await sc.client.get<ReplicaSet>({ ...REPLICASET, namespace: ns, name }));
      if (getControllerOf(found)?.uid === d.metadata.uid && equalIgnoreHash(d.spec.template, found.spec?.template)) {
        created = found;
      } else {
        // A hash collision: another template already has this name. Bump collisionCount and retry.
        d.status ??= {};
        d.status.collisionCount = (d.status.collisionCount ?? 0) + 1;
        await writeStatus(sc, d).catch(() => undefined);
        throw e;
      }
    } else if (isNamespaceTerminating(e)) {
      throw e;
    } else {
      const msg = `Failed to create new replica set "${name}": ${(e as Error).message}`;
      if (hasProgressDeadline(d)) {
        d.status ??= {};
        setCondition(d.status, newCondition('Progressing', 'False', REASON.failedRSCreate, msg, sc.now()));
        await writeStatus(sc, d).catch(() => undefined);
      }
      sc.recorder.event(d, 'Warning', REASON.failedRSCreate, msg);
      throw e;
    }
  }
  if (!alreadyExists && count > 0) {
    sc.recorder.event(d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${created.metadata.name} to ${count} from 0`);
  }
  await setDeploymentRevision(sc, d, newRevision);
  if (!alreadyExists && hasProgressDeadline(d)) {
    d.status ??= {};
    setCondition(d.status, newCondition('Progressing', 'True', REASON.newRS, `Created new replica set "${created.metadata.name}"`, sc.now()));
    await writeStatus(sc, d);
  }
  return created;
}

/** scaleReplicaSetAndRecordEvent; returns the ReplicaSet as written (or as it was). */
export async function scaleReplicaSetAndRecordEvent(sc: SyncContext, rs: ReplicaSet, newScale: number, d: Deployment): Promise<{ scaled: boolean; rs: ReplicaSet }> {
  if (replicasOf(rs) === newScale) return { scaled: false, rs };
  return scaleReplicaSet(sc, rs, newScale, d, replicasOf(rs) < newScale ? 'up' : 'down');
}

/** scaleReplicaSet: set replicas (and the desired/max annotations); ScalingReplicaSet when the size moved. */
export async function scaleReplicaSet(sc: SyncContext, rs: ReplicaSet, newScale: number, d: Deployment, op: string): Promise<{ scaled: boolean; rs: ReplicaSet }> {
  const sizeChanged = replicasOf(rs) !== newScale;
  const max = replicasOf(d) + maxSurge(d);
  if (!sizeChanged && !replicasAnnotationsNeedUpdate(rs, replicasOf(d), max)) return { scaled: false, rs };
  const oldScale = replicasOf(rs);
  const copy = structuredClone(rs);
  copy.spec.replicas = newScale;
  setReplicasAnnotations(copy, replicasOf(d), max);
  const written = await sc.client.update(copy, { fieldManager: COMPONENT });
  if (sizeChanged) {
    sc.recorder.event(d, 'Normal', 'ScalingReplicaSet', `Scaled ${op} replica set ${rs.metadata.name} to ${newScale} from ${oldScale}`);
  }
  return { scaled: sizeChanged, rs: written };
}

/** isScalingEvent: an active ReplicaSet's desired-replicas annotation differs from spec.replicas. */
export async function isScalingEvent(sc: SyncContext, d: Deployment, rsList: ReplicaSet[]): Promise<boolean> {
  const { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(sc, d, rsList, false);
  for (const rs of filterActiveReplicaSets([...oldRSs, newRS])) {
    const desired = desiredReplicasAnnotation(rs);
    if (desired !== undefined && desired !== replicasOf(d)) return true;
  }
  return false;
}

/** getReplicaSetFraction / GetProportion: this ReplicaSet's share of a resize. */
function proportion(rs: ReplicaSet, d: Deployment, toAdd: number, added: number): number {
  if (replicasOf(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
  let fraction: number;
  if (replicasOf(d) === 0) fraction = -replicasOf(rs);
  else {
    const deploymentReplicas = replicasOf(d) + maxSurge(d);
    const annotated = maxReplicasAnnotation(rs) ?? d.status?.replicas ?? 0;
    fraction = annotated > 0 ? Math.round((replicasOf(rs) * deploymentReplicas) / annotated) - replicasOf(rs) : 0;
  }
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}

/**
 * scale: a resized Deployment. One active ReplicaSet takes the whole size; a saturated new one
 * retires the old ones; mid-rollout every active ReplicaSet grows or shrinks in proportion
 * (leftovers to the largest), keeping the total within replicas + maxSurge.
 */
export async function scale(sc: SyncContext, d: Deployment, newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): Promise<void> {
  const only = findActiveOrLatest(newRS, oldRSs);
  if (only) {
    if (replicasOf(only) !== replicasOf(d)) await scaleReplicaSetAndRecordEvent(sc, only, replicasOf(d), d);
    return;
  }
  if (isSaturated(d, newRS)) {
    for (const old of filterActiveReplicaSets(oldRSs)) await scaleReplicaSetAndRecordEvent(sc, old, 0, d);
    return;
  }
  if (!isRollingUpdate(d)) return;
  const all = filterActiveReplicaSets([...oldRSs, newRS]);
  const allowed = replicasOf(d) > 0 ? replicasOf(d) + maxSurge(d) : 0;
  const toAdd = allowed - replicaCount(all);
  let op = '';
  if (toAdd > 0) {
    all.sort(bySize(true));
    op = 'up';
  } else if (toAdd < 0) {
    all.sort(bySize(false));
    op = 'down';
  }
  let added = 0;
  const size = new Map<string, number>();
  for (const rs of all) {
    if (toAdd !== 0) {
      const p = proportion(rs, d, toAdd, added);
      size.set(rs.metadata.name!, replicasOf(rs) + p);
      added += p;
    } else {
      size.set(rs.metadata.name!, replicasOf(rs));
    }
  }
  for (let i = 0; i < all.length; i++) {
    const rs = all[i]!;
    if (i === 0 && toAdd !== 0) size.set(rs.metadata.name!, Math.max(0, size.get(rs.metadata.name!)! + toAdd - added));
    await scaleReplicaSet(sc, rs, size.get(rs.metadata.name!)!, d, op);
  }
}

/** sync: scaling (and, when paused, history cleanup) without moving the rollout. */
export async function syncScaling(sc: SyncContext, d: Deployment, rsList: ReplicaSet[]): Promise<Split> {
  const { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(sc, d, rsList, false);
  await scale(sc, d, newRS, oldRSs);
  if (d.spec?.paused) await cleanupDeployment(sc, oldRSs, d);
  await syncDeploymentStatus(sc, [...oldRSs, newRS], newRS, d);
  return { newRS, oldRSs };
}

/** syncStatusOnly: a Deployment being deleted only gets its status updated. */
export async function syncStatusOnly(sc: SyncContext, d: Deployment, rsList: ReplicaSet[]): Promise<void> {
  const { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(sc, d, rsList, false);
  await syncDeploymentStatus(sc, [...oldRSs, newRS], newRS, d);
}
