/**
 * Revision history as Kubernetes keeps it: the `deployment.kubernetes.io/revision` annotation on
 * each ReplicaSet (and the Deployment, mirroring its new ReplicaSet), `revision-history` listing
 * the earlier numbers of a ReplicaSet that came back, the Deployment's own annotations (such as
 * `kubernetes.io/change-cause`) copied onto the ReplicaSet, and the cleanup of old, scaled-down
 * ReplicaSets beyond `revisionHistoryLimit`.
 */
import { isApiError } from '../../api/errors.ts';
import { log } from '../../log.ts';
import {
  byRevision, COMPONENT, DEPLOYMENT, DESIRED_REPLICAS_ANNOTATION, LAST_APPLIED_ANNOTATION, LAST_AUTO_ROLLBACK_ANNOTATION, maxSurge,
  MAX_REPLICAS_ANNOTATION, REPLICASET, replicasOf, REVISION_ANNOTATION, REVISION_HISTORY_ANNOTATION, ROLLBACK_TO_ANNOTATION,
  ROLLOUT_COMPLETE_ANNOTATION, setReplicasAnnotations, type Deployment, type ReplicaSet, type SyncContext,
} from './util.ts';

/** Annotations that belong to the controller (or kubectl), never copied Deployment → ReplicaSet. */
const NOT_COPIED = new Set([
  LAST_APPLIED_ANNOTATION,
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  ROLLBACK_TO_ANNOTATION,
  LAST_AUTO_ROLLBACK_ANNOTATION,
  ROLLOUT_COMPLETE_ANNOTATION,
]);

export function skipCopyAnnotation(key: string): boolean {
  return NOT_COPIED.has(key);
}

/** copyDeploymentAnnotationsToReplicaSet: true when the ReplicaSet's annotations changed. */
export function copyDeploymentAnnotationsToReplicaSet(d: Deployment, rs: ReplicaSet): boolean {
  const a = (rs.metadata.annotations ??= {});
  let changed = false;
  for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) {
    if (skipCopyAnnotation(k) || a[k] === v) continue;
    a[k] = v;
    changed = true;
  }
  return changed;
}

/**
 * SetNewReplicaSetAnnotations: copy the Deployment's annotations, raise the revision to
 * `newRevision` (remembering the old number in revision-history when a ReplicaSet is reused, as
 * on a rollback), and for a ReplicaSet about to be created the desired/max replica annotations.
 */
export function setNewReplicaSetAnnotations(d: Deployment, rs: ReplicaSet, newRevision: string, exists: boolean, maxChars: number): boolean {
  let changed = copyDeploymentAnnotationsToReplicaSet(d, rs);
  const a = (rs.metadata.annotations ??= {});
  const oldRevision = a[REVISION_ANNOTATION];
  let oldInt = 0;
  if (oldRevision !== undefined && oldRevision !== '') {
    if (!/^\d+$/.test(oldRevision)) return false;
    oldInt = Number(oldRevision);
  }
  const newInt = Number(newRevision);
  if (oldInt < newInt) {
    a[REVISION_ANNOTATION] = newRevision;
    changed = true;
  }
  if (oldRevision !== undefined && oldInt < newInt) {
    const history = a[REVISION_HISTORY_ANNOTATION] ?? '';
    let old = history.split(',');
    if (!old[0]) {
      a[REVISION_HISTORY_ANNOTATION] = oldRevision;
    } else {
      let total = history.length + oldRevision.length + 1;
      let start = 0;
      while (total > maxChars && start < old.length) total -= old[start++]!.length + 1;
      if (total <= maxChars) {
        old = [...old.slice(start), oldRevision];
        a[REVISION_HISTORY_ANNOTATION] = old.join(',');
      } else {
        log.warn('not appending revision to revision-history: too long', { replicaSet: rs.metadata.name, revision: oldRevision });
      }
    }
  }
  if (!exists && setReplicasAnnotations(rs, replicasOf(d), replicasOf(d) + maxSurge(d))) changed = true;
  return changed;
}

/**
 * SetDeploymentRevision, written at once: the Deployment's revision annotation follows its new
 * ReplicaSet's. A merge patch of metadata only (generation does not move).
 */
export async function setDeploymentRevision(sc: SyncContext, d: Deployment, revision: string | undefined): Promise<void> {
  if (revision === undefined || d.metadata.annotations?.[REVISION_ANNOTATION] === revision) return;
  const res = await sc.client.patch(
    { ...DEPLOYMENT, namespace: d.metadata.namespace, name: d.metadata.name! },
    'merge',
    { metadata: { annotations: { [REVISION_ANNOTATION]: revision } } },
    { fieldManager: COMPONENT },
  );
  (d.metadata.annotations ??= {})[REVISION_ANNOTATION] = revision;
  d.metadata.resourceVersion = res.metadata.resourceVersion;
}

/**
 * cleanupDeployment: delete the oldest ReplicaSets beyond revisionHistoryLimit — only those
 * scaled to 0 with no pods left, fully observed and not already being deleted.
 */
export async function cleanupDeployment(sc: SyncContext, oldRSs: ReplicaSet[], d: Deployment): Promise<void> {
  const limit = d.spec?.revisionHistoryLimit;
  if (typeof limit !== 'number') return;
  const alive = oldRSs.filter((rs) => !rs.metadata.deletionTimestamp).sort(byRevision);
  const diff = alive.length - limit;
  for (let i = 0; i < diff; i++) {
    const rs = alive[i]!;
    const observed = (rs.metadata.generation ?? 0) <= (rs.status?.observedGeneration ?? 0);
    if ((rs.status?.replicas ?? 0) !== 0 || replicasOf(rs) !== 0 || !observed) continue;
    try {
      await sc.client.delete({ ...REPLICASET, namespace: rs.metadata.namespace, name: rs.metadata.name! }, { fieldManager: COMPONENT });
    } catch (e) {
      if (!isApiError(e, 'NotFound')) throw e;
    }
  }
}
