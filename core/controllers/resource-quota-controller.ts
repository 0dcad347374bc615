/**
 * ResourceQuota status, as Kubernetes' quota controller: `status.hard` mirrors the spec and
 * `status.used` is recomputed from the namespace's objects whenever one of them changes.
 */
import { isDeepStrictEqual } from 'node:util';
import { apiVersionOf, KINDS } from '../api/kinds.ts';
import { usedIn, type ListInNamespace } from '../server/admission/resource-quota.ts';
import type { Controller, ControllerContext } from './controller.ts';
import { keyOf, type Informer } from './informer.ts';
import { WorkQueue } from './workqueue.ts';

const RQ = { apiVersion: 'v1', kind: 'ResourceQuota' };
const COUNTED = ['Pod', 'Service', 'Secret', 'ConfigMap', 'PersistentVolumeClaim', 'Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob'];

export class ResourceQuotaController implements Controller {
  readonly name = 'resourcequota';
  private readonly queue = new WorkQueue({ name: 'resourcequota' });
  private readonly quotas: Informer;
  private readonly informers = new Map<string, Informer>();

  constructor(private readonly ctx: ControllerContext) {
    this.quotas = ctx.informers.for(RQ);
    this.quotas.addHandlers({ onAdd: (q) => this.queue.add(keyOf(q)), onUpdate: (_o, q) => this.queue.add(keyOf(q)) });
    for (const kind of COUNTED) {
      const info = KINDS.find((k) => k.kind === kind)!;
      const inf = ctx.informers.for({ apiVersion: apiVersionOf(info), kind });
      this.informers.set(kind, inf);
      const touch = (o: { metadata: { namespace?: string } }) => {
        for (const q of this.quotas.list(o.metadata.namespace)) this.queue.add(keyOf(q));
      };
      inf.addHandlers({ onAdd: touch, onUpdate: (_o, n) => touch(n), onDelete: touch });
    }
  }

  run(workers: number): void {
    void this.queue.run(workers, (k) => this.reconcile(k));
  }

  stop(): void {
    this.queue.shutdown();
  }

  private readonly listFromCache: ListInNamespace = async (_apiVersion, kind, namespace) => this.informers.get(kind)?.list(namespace) ?? [];

  async reconcile(key: string): Promise<void> {
    const quota = this.quotas.get(key);
    if (!quota) return;
    const hard = quota.spec?.hard ?? {};
    const used = await usedIn(this.listFromCache, quota, hard, quota.metadata.namespace!);
    const status = { hard, used };
    if (isDeepStrictEqual(quota.status ?? {}, status)) return;
    await this.ctx.client.updateStatus({ ...structuredClone(quota), status });
  }
}
