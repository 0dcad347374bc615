/**
 * The garbage collector, as Kubernetes': dependents whose owners are all gone are deleted
 * (background propagation); an owner being deleted with the `foregroundDeletion` finalizer has
 * its dependents deleted first and is released when none remain; an owner with the `orphan`
 * finalizer has its ownerReferences removed from every dependent and is then released.
 *
 * It watches every kind that can own or be owned (all but Events and Leases), indexes objects by
 * the uids they reference, and checks an owner's absence with a live read before deleting.
 */
import { isApiError } from '../api/errors.ts';
import { apiVersionOf, KINDS, type KindInfo } from '../api/kinds.ts';
import type { KubeObject, OwnerReference } from '../api/types.ts';
import { log } from '../log.ts';
import type { Controller, ControllerContext } from './controller.ts';
import type { Informer } from './informer.ts';
import { WorkQueue } from './workqueue.ts';

const SKIP = new Set(['Event', 'Lease']);
const BY_OWNER = 'ownerUid';

/** Queue keys: `<kind>|<namespace>|<name>`. */
function gcKey(kind: string, obj: KubeObject): string {
  return `${kind}|${obj.metadata.namespace ?? ''}|${obj.metadata.name}`;
}

export class GarbageCollector implements Controller {
  readonly name = 'garbage-collector';
  private readonly queue = new WorkQueue({ name: 'garbage-collector' });
  private readonly informers = new Map<string, Informer>();
  private readonly infos = new Map<string, KindInfo>();

  constructor(private readonly ctx: ControllerContext) {
    for (const info of KINDS) {
      if (SKIP.has(info.kind)) continue;
      const inf = ctx.informers.for({ apiVersion: apiVersionOf(info), kind: info.kind });
      this.informers.set(info.kind, inf);
      this.infos.set(info.kind, info);
      inf.addIndex(BY_OWNER, (o) => (o.metadata.ownerReferences ?? []).map((r) => r.uid));
      inf.addHandlers({
        onAdd: (o) => this.observe(info.kind, o),
        onUpdate: (_old, o) => this.observe(info.kind, o),
        onDelete: (o) => {
          this.enqueueDependents(o.metadata.uid);
          // An owner waiting in foreground deletion may now be free to go.
          for (const r of o.metadata.ownerReferences ?? []) {
            if (this.infos.has(r.kind)) this.queue.add(`${r.kind}|${this.infos.get(r.kind)!.namespaced ? (o.metadata.namespace ?? '') : ''}|${r.name}`);
          }
        },
      });
    }
  }

  run(workers: number): void {
    void this.queue.run(workers, (k) => this.reconcile(k));
  }

  stop(): void {
    this.queue.shutdown();
  }

  private observe(kind: string, o: KubeObject): void {
    if (o.metadata.ownerReferences?.length) this.queue.add(gcKey(kind, o));
    const f = o.metadata.finalizers ?? [];
    if (o.metadata.deletionTimestamp && (f.includes('orphan') || f.includes('foregroundDeletion'))) this.queue.add(gcKey(kind, o));
  }

  private enqueueDependents(uid: string | undefined): void {
    if (!uid) return;
    for (const [kind, inf] of this.informers) for (const d of inf.byIndex(BY_OWNER, uid)) this.queue.add(gcKey(kind, d));
  }

  private dependents(uid: string): Array<{ kind: string; obj: KubeObject }> {
    const out: Array<{ kind: string; obj: KubeObject }> = [];
    for (const [kind, inf] of this.informers) for (const obj of inf.byIndex(BY_OWNER, uid)) out.push({ kind, obj });
    return out;
  }

  async reconcile(key: string): Promise<void> {
    const [kind, namespace, name] = key.split('|') as [string, string, string];
    const info = this.infos.get(kind);
    const inf = this.informers.get(kind);
    if (!info || !inf) return;
    const obj = inf.get(namespace ? `${namespace}/${name}` : name);
    if (!obj) return;
    const finalizers = obj.metadata.finalizers ?? [];
    if (obj.metadata.deletionTimestamp && finalizers.includes('orphan')) await this.orphanDependents(info, obj);
    else if (obj.metadata.deletionTimestamp && finalizers.includes('foregroundDeletion')) await this.deleteDependentsFirst(info, obj);
    if (obj.metadata.ownerReferences?.length) await this.collectIfOwnersGone(info, obj);
  }

  /** Owners all gone (by uid, read live) → delete this dependent, propagating in the background. */
  private async collectIfOwnersGone(info: KindInfo, obj: KubeObject): Promise<void> {
    const refs = obj.metadata.ownerReferences ?? [];
    let anyAlive = false;
    let waitingForeground = false;
    for (const ref of refs) {
      const owner = await this.liveOwner(ref, obj.metadata.namespace);
      if (!owner) continue;
      anyAlive = true;
      if (owner.metadata.deletionTimestamp && owner.metadata.finalizers?.includes('foregroundDeletion')) waitingForeground = true;
    }
    if (anyAlive) {
      // An owner in foreground deletion enqueues its dependents itself; nothing to do here.
      void waitingForeground;
      return;
    }
    if (obj.metadata.deletionTimestamp) return;
    log.info('garbage collecting dependent whose owners are gone', { kind: info.kind, namespace: obj.metadata.namespace, name: obj.metadata.name });
    await this.deleteObject(info, obj, 'Background');
  }

  private async orphanDependents(info: KindInfo, owner: KubeObject): Promise<void> {
    const uid = owner.metadata.uid!;
    for (const { kind, obj } of this.dependents(uid)) {
      const depInfo = this.infos.get(kind)!;
      const refs = (obj.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid);
      try {
        await this.ctx.client.patch(
          { apiVersion: apiVersionOf(depInfo), kind, namespace: obj.metadata.namespace, name: obj.metadata.name! },
          'merge',
          { metadata: { ownerReferences: refs.length ? refs : null } },
        );
      } catch (e) {
        if (!isApiError(e, 'NotFound')) throw e;
      }
    }
    await this.removeFinalizer(info, owner, 'orphan');
  }

  private async deleteDependentsFirst(info: KindInfo, owner: KubeObject): Promise<void> {
    const deps = this.dependents(owner.metadata.uid!);
    let blocking = 0;
    for (const { kind, obj } of deps) {
      const ref = obj.metadata.ownerReferences!.find((r) => r.uid === owner.metadata.uid)!;
      if (ref.blockOwnerDeletion) blocking++;
      if (!obj.metadata.deletionTimestamp) await this.deleteObject(this.infos.get(kind)!, obj, 'Foreground');
    }
    if (blocking === 0) await this.removeFinalizer(info, owner, 'foregroundDeletion');
  }

  private async removeFinalizer(info: KindInfo, obj: KubeObject, finalizer: string): Promise<void> {
    const ref = { apiVersion: apiVersionOf(info), kind: info.kind, namespace: obj.metadata.namespace, name: obj.metadata.name! };
    for (let attempt = 0; attempt < 5; attempt++) {
      let live: KubeObject;
      try {
        live = await this.ctx.client.get(ref);
      } catch (e) {
        if (isApiError(e, 'NotFound')) return;
        throw e;
      }
      if (!live.metadata.finalizers?.includes(finalizer)) return;
      const next = structuredClone(live);
      next.metadata.finalizers = live.metadata.finalizers.filter((f) => f !== finalizer);
      try {
        await this.ctx.client.update(next);
        return;
      } catch (e) {
        if (isApiError(e, 'NotFound')) return;
        if (!isApiError(e, 'Conflict')) throw e;
      }
    }
    throw new Error(`could not remove finalizer ${finalizer} from ${info.kind} ${obj.metadata.name}`);
  }

  private async liveOwner(ref: OwnerReference, namespace: string | undefined): Promise<KubeObject | undefined> {
    const info = this.infos.get(ref.kind);
    if (!info) return { metadata: {} } as KubeObject; // an owner kind we don't serve: never collect
    try {
      const o = await this.ctx.client.get({ apiVersion: apiVersionOf(info), kind: ref.kind, namespace: info.namespaced ? namespace : undefined, name: ref.name });
      return o.metadata.uid === ref.uid ? o : undefined;
    } catch (e) {
      if (isApiError(e, 'NotFound')) return undefined;
      throw e;
    }
  }

  private async deleteObject(info: KindInfo, obj: KubeObject, propagationPolicy: 'Background' | 'Foreground'): Promise<void> {
    try {
      await this.ctx.client.delete(
        { apiVersion: apiVersionOf(info), kind: info.kind, namespace: obj.metadata.namespace, name: obj.metadata.name! },
        { propagationPolicy, preconditions: { uid: obj.metadata.uid } },
      );
    } catch (e) {
      if (!isApiError(e, 'NotFound') && !isApiError(e, 'Conflict')) throw e;
    }
  }
}
