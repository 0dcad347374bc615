/**
 * metrics.k8s.io/v1beta1, what metrics-server serves and `kubectl top pod|node` reads:
 * PodMetrics and NodeMetrics built from the node agents' samples (the HPA's PodMetricsSource,
 * extended here with node usage). A pod or node without a sample is left out of lists and is
 * 404 on get, as with metrics-server.
 */
import { ApiError } from '../../api/errors.ts';
import type { KubeObject } from '../../api/types.ts';
import type { PodMetricsSource, PodUsage } from '../../controllers/hpa/metrics.ts';
import type { ApiServer } from '../api-server.ts';

export interface NodeUsage {
  cpuNanoCores: number;
  memoryBytes: number;
  timestamp: Date;
}

/** Pod usage (as the HPA reads it) plus node usage. */
export interface MetricsSource extends PodMetricsSource {
  nodeUsage(name: string): NodeUsage | undefined;
}

/** The sampling window reported with each sample. */
const WINDOW = '10s';
const GV = 'metrics.k8s.io/v1beta1';

export const cpuQuantity = (nano: number) => `${Math.max(0, Math.round(nano))}n`;
export const memoryQuantity = (bytes: number) => `${Math.max(0, Math.round(bytes / 1024))}Ki`;

const rfc3339 = (d: Date) => d.toISOString().replace(/\.\d+Z$/, 'Z');

function podMetrics(pod: KubeObject, u: PodUsage): KubeObject {
  const containers = u.containers?.length
    ? u.containers.map((c) => ({ name: c.name, usage: { cpu: cpuQuantity(c.cpuNanoCores), memory: memoryQuantity(c.memoryBytes) } }))
    : (pod.spec?.containers ?? []).slice(0, 1).map((c: any) => ({ name: c.name, usage: { cpu: cpuQuantity(u.cpuNanoCores), memory: memoryQuantity(u.memoryBytes) } }));
  return {
    kind: 'PodMetrics',
    apiVersion: GV,
    metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace, creationTimestamp: rfc3339(new Date()), ...(pod.metadata.labels ? { labels: pod.metadata.labels } : {}) },
    timestamp: rfc3339(u.timestamp),
    window: WINDOW,
    containers,
  };
}

function nodeMetrics(node: KubeObject, u: NodeUsage): KubeObject {
  return {
    kind: 'NodeMetrics',
    apiVersion: GV,
    metadata: { name: node.metadata.name, creationTimestamp: rfc3339(new Date()), ...(node.metadata.labels ? { labels: node.metadata.labels } : {}) },
    timestamp: rfc3339(u.timestamp),
    window: WINDOW,
    usage: { cpu: cpuQuantity(u.cpuNanoCores), memory: memoryQuantity(u.memoryBytes) },
  };
}

export interface MetricsQuery {
  resource: 'pods' | 'nodes';
  namespace?: string;
  name?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

/** GET /apis/metrics.k8s.io/v1beta1/[namespaces/{ns}/]{pods|nodes}[/{name}] */
export async function serveMetrics(api: ApiServer, source: MetricsSource | undefined, q: MetricsQuery): Promise<unknown> {
  const isPods = q.resource === 'pods';
  const kind = isPods ? 'PodMetrics' : 'NodeMetrics';
  const ref = isPods ? { apiVersion: 'v1', kind: 'Pod' } : { apiVersion: 'v1', kind: 'Node' };
  const usage = (o: KubeObject) =>
    isPods ? source?.podUsage(o.metadata.namespace!, o.metadata.name!) : source?.nodeUsage(o.metadata.name!);
  const build = (o: KubeObject, u: any) => (isPods ? podMetrics(o, u) : nodeMetrics(o, u));
  if (q.name) {
    const obj = await api.get({ ...ref, namespace: q.namespace, name: q.name });
    const u = usage(obj);
    if (!u) {
      throw new ApiError('NotFound', `${isPods ? 'podmetrics' : 'nodemetrics'}.metrics.k8s.io "${q.name}" not found`, {
        name: q.name,
        group: 'metrics.k8s.io',
        kind: q.resource,
      });
    }
    return build(obj, u);
  }
  const list = await api.list(ref, { namespace: q.namespace, labelSelector: q.labelSelector, fieldSelector: q.fieldSelector });
  const items: KubeObject[] = [];
  for (const o of list.items) {
    const u = usage(o);
    if (u) items.push(build(o, u));
  }
  return { kind: `${kind}List`, apiVersion: GV, metadata: {}, items };
}
