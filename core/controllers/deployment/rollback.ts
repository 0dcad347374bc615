/**
 * Rollback as `kubectl rollout undo` does it: the Deployment's pod template is patched back to
 * the chosen ReplicaSet's (pod-template-hash label removed), and its annotations become that
 * ReplicaSet's (change-cause included) plus the ones kubectl keeps. The controller then finds the
 * old ReplicaSet equal to the template, reuses it and gives it the next revision number.
 *
 * Wheelhouse's own Deployment annotations (`wheelhouse.io/…`: the auto-rollback switch and
 * record) are kept too, and the ReplicaSet's rollout marker is not copied over.
 */
import { ApiError } from '../../api/errors.ts';
import type { KubeObject } from '../../api/types.ts';
import type { Client } from '../../client/client.ts';
import { EventRecorder } from '../../client/event-recorder.ts';
import { equalIgnoreHash, POD_TEMPLATE_HASH_LABEL } from '../controller-utils.ts';
import { isControlledBy } from '../pod-control.ts';
import {
  COMPONENT, DEPLOYMENT, DESIRED_REPLICAS_ANNOTATION, LAST_APPLIED_ANNOTATION, MAX_REPLICAS_ANNOTATION, REPLICASET, revisionOf,
  REVISION_ANNOTATION, REVISION_HISTORY_ANNOTATION, ROLLBACK_TO_ANNOTATION, ROLLOUT_COMPLETE_ANNOTATION, type Deployment,
  type ReplicaSet,
} from './util.ts';

/** kubectl's annotationsToSkip: kept from the Deployment, never taken from the ReplicaSet. */
const KEEP_FROM_DEPLOYMENT = new Set([
  LAST_APPLIED_ANNOTATION,
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  ROLLBACK_TO_ANNOTATION,
]);

const isWheelhouse = (k: string) => k.startsWith('wheelhouse.io/');

export interface RollbackResult {
  /** The revision rolled back to (its number before the rollback). */
  revision: number;
  replicaSet: string;
  /** True when the template already matched that revision (nothing written). */
  skipped: boolean;
  /** kubectl's wording: `rolled back` or `skipped rollback (current template already matches revision 2)`. */
  message: string;
}

export interface RollbackOptions {
  /** Where the DeploymentRollback event goes (default: a recorder as `deployment-controller`). */
  recorder?: EventRecorder;
  fieldManager?: string;
}

/**
 * Roll Deployment `ref` back to `revision` (0 or undefined: the previous one), as
 * `kubectl rollout undo [--to-revision=N]`. Throws an ApiError naming the Deployment when it is
 * paused, the revision is not in its history, or there is no earlier revision.
 */
export async function rollbackTo(
  client: Client,
  ref: { namespace?: string; name: string },
  revision = 0,
  opts: RollbackOptions = {},
): Promise<RollbackResult> {
  const namespace = ref.namespace || 'default';
  const d = await client.get<Deployment>({ ...DEPLOYMENT, namespace, name: ref.name });
  const what = `Deployment ${namespace}/${ref.name}`;
  if (d.spec?.paused) {
    throw new ApiError('BadRequest', `${what}: you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume deployment/${ref.name}' and try again`);
  }
  const list = await client.list<ReplicaSet>(REPLICASET, { namespace });
  const owned = list.items.filter((rs) => isControlledBy(rs, d));
  const target = findRevision(owned, revision, what);
  const to = revisionOf(target);
  if (equalIgnoreHash(target.spec?.template, d.spec?.template)) {
    return { revision: to, replicaSet: target.metadata.name!, skipped: true, message: `skipped rollback (current template already matches revision ${to})` };
  }
  await client.patch({ ...DEPLOYMENT, namespace, name: ref.name }, 'json', rollbackPatch(d, target), { fieldManager: opts.fieldManager ?? 'kubectl-rollout' });
  const recorder = opts.recorder ?? new EventRecorder(client, { component: COMPONENT });
  recorder.event(d, 'Normal', 'DeploymentRollback', `Rolled back deployment "${ref.name}" to revision ${to}`);
  return { revision: to, replicaSet: target.metadata.name!, skipped: false, message: 'rolled back' };
}

/**
 * kubectl's deploymentRevision: the ReplicaSet with revision `revision`, or for 0 the one with
 * the second-highest revision (the highest is the current one).
 */
export function findRevision(owned: ReplicaSet[], revision: number, what: string): ReplicaSet {
  let latest: ReplicaSet | undefined;
  let latestRev = -1;
  let previous: ReplicaSet | undefined;
  let previousRev = -1;
  for (const rs of owned) {
    const v = revisionOf(rs);
    if (Number.isNaN(v)) continue;
    if (revision > 0) {
      if (v === revision) return rs;
      continue;
    }
    if (v > latestRev) {
      previous = latest;
      previousRev = latestRev;
      latest = rs;
      latestRev = v;
    } else if (v > previousRev) {
      previous = rs;
      previousRev = v;
    }
  }
  if (revision > 0) throw new ApiError('NotFound', `${what}: unable to find specified revision ${revision} in history`);
  if (!previous) throw new ApiError('BadRequest', `${what}: no rollout history found`);
  return previous;
}

/**
 * The JSON patch of a rollback: guarded by the Deployment's generation (a concurrent spec edit
 * fails it; status writes, which happen all through a rollout, do not), template = the ReplicaSet's without the hash label, annotations as kubectl computes
 * them, plus `extra` (the auto-rollback record).
 */
export function rollbackPatch(d: Deployment, rs: ReplicaSet, extra: Record<string, string> = {}): unknown[] {
  const template = structuredClone(rs.spec?.template ?? {});
  if (template.metadata?.labels) delete template.metadata.labels[POD_TEMPLATE_HASH_LABEL];
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) if (KEEP_FROM_DEPLOYMENT.has(k) || isWheelhouse(k)) annotations[k] = v;
  for (const [k, v] of Object.entries(rs.metadata.annotations ?? {})) {
    if (!KEEP_FROM_DEPLOYMENT.has(k) && k !== ROLLOUT_COMPLETE_ANNOTATION && !isWheelhouse(k)) annotations[k] = v;
  }
  Object.assign(annotations, extra);
  const ops: unknown[] = [];
  if (d.metadata.generation !== undefined) ops.push({ op: 'test', path: '/metadata/generation', value: d.metadata.generation });
  ops.push({ op: 'add', path: '/spec/template', value: template }, { op: 'add', path: '/metadata/annotations', value: annotations });
  return ops;
}

/** The revision numbers of a Deployment's ReplicaSets, oldest first (for `rollout history`). */
export function revisions(owned: KubeObject[]): Array<{ revision: number; replicaSet: string; changeCause?: string }> {
  return owned
    .map((rs) => ({ revision: revisionOf(rs), replicaSet: rs.metadata.name!, changeCause: rs.metadata.annotations?.['kubernetes.io/change-cause'] }))
    .filter((r) => !Number.isNaN(r.revision))
    .sort((a, b) => a.revision - b.revision);
}
