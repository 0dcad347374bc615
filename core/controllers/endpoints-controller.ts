/**
 * Endpoints, as Kubernetes' endpoints controller: for each Service with a selector, an Endpoints
 * object of the same name listing the matching pods' IPs — ready ones in `addresses`, the others
 * in `notReadyAddresses` (unless publishNotReadyAddresses) — and the ports with named targetPorts
 * resolved per pod. Pods with the same resolved ports share a subset. Terminating and not yet
 * scheduled (IP-less) pods are left out.
 */
import { isDeepStrictEqual } from 'node:util';
import { isApiError } from '../api/errors.ts';
import type { KubeObject } from '../api/types.ts';
import { selectorFromSet } from '../api/selectors.ts';
import type { Controller, ControllerContext } from './controller.ts';
import { keyOf, splitKey, type Informer } from './informer.ts';
import { WorkQueue } from './workqueue.ts';

const SVC = { apiVersion: 'v1', kind: 'Service' };
const POD = { apiVersion: 'v1', kind: 'Pod' };
const EP = { apiVersion: 'v1', kind: 'Endpoints' };

export function isPodReady(pod: KubeObject): boolean {
  return (pod.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
}

/** Resolve a Service port's targetPort against one pod: a number, or a named port of a container or sidecar. */
export function resolveTargetPort(port: any, pod: KubeObject): number | undefined {
  const tp = port.targetPort ?? port.port;
  if (typeof tp === 'number') return tp;
  if (/^\d+$/.test(String(tp))) return Number(tp);
  const sidecars = (pod.spec?.initContainers ?? []).filter((c: any) => c?.restartPolicy === 'Always');
  for (const c of [...(pod.spec?.containers ?? []), ...sidecars]) {
    for (const p of c.ports ?? []) if (p.name === tp && (p.protocol ?? 'TCP') === (port.protocol ?? 'TCP')) return p.containerPort;
  }
  return undefined;
}

export class EndpointsController implements Controller {
  readonly name = 'endpoints';
  private readonly queue = new WorkQueue({ name: 'endpoints' });
  private readonly services: Informer;
  private readonly pods: Informer;
  private readonly endpoints: Informer;

  constructor(private readonly ctx: ControllerContext) {
    this.services = ctx.informers.for(SVC);
    this.pods = ctx.informers.for(POD);
    this.endpoints = ctx.informers.for(EP);
    this.services.addHandlers({
      onAdd: (s) => this.queue.add(keyOf(s)),
      onUpdate: (_o, s) => this.queue.add(keyOf(s)),
      onDelete: (s) => this.queue.add(keyOf(s)),
    });
    const podChanged = (pod: KubeObject) => {
      for (const svc of this.services.list(pod.metadata.namespace)) {
        if (svc.spec?.selector && selectorFromSet(svc.spec.selector).matches(pod.metadata.labels)) this.queue.add(keyOf(svc));
      }
    };
    this.pods.addHandlers({
      onAdd: podChanged,
      onUpdate: (o, n) => {
        podChanged(n);
        if (!isDeepStrictEqual(o.metadata.labels, n.metadata.labels)) podChanged(o);
      },
      onDelete: podChanged,
    });
    this.endpoints.addHandlers({ onDelete: (e) => this.queue.add(keyOf(e)) });
  }

  run(workers: number): void {
    void this.queue.run(workers, (k) => this.reconcile(k));
  }

  stop(): void {
    this.queue.shutdown();
  }

  async reconcile(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const svc = this.services.get(key);
    const existing = this.endpoints.get(key);
    if (!svc) {
      // The Service is gone: its Endpoints go too (only those this controller manages).
      if (existing) await this.ignoreNotFound(this.ctx.client.delete({ ...EP, namespace, name }));
      return;
    }
    if (!svc.spec?.selector || svc.spec.type === 'ExternalName') return; // user-managed Endpoints
    const subsets = this.subsetsFor(svc);
    const labels = { ...(svc.metadata.labels ?? {}) };
    if (!existing) {
      try {
        await this.ctx.client.create({ ...EP, metadata: { name, namespace, labels }, subsets });
      } catch (e) {
        if (!isApiError(e, 'AlreadyExists')) throw e;
        throw new Error('Endpoints appeared meanwhile; retrying'); // informer lag
      }
      return;
    }
    if (isDeepStrictEqual(existing.subsets ?? [], subsets) && isDeepStrictEqual(existing.metadata.labels ?? {}, labels)) return;
    const next = structuredClone(existing);
    next.subsets = subsets;
    next.metadata.labels = labels;
    await this.ctx.client.update(next);
  }

  private subsetsFor(svc: KubeObject): any[] {
    const selector = selectorFromSet(svc.spec.selector);
    const publishNotReady = !!svc.spec.publishNotReadyAddresses;
    const bySignature = new Map<string, { addresses: any[]; notReadyAddresses: any[]; ports: any[] }>();
    const pods = this.pods
      .list(svc.metadata.namespace)
      .filter((p) => selector.matches(p.metadata.labels) && p.status?.podIP && !p.metadata.deletionTimestamp)
      .filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed')
      .sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : 1));
    for (const pod of pods) {
      const ports: any[] = [];
      for (const sp of svc.spec.ports ?? []) {
        const port = resolveTargetPort(sp, pod);
        if (port === undefined) continue;
        ports.push({ ...(sp.name ? { name: sp.name } : {}), port, protocol: sp.protocol ?? 'TCP', ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}) });
      }
      if (!ports.length && (svc.spec.ports ?? []).length) continue;
      const sig = JSON.stringify(ports);
      let subset = bySignature.get(sig);
      if (!subset) bySignature.set(sig, (subset = { addresses: [], notReadyAddresses: [], ports }));
      const addr: any = {
        ip: pod.status.podIP,
        nodeName: pod.spec?.nodeName,
        targetRef: { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid },
      };
      if (pod.spec?.hostname && pod.spec?.subdomain === svc.metadata.name) addr.hostname = pod.spec.hostname;
      if (publishNotReady || isPodReady(pod)) subset.addresses.push(addr);
      else subset.notReadyAddresses.push(addr);
    }
    return [...bySignature.values()].map((s) => {
      const out: any = { ports: s.ports };
      if (s.addresses.length) out.addresses = s.addresses;
      if (s.notReadyAddresses.length) out.notReadyAddresses = s.notReadyAddresses;
      if (!s.ports.length) delete out.ports;
      return out;
    });
  }

  private async ignoreNotFound(p: Promise<unknown>): Promise<void> {
    try {
      await p;
    } catch (e) {
      if (!isApiError(e, 'NotFound')) throw e;
    }
  }
}
