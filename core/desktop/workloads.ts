/**
 * workloads.scale / restart / suspend / trigger: what `kubectl scale`, `kubectl rollout restart`,
 * `kubectl patch … suspend` and `kubectl create job --from=cronjob/…` do, as merge patches
 * through the API (so admission and validation apply as for any client).
 */
import { randomBytes } from 'node:crypto';
import type { KubeObject } from '../api/types.ts';
import { RESTARTED_AT_ANNOTATION } from '../desktop-api.ts';
import type { HandlerMap } from './handler-types.ts';
import { retryOnConflict } from './retry.ts';
import { objectRef } from './kinds.ts';

const opts = { fieldManager: 'wheelhouse-ui' };

export const workloadHandlers: HandlerMap<'workloads.scale' | 'workloads.restart' | 'workloads.suspend' | 'workloads.trigger'> = {
  async 'workloads.scale'(s, a) {
    await retryOnConflict(() => s.client.patch(objectRef(a.kind, a.namespace, a.name), 'merge', { spec: { replicas: a.replicas } }, opts));
    return null;
  },

  async 'workloads.restart'(s, a) {
    const patch = { spec: { template: { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: new Date().toISOString() } } } } };
    await retryOnConflict(() => s.client.patch(objectRef(a.kind, a.namespace, a.name), 'merge', patch, opts));
    return null;
  },

  async 'workloads.suspend'(s, a) {
    await retryOnConflict(() => s.client.patch(objectRef(a.kind, a.namespace, a.name), 'merge', { spec: { suspend: a.suspend } }, opts));
    return null;
  },

  async 'workloads.trigger'(s, a) {
    const cj = await s.client.get<KubeObject>(objectRef('CronJob', a.namespace, a.name));
    const tmpl = cj.spec?.jobTemplate ?? {};
    const suffix = randomBytes(3).toString('hex').slice(0, 5);
    const name = `${a.name.slice(0, 63 - 8)}-manual-${suffix}`.slice(0, 63);
    const job: KubeObject = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name,
        namespace: a.namespace,
        labels: { ...(tmpl.metadata?.labels ?? {}) },
        annotations: { ...(tmpl.metadata?.annotations ?? {}), 'cronjob.kubernetes.io/instantiate': 'manual' },
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: a.name, uid: cj.metadata.uid!, controller: true, blockOwnerDeletion: true }],
      },
      spec: structuredClone(tmpl.spec ?? {}),
    };
    await s.client.create(job, opts);
    return { job: name };
  },
};
