/**
 * nodes.cordon / uncordon / drain / add / remove. Drain is `kubectl drain` (see drain.ts): cordon,
 * then evict through pods/eviction, so PodDisruptionBudgets are honoured.
 * Adding and removing nodes works on local nodes (this app's own node agents).
 */
import { isApiError } from '../api/errors.ts';
import { parseQuantity, QuantityError } from '../api/quantity.ts';
import { DesktopError } from '../desktop-api.ts';
import { drainNode } from './drain.ts';
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
    return drainNode(s.client, a, opts.fieldManager);
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
