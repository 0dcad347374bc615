/**
 * rollout.history / undo / pause: a Deployment's revisions are its ReplicaSets
 * (`deployment.kubernetes.io/revision`, `kubernetes.io/change-cause`); undo is the controller's
 * own `rollbackTo` (kubectl rollout undo); automatic rollbacks come from the Deployment's
 * `wheelhouse.io/last-auto-rollback` record and the AutoRollback / DeploymentRollback events.
 */
import type { KubeObject } from '../api/types.ts';
import {
  CHANGE_CAUSE_ANNOTATION, LAST_AUTO_ROLLBACK_ANNOTATION, REVISION_ANNOTATION, rollbackTo,
} from '../controllers/deployment-controller.ts';
import type { AutoRollbackInfo, RolloutRevision } from '../desktop-api.ts';
import type { HandlerMap } from './handler-types.ts';
import { retryOnConflict } from './retry.ts';
import { objectRef } from './kinds.ts';

const ROLLBACK_REASONS = new Set(['AutoRollback', 'DeploymentRollback', 'RolloutFailed']);

function templateWithoutHash(rs: KubeObject): unknown {
  const t = structuredClone(rs.spec?.template ?? {});
  if (t.metadata?.labels) delete t.metadata.labels['pod-template-hash'];
  return t;
}

export const rolloutHandlers: HandlerMap<'rollout.history' | 'rollout.undo' | 'rollout.pause'> = {
  async 'rollout.history'(s, a) {
    const d = await s.client.get<KubeObject>(objectRef('Deployment', a.namespace, a.name));
    const [rsList, events] = await Promise.all([
      s.client.list<KubeObject>({ apiVersion: 'apps/v1', kind: 'ReplicaSet', namespace: a.namespace }),
      s.client.list<KubeObject>({ apiVersion: 'v1', kind: 'Event', namespace: a.namespace }, { fieldSelector: `involvedObject.name=${a.name}` }),
    ]);
    const current = Number(d.metadata.annotations?.[REVISION_ANNOTATION] ?? NaN);
    const revisions: RolloutRevision[] = rsList.items
      .filter((rs) => rs.metadata.ownerReferences?.some((o) => o.controller && o.uid === d.metadata.uid))
      .map((rs) => {
        const revision = Number(rs.metadata.annotations?.[REVISION_ANNOTATION] ?? NaN);
        const containers: Array<{ image?: string }> = rs.spec?.template?.spec?.containers ?? [];
        return {
          revision,
          replicaSet: rs.metadata.name!,
          images: containers.map((c) => c.image ?? ''),
          ...(rs.metadata.annotations?.[CHANGE_CAUSE_ANNOTATION] ? { changeCause: rs.metadata.annotations[CHANGE_CAUSE_ANNOTATION] } : {}),
          ...(rs.metadata.creationTimestamp ? { created: String(rs.metadata.creationTimestamp) } : {}),
          replicas: rs.status?.replicas ?? 0,
          readyReplicas: rs.status?.readyReplicas ?? 0,
          current: revision === current,
          template: templateWithoutHash(rs),
        };
      })
      .filter((r) => !Number.isNaN(r.revision))
      .sort((x, y) => x.revision - y.revision);
    let lastAutoRollback: AutoRollbackInfo | undefined;
    const raw = d.metadata.annotations?.[LAST_AUTO_ROLLBACK_ANNOTATION];
    if (raw) {
      try {
        const r = JSON.parse(raw);
        lastAutoRollback = { from: Number(r.from), to: Number(r.to), reason: String(r.reason ?? ''), time: String(r.time ?? '') };
      } catch {
        /* not ours to fix: shown as absent */
      }
    }
    const rollbacks = events.items
      .filter((e) => e.involvedObject && (e.involvedObject as { kind?: string }).kind === 'Deployment' && ROLLBACK_REASONS.has(String(e.reason)))
      .map((e) => ({
        type: String(e.type ?? 'Normal'),
        reason: String(e.reason),
        message: String(e.message ?? ''),
        time: String(e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp ?? ''),
      }))
      .sort((x, y) => (x.time < y.time ? 1 : x.time > y.time ? -1 : 0));
    return { namespace: a.namespace, name: a.name, revisions, ...(lastAutoRollback ? { lastAutoRollback } : {}), rollbacks };
  },

  async 'rollout.undo'(s, a) {
    return retryOnConflict(() => rollbackTo(s.client, { namespace: a.namespace, name: a.name }, a.revision, { fieldManager: 'wheelhouse-ui' }));
  },

  async 'rollout.pause'(s, a) {
    await retryOnConflict(() => s.client.patch(objectRef('Deployment', a.namespace, a.name), 'merge', { spec: { paused: a.paused ? true : null } }, { fieldManager: 'wheelhouse-ui' }));
    return null;
  },
};
