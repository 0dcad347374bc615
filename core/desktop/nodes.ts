/**
 * nodes.cordon / uncordon / drain / add / remove. Drain is `kubectl drain` without PodDisruption
 * budgets (Wheelhouse has none): cordon, then delete ("evict") every pod on the node except
 * DaemonSet pods (their controller would put them right back) and, unless `force`, pods no
 * controller manages (they would be lost) — those are reported as skipped, with the reason.
 * Adding and removing nodes works on local nodes (this app's own node agents).
 */
import { isApiError } from '../api/errors.ts';
import { parseQuantity, QuantityError } from '../api/quantity.ts';
import type { KubeObject } from '../api/types.ts';
import { DesktopError, type DrainResult } from '../desktop-api.ts';
import type { HandlerMap } from './handler-types.ts';
import { retryOnConflict } from './retry.ts';

const NODE = { apiVersion: 'v1', kind: 'Node' } as const;
const opts = { fieldManager: 'wheelhouse-ui' };

function quantity(field: string, v: string, min: number): string {
  try {
    const q = parseQuantity(v);
    if (q.toNumber() < min) throw new DesktopError('BadRequest', `args.${field}: must be at least ${min}, not "${v}"`, { field: `args.${field}` });
    return q.toString();
  } catch (e) {
    if (e instanceof QuantityError) throw new DesktopError('BadRequest', `args.${field}: "${v}" is not a quantity (e.g. 2, 500m, 4Gi)`, { field: `args.${field}` });
    throw e;
  }
}

export const nodeHandlers: HandlerMap<'nodes.cordon' | 'nodes.uncordon' | 'nodes.drain' | 'nodes.add' | 'nodes.remove'> = {
  async 'nodes.cordon'(s, a) {
    await retryOnConflict(() => s.client.patch({ ...NODE, name: a.name }, 'merge', { spec: { unschedulable: true } }, opts));
    return null;
  },

  async 'nodes.uncordon'(s, a) {
    await retryOnConflict(() => s.client.patch({ ...NODE, name: a.name }, 'merge', { spec: { unschedulable: null } }, opts));
    return null;
  },

  async 'nodes.drain'(s, a) {
    await retryOnConflict(() => s.client.patch({ ...NODE, name: a.name }, 'merge', { spec: { unschedulable: true } }, opts));
    const pods = await s.client.list<KubeObject>({ apiVersion: 'v1', kind: 'Pod' }, { fieldSelector: `spec.nodeName=${a.name}` });
    const result: DrainResult = { evicted: [], skipped: [] };
    for (const p of pods.items) {
      const key = `${p.metadata.namespace}/${p.metadata.name}`;
      if (p.metadata.deletionTimestamp) continue;
      const owner = p.metadata.ownerReferences?.find((o) => o.controller);
      if (owner?.kind === 'DaemonSet') {
        result.skipped.push({ pod: key, reason: 'DaemonSet-managed (its controller runs it on every eligible node)' });
        continue;
      }
      if (p.metadata.annotations?.['kubernetes.io/config.mirror']) {
        result.skipped.push({ pod: key, reason: 'mirror pod' });
        continue;
      }
      const finished = p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
      if (!owner && !finished && !a.force) {
        result.skipped.push({ pod: key, reason: 'not managed by a controller: it would be lost (drain with force to delete it)' });
        continue;
      }
      try {
        await s.client.delete({ apiVersion: 'v1', kind: 'Pod', namespace: p.metadata.namespace, name: p.metadata.name! }, {
          ...(a.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: a.gracePeriodSeconds } : {}),
          ...opts,
        });
        result.evicted.push(key);
      } catch (e) {
        if (!isApiError(e, 'NotFound')) result.skipped.push({ pod: key, reason: (e as Error).message });
      }
    }
    return result;
  },

  async 'nodes.add'(s, a) {
    if (!s.cluster.runtime) throw new DesktopError('Unavailable', 'this cluster runs without a container runtime: it cannot host nodes');
    const capacity: Record<string, string> = {
      cpu: quantity('cpu', a.cpu, 0.001),
      memory: quantity('memory', a.memory, 16 * 1024 * 1024),
      pods: String(a.pods ?? 110),
    };
    try {
      await s.client.get({ ...NODE, name: a.name });
      if (!s.cluster.agents.has(a.name)) throw new DesktopError('AlreadyExists', `a node named "${a.name}" already exists`);
    } catch (e) {
      if (!isApiError(e, 'NotFound')) throw e;
    }
    if (s.cluster.agents.has(a.name)) throw new DesktopError('AlreadyExists', `node "${a.name}" already exists`);
    await s.cluster.addNode({ name: a.name, capacity, labels: a.labels ?? {}, taints: a.taints ?? [] });
    s.host.pulls.attach();
    return null;
  },

  async 'nodes.remove'(s, a) {
    if (!s.cluster.agents.has(a.name)) {
      throw new DesktopError('BadRequest', `node "${a.name}" is not a local node of this app: only nodes added here can be removed here`);
    }
    await s.cluster.removeNode(a.name);
    return null;
  },
};
