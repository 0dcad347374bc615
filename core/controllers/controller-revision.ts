/**
 * ControllerRevision history as Kubernetes keeps it for StatefulSets and DaemonSets
 * (pkg/controller/history): each distinct pod template is stored once as a revision whose `data`
 * is the patch `{"spec":{"template":{…,"$patch":"replace"}}}` that re-applies it, named
 * `<owner>-<hash>`, numbered by `revision`. Going back to an earlier template re-numbers the
 * equal revision instead of creating another; a hash collision bumps the owner's
 * `status.collisionCount`. Old revisions no pod uses are pruned down to `revisionHistoryLimit`.
 *
 * The hash is controller-utils' computeHash of the revision data (Kubernetes' shape, not its
 * exact bytes).
 */
import { isDeepStrictEqual } from 'node:util';
import { isApiError } from '../api/errors.ts';
import type { KubeObject } from '../api/types.ts';
import type { Client } from '../client/client.ts';
import { computeHash } from './controller-utils.ts';
import type { Informer } from './informer.ts';
import { BY_CONTROLLER_UID, newControllerRef } from './pod-control.ts';

export const CONTROLLER_REVISION = { apiVersion: 'apps/v1', kind: 'ControllerRevision' } as const;
/** The pod label naming its revision (StatefulSet: the revision's name; DaemonSet: its hash). */
export const CONTROLLER_REVISION_HASH_LABEL = 'controller-revision-hash';
/** The label history.NewControllerRevision puts on StatefulSet revisions. */
export const HISTORY_HASH_LABEL = 'controller.kubernetes.io/hash';

// ---- revisions -------------------------------------------------------------------------------

/** The patch a revision stores: the whole pod template, replacing whatever is there. */
export function revisionData(template: unknown): { spec: { template: Record<string, unknown> } } {
  return { spec: { template: { ...(structuredClone(template ?? {}) as Record<string, unknown>), $patch: 'replace' } } };
}

/** The pod template a revision re-applies (applyRevision). */
export function templateOf(revision: KubeObject): any {
  const t = structuredClone((revision.data as any)?.spec?.template ?? {});
  delete t.$patch;
  return t;
}

/** Revisions in history order: by revision number, then creation time, then name. */
export function sortRevisions(revs: KubeObject[]): KubeObject[] {
  return [...revs].sort(
    (a, b) =>
      Number(a.revision ?? 0) - Number(b.revision ?? 0) ||
      String(a.metadata.creationTimestamp ?? '').localeCompare(String(b.metadata.creationTimestamp ?? '')) ||
      a.metadata.name!.localeCompare(b.metadata.name!),
  );
}

/** The owner's revisions (controller ownerReference by uid), in history order. */
export function ownedRevisions(inf: Informer, owner: KubeObject): KubeObject[] {
  return sortRevisions(inf.byIndex(BY_CONTROLLER_UID, owner.metadata.uid!).filter((r) => r.metadata.namespace === owner.metadata.namespace));
}

export function equalRevision(a: KubeObject, b: KubeObject): boolean {
  return isDeepStrictEqual(a.data, b.data);
}

export interface RevisionOptions {
  /** The label carrying the hash on the revision (DaemonSet: controller-revision-hash). */
  hashLabel: string;
  /** The owner's status.collisionCount. */
  collisionCount: number;
}

export interface Revisions {
  /** The revision the owner's current template is at (created or renumbered if needed). */
  update: KubeObject;
  /** status.currentRevision's revision, else `update`. */
  current: KubeObject;
  /** The collision count to write back to status (bumped on a hash collision). */
  collisionCount: number;
  /** Every revision (after any creation/renumbering), in history order. */
  all: KubeObject[];
}

/**
 * StatefulSet's getStatefulSetRevisions (the DaemonSet's constructHistory amounts to the same):
 * find or make the revision of the owner's template and the one `status.currentRevision` names.
 */
export async function syncRevisions(client: Client, owner: KubeObject, history: KubeObject[], opts: RevisionOptions): Promise<Revisions> {
  let collisionCount = opts.collisionCount;
  const revisions = sortRevisions(history);
  const data = revisionData(owner.spec?.template);
  const next = revisions.length ? Number(revisions[revisions.length - 1]!.revision ?? 0) + 1 : 1;
  const equal = revisions.filter((r) => isDeepStrictEqual(r.data, data));
  let update: KubeObject;
  const last = revisions[revisions.length - 1];
  if (equal.length && last && equal[equal.length - 1]!.metadata.uid === last.metadata.uid) {
    update = last; // unchanged template
  } else if (equal.length) {
    // Back to an earlier template (a rollback): that revision becomes the newest again.
    const rev = structuredClone(equal[equal.length - 1]!);
    rev.revision = next;
    update = await client.update(rev);
    const i = revisions.findIndex((r) => r.metadata.uid === update.metadata.uid);
    revisions.splice(i, 1);
    revisions.push(update);
  } else {
    const made = await createRevision(client, owner, data, next, opts.hashLabel, collisionCount);
    update = made.revision;
    collisionCount = made.collisionCount;
    if (!revisions.some((r) => r.metadata.uid === update.metadata.uid)) revisions.push(update);
  }
  const currentName = owner.status?.currentRevision;
  const current = (currentName && revisions.find((r) => r.metadata.name === currentName)) || update;
  return { update, current, collisionCount, all: revisions };
}

/** history.CreateControllerRevision: on a name collision with other data, bump the count and retry. */
async function createRevision(
  client: Client,
  owner: KubeObject,
  data: unknown,
  revision: number,
  hashLabel: string,
  collisionCount: number,
): Promise<{ revision: KubeObject; collisionCount: number }> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const hash = computeHash(data, collisionCount || undefined);
    const name = `${owner.metadata.name!.slice(0, 223)}-${hash}`;
    const cr: KubeObject = {
      ...CONTROLLER_REVISION,
      metadata: {
        name,
        namespace: owner.metadata.namespace,
        labels: { ...(owner.spec?.template?.metadata?.labels ?? {}), [hashLabel]: hash },
        ownerReferences: [newControllerRef(owner)],
      },
      data,
      revision,
    };
    try {
      return { revision: await client.create(cr), collisionCount };
    } catch (e) {
      if (!isApiError(e, 'AlreadyExists')) throw e;
      const existing = await client.get({ ...CONTROLLER_REVISION, namespace: owner.metadata.namespace, name });
      if (isDeepStrictEqual(existing.data, data)) return { revision: existing, collisionCount };
      collisionCount++;
    }
  }
  throw new Error(`${owner.kind} ${owner.metadata.namespace}/${owner.metadata.name}: could not find a free ControllerRevision name`);
}

/**
 * Delete the oldest revisions that are not live (named by `live`: the current and update
 * revisions and those pods still carry) until at most `limit` non-live ones remain.
 */
export async function truncateHistory(client: Client, revisions: KubeObject[], isLive: (rev: KubeObject) => boolean, limit: number): Promise<void> {
  const history = sortRevisions(revisions).filter((r) => !isLive(r));
  for (const rev of history.slice(0, Math.max(0, history.length - limit))) {
    try {
      await client.delete({ ...CONTROLLER_REVISION, namespace: rev.metadata.namespace, name: rev.metadata.name! });
    } catch (e) {
      if (!isApiError(e, 'NotFound')) throw e;
    }
  }
}
