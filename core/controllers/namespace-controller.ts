/**
 * Namespace deletion, as Kubernetes': a namespace marked for deletion (phase Terminating) has
 * every object in it deleted; once none is left, its `kubernetes` finalizer is removed and the API
 * layer deletes it. Progress shows in status conditions (NamespaceContentRemaining).
 * The same controller keeps a `default` ServiceAccount in every live namespace.
 */
import { isApiError } from '../api/errors.ts';
import { apiVersionOf, KINDS } from '../api/kinds.ts';
import type { KubeObject } from '../api/types.ts';
import type { Controller, ControllerContext } from './controller.ts';
import type { Informer } from './informer.ts';
import { WorkQueue } from './workqueue.ts';

const NS = { apiVersion: 'v1', kind: 'Namespace' };
const SA = { apiVersion: 'v1', kind: 'ServiceAccount' };

export class NamespaceController implements Controller {
  readonly name = 'namespace';
  private readonly queue = new WorkQueue({ name: 'namespace', baseDelayMs: 100, maxDelayMs: 5000 });
  private readonly namespaces: Informer;
  private readonly serviceAccounts: Informer;

  constructor(private readonly ctx: ControllerContext) {
    this.namespaces = ctx.informers.for(NS);
    this.serviceAccounts = ctx.informers.for(SA);
    this.namespaces.addHandlers({
      onAdd: (o) => this.queue.add(o.metadata.name!),
      onUpdate: (_a, o) => this.queue.add(o.metadata.name!),
    });
    this.serviceAccounts.addHandlers({
      onDelete: (o) => this.queue.add(o.metadata.namespace!),
    });
  }

  run(workers: number): void {
    void this.queue.run(workers, (k) => this.reconcile(k));
  }

  stop(): void {
    this.queue.shutdown();
  }

  async reconcile(name: string): Promise<void> {
    const ns = this.namespaces.get(name);
    if (!ns) return;
    if (ns.metadata.deletionTimestamp) return this.finalize(ns);
    if (!this.serviceAccounts.get(`${name}/default`)) {
      try {
        await this.ctx.client.create({ ...SA, metadata: { name: 'default', namespace: name } });
      } catch (e) {
        if (!isApiError(e, 'AlreadyExists') && !isApiError(e, 'Forbidden')) throw e;
      }
    }
  }

  /** Delete the namespace's content; release the finalizer once it is all gone. */
  private async finalize(ns: KubeObject): Promise<void> {
    const name = ns.metadata.name!;
    let remaining = 0;
    for (const info of KINDS) {
      if (!info.namespaced) continue;
      const ref = { apiVersion: apiVersionOf(info), kind: info.kind };
      const list = await this.ctx.client.list(ref, { namespace: name });
      for (const obj of list.items) {
        remaining++;
        if (obj.metadata.deletionTimestamp) continue;
        try {
          await this.ctx.client.delete({ ...ref, namespace: name, name: obj.metadata.name! }, { propagationPolicy: 'Background' });
        } catch (e) {
          if (!isApiError(e, 'NotFound')) throw e;
        }
      }
    }
    if (remaining > 0) {
      await this.setCondition(ns, `Some resources are remaining: ${remaining} object(s)`);
      this.queue.addAfter(name, 500); // pods finish their grace periods; check again
      return;
    }
    const live = await this.ctx.client.get(NS_REF(name));
    const next = structuredClone(live);
    next.spec = { ...(next.spec ?? {}), finalizers: (live.spec?.finalizers ?? []).filter((f: string) => f !== 'kubernetes') };
    try {
      await this.ctx.client.update(next);
    } catch (e) {
      if (!isApiError(e, 'NotFound')) throw e;
    }
  }

  private async setCondition(ns: KubeObject, message: string): Promise<void> {
    const cond = { type: 'NamespaceContentRemaining', status: 'True', reason: 'SomeResourcesRemain', message };
    const existing = (ns.status?.conditions ?? []).find((c: any) => c.type === cond.type);
    if (existing && existing.message === message) return;
    const next = structuredClone(ns);
    next.status = {
      ...(next.status ?? {}),
      conditions: [...(ns.status?.conditions ?? []).filter((c: any) => c.type !== cond.type), { ...cond, lastTransitionTime: this.ctx.now().toISOString().replace(/\.\d+Z$/, 'Z') }],
    };
    try {
      await this.ctx.client.updateStatus(next);
    } catch (e) {
      if (!isApiError(e, 'NotFound') && !isApiError(e, 'Conflict')) throw e;
    }
  }
}

const NS_REF = (name: string) => ({ ...NS, name });
