/**
 * Node lifecycle, as Kubernetes' node-lifecycle controller and pod GC:
 * - a node whose heartbeat (its Lease in kube-node-lease, or its Ready condition's
 *   lastHeartbeatTime) is older than the grace period gets its conditions set to Unknown
 *   ("Kubelet stopped posting node status.");
 * - Ready=False / Unknown nodes get the not-ready / unreachable NoSchedule and NoExecute taints,
 *   removed again once Ready=True;
 * - pods on a node with a NoExecute taint are evicted (deleted) at once if they do not tolerate
 *   it, or after their tolerationSeconds (300 s by default, see DefaultTolerationSeconds);
 * - pods bound to a node that no longer exists are deleted at once (pod GC).
 * Desktop default: 20 s grace period (Kubernetes: 50 s), checked every 5 s (ControllerOptions).
 */
import { isApiError } from '../api/errors.ts';
import type { KubeObject } from '../api/types.ts';
import { NOT_READY_TAINT, UNREACHABLE_TAINT } from '../server/admission/default-toleration-seconds.ts';
import type { Controller, ControllerContext } from './controller.ts';
import type { Informer } from './informer.ts';
import { WorkQueue } from './workqueue.ts';

const NODE = { apiVersion: 'v1', kind: 'Node' };
const POD = { apiVersion: 'v1', kind: 'Pod' };
const LEASE = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace: 'kube-node-lease' };
const BY_NODE = 'nodeName';
const POD_GC_QUARANTINE_MS = 5_000;

const rfc3339 = (d: Date) => d.toISOString().replace(/\.\d+Z$/, 'Z');

export class NodeLifecycleController implements Controller {
  readonly name = 'node-lifecycle';
  private readonly queue = new WorkQueue({ name: 'node-lifecycle', baseDelayMs: 100, maxDelayMs: 10_000 });
  private readonly nodes: Informer;
  private readonly pods: Informer;
  private readonly leases: Informer;
  private timer?: NodeJS.Timeout;

  constructor(private readonly ctx: ControllerContext) {
    this.nodes = ctx.informers.for(NODE);
    this.pods = ctx.informers.for(POD);
    this.leases = ctx.informers.for(LEASE);
    this.pods.addIndex(BY_NODE, (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []));
    this.nodes.addHandlers({
      onAdd: (n) => this.queue.add(n.metadata.name!),
      onUpdate: (_o, n) => this.queue.add(n.metadata.name!),
      onDelete: (n) => this.queue.add(n.metadata.name!),
    });
    this.pods.addHandlers({
      onAdd: (p) => p.spec?.nodeName && this.queue.add(p.spec.nodeName),
    });
  }

  run(workers: number): void {
    void this.queue.run(workers, (k) => this.reconcile(k));
    this.timer = setInterval(() => {
      for (const n of this.nodes.list()) this.queue.add(n.metadata.name!);
    }, this.ctx.options.nodeMonitorPeriodSeconds * 1000);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.queue.shutdown();
  }

  async reconcile(nodeName: string): Promise<void> {
    const node = this.nodes.get(nodeName);
    if (!node) return this.collectPodsOfMissingNode(nodeName);
    const current = await this.markUnknownIfSilent(node);
    await this.syncTaints(current);
    await this.evictIntolerant(current);
  }

  private lastHeartbeat(node: KubeObject): number {
    const lease = this.leases.get(`kube-node-lease/${node.metadata.name}`);
    const renew = lease?.spec?.renewTime ? Date.parse(lease.spec.renewTime) : 0;
    const ready = readyCondition(node);
    const hb = ready?.lastHeartbeatTime ? Date.parse(ready.lastHeartbeatTime) : 0;
    return Math.max(renew, hb, Date.parse(node.metadata.creationTimestamp ?? '') || 0);
  }

  private async markUnknownIfSilent(node: KubeObject): Promise<KubeObject> {
    const silentFor = this.ctx.now().getTime() - this.lastHeartbeat(node);
    const graceMs = this.ctx.options.nodeMonitorGracePeriodSeconds * 1000;
    if (silentFor <= graceMs) {
      this.queue.addAfter(node.metadata.name!, graceMs - silentFor + 100);
      return node;
    }
    const ready = readyCondition(node);
    if (ready?.status === 'Unknown') return node;
    const now = rfc3339(this.ctx.now());
    const next = structuredClone(node);
    const conditions: any[] = next.status?.conditions ?? [];
    for (const type of ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure']) {
      const c = conditions.find((x) => x.type === type);
      const fresh = { type, status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastTransitionTime: now, lastHeartbeatTime: c?.lastHeartbeatTime ?? now };
      if (c) Object.assign(c, fresh);
      else conditions.push(fresh);
    }
    next.status = { ...(next.status ?? {}), conditions };
    this.ctx.recorder('node-controller').event(node, 'Normal', 'NodeNotReady', `Node ${node.metadata.name} status is now: NodeNotReady`);
    try {
      return await this.ctx.client.updateStatus(next);
    } catch (e) {
      if (isApiError(e, 'Conflict') || isApiError(e, 'NotFound')) throw e; // retry with the fresh object
      throw e;
    }
  }

  private async syncTaints(node: KubeObject): Promise<void> {
    const status = readyCondition(node)?.status;
    const want = status === 'False' ? NOT_READY_TAINT : status === 'Unknown' ? UNREACHABLE_TAINT : undefined;
    const taints: any[] = node.spec?.taints ?? [];
    const others = taints.filter((t) => t.key !== NOT_READY_TAINT && t.key !== UNREACHABLE_TAINT);
    const now = rfc3339(this.ctx.now());
    const wanted = want
      ? ['NoSchedule', 'NoExecute'].map((effect) => taints.find((t) => t.key === want && t.effect === effect) ?? { key: want, effect, timeAdded: now })
      : [];
    const next = [...others, ...wanted];
    if (JSON.stringify(next) === JSON.stringify(taints)) return;
    const updated = structuredClone(node);
    updated.spec = { ...(updated.spec ?? {}), taints: next.length ? next : undefined };
    if (!next.length) delete updated.spec.taints;
    await this.ctx.client.update(updated);
  }

  private async evictIntolerant(node: KubeObject): Promise<void> {
    const noExecute = (node.spec?.taints ?? []).filter((t: any) => t.effect === 'NoExecute');
    if (!noExecute.length) return;
    const now = this.ctx.now().getTime();
    let soonest = Infinity;
    for (const pod of this.pods.byIndex(BY_NODE, node.metadata.name!)) {
      if (pod.metadata.deletionTimestamp) continue;
      let deadline = now; // evict now unless every NoExecute taint is tolerated
      let tolerated = true;
      let bound = Infinity;
      for (const taint of noExecute) {
        const tol = (pod.spec?.tolerations ?? []).find((t: any) => tolerates(t, taint));
        if (!tol) {
          tolerated = false;
          break;
        }
        if (tol.tolerationSeconds !== undefined && tol.tolerationSeconds !== null) {
          const added = taint.timeAdded ? Date.parse(taint.timeAdded) : now;
          bound = Math.min(bound, added + Math.max(0, tol.tolerationSeconds) * 1000);
        }
      }
      if (tolerated) {
        if (bound === Infinity) continue; // tolerates forever
        deadline = bound;
      }
      if (deadline > now) {
        soonest = Math.min(soonest, deadline);
        continue;
      }
      this.ctx.recorder('taint-eviction-controller').event(pod, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${pod.metadata.namespace}/${pod.metadata.name}`);
      try {
        await this.ctx.client.delete({ ...POD, namespace: pod.metadata.namespace, name: pod.metadata.name! }, { preconditions: { uid: pod.metadata.uid } });
      } catch (e) {
        if (!isApiError(e, 'NotFound') && !isApiError(e, 'Conflict')) throw e;
      }
    }
    if (soonest < Infinity) this.queue.addAfter(node.metadata.name!, soonest - now + 50);
  }

  /** Pod GC: pods bound to a node that is gone are deleted at once (after a live check). */
  private async collectPodsOfMissingNode(nodeName: string): Promise<void> {
    const pods = this.pods.byIndex(BY_NODE, nodeName);
    if (!pods.length) return;
    try {
      await this.ctx.client.get({ ...NODE, name: nodeName });
      return; // the node exists after all (informer lag)
    } catch (e) {
      if (!isApiError(e, 'NotFound')) throw e;
    }
    const now = this.ctx.now().getTime();
    for (const pod of pods) {
      // Quarantine, as Kubernetes' pod GC: a node may be registering right now.
      const age = now - (Date.parse(pod.metadata.creationTimestamp ?? '') || 0);
      if (age < POD_GC_QUARANTINE_MS) {
        this.queue.addAfter(nodeName, POD_GC_QUARANTINE_MS - age + 50);
        continue;
      }
      this.ctx.recorder('pod-garbage-collector').event(pod, 'Normal', 'PodGC', `Deleting pod ${pod.metadata.namespace}/${pod.metadata.name}: its node ${nodeName} no longer exists`);
      try {
        await this.ctx.client.delete({ ...POD, namespace: pod.metadata.namespace, name: pod.metadata.name! }, { gracePeriodSeconds: 0 });
      } catch (e) {
        if (!isApiError(e, 'NotFound')) throw e;
      }
    }
  }
}

function readyCondition(node: KubeObject): any {
  return (node.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
}

/** Kubernetes' Toleration.ToleratesTaint. */
export function tolerates(t: any, taint: any): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  const op = t.operator ?? 'Equal';
  if (op === 'Exists') return true;
  return op === 'Equal' && (t.value ?? '') === (taint.value ?? '');
}
