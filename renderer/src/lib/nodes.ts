/** Nodes as rows: readiness, cordon, capacity/allocatable, and what the pods on them request. */
import type { KubeObject } from '../../../core/api/types.ts';
import { quantity } from './format.ts';
import { isTerminated, podRequests } from './pods.ts';

export interface NodeRow {
  name: string;
  ready: boolean;
  readyReason: string;
  cordoned: boolean;
  local: boolean;
  capacity: { cpu: number; memory: number; pods: number };
  allocatable: { cpu: number; memory: number; pods: number };
  requested: { cpu: number; memory: number };
  pods: number;
  taints: Array<{ key: string; value?: string; effect: string }>;
  labels: Record<string, string>;
  conditions: Array<{ type: string; status: string; reason?: string; message?: string }>;
  obj: KubeObject;
}

export function nodeRows(nodes: KubeObject[], pods: KubeObject[]): NodeRow[] {
  const onNode = new Map<string, { cpu: number; memory: number; pods: number }>();
  for (const p of pods) {
    const n = p.spec?.nodeName;
    if (!n || isTerminated(p)) continue;
    const r = podRequests(p, quantity);
    const cur = onNode.get(n) ?? { cpu: 0, memory: 0, pods: 0 };
    cur.cpu += r.cpu;
    cur.memory += r.memory;
    cur.pods++;
    onNode.set(n, cur);
  }
  return nodes
    .map((n) => {
      const ready = (n.status?.conditions ?? []).find((c: { type: string }) => c.type === 'Ready');
      const res = (l: Record<string, string> | undefined) => ({ cpu: quantity(l?.cpu), memory: quantity(l?.memory), pods: quantity(l?.pods) });
      const used = onNode.get(n.metadata.name!) ?? { cpu: 0, memory: 0, pods: 0 };
      return {
        name: n.metadata.name!,
        ready: ready?.status === 'True',
        readyReason: ready?.status === 'True' ? '' : (ready?.message ?? ready?.reason ?? 'no status yet'),
        cordoned: !!n.spec?.unschedulable,
        local: !!n.metadata.annotations?.['wheelhouse.io/local-node'],
        capacity: res(n.status?.capacity),
        allocatable: res(n.status?.allocatable),
        requested: { cpu: used.cpu, memory: used.memory },
        pods: used.pods,
        taints: n.spec?.taints ?? [],
        labels: (n.metadata.labels ?? {}) as Record<string, string>,
        conditions: n.status?.conditions ?? [],
        obj: n,
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}
