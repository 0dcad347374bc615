/**
 * The HPA's replica calculation, as Kubernetes' replica_calculator.go: utilization against
 * requests, a 10 % tolerance, missing metrics assumed at 100 % (scale down) or 0 % (scale up),
 * and unready pods counted as 0 % when scaling up.
 */
import { podRequests } from '../../api/pod-resources.ts';
import { parseQuantity } from '../../api/quantity.ts';
import type { KubeObject } from '../../api/types.ts';
import type { PodMetricsSource } from './metrics.ts';

export const TOLERANCE = 0.1;

export interface MetricResult {
  replicas: number;
  /** For status.currentMetrics. */
  current: { averageUtilization?: number; averageValue: string };
  reason: string;
}

function isReady(pod: KubeObject): boolean {
  return (pod.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
}

export function resourceReplicas(
  metric: { name: 'cpu' | 'memory'; target: { type: string; averageUtilization?: number; averageValue?: string } },
  pods: KubeObject[],
  currentReplicas: number,
  source: PodMetricsSource,
): MetricResult | { error: string } {
  const live = pods.filter((p) => !p.metadata.deletionTimestamp && p.status?.phase !== 'Failed' && p.status?.phase !== 'Succeeded');
  if (!live.length) return { error: 'no pods to scale on' };
  const usage = new Map<string, number>();
  const requests = new Map<string, number>();
  const missing: KubeObject[] = [];
  const unready: KubeObject[] = [];
  for (const p of live) {
    const req = podRequests(p)[metric.name];
    if (req !== undefined) requests.set(p.metadata.name!, metric.name === 'cpu' ? Number(parseQuantity(req).milliValue()) : parseQuantity(req).toNumber());
    const u = source.podUsage(p.metadata.namespace!, p.metadata.name!);
    if (!u) missing.push(p);
    else if (metric.name === 'cpu' && !isReady(p)) unready.push(p);
    else usage.set(p.metadata.name!, metric.name === 'cpu' ? u.cpuNanoCores / 1e6 : u.memoryBytes);
  }
  if (!usage.size) return { error: `unable to get metrics for resource ${metric.name}: no metrics returned from resource metrics API` };
  const utilization = metric.target.type === 'Utilization';
  if (utilization) {
    for (const name of usage.keys()) {
      if (!requests.has(name)) return { error: `failed to get ${metric.name} utilization: missing request for ${metric.name} in pod ${name}` };
    }
  }
  const sum = (m: Map<string, number>, names: Iterable<string>) => [...names].reduce((s, n) => s + (m.get(n) ?? 0), 0);
  const targetOf = (): number => (utilization ? metric.target.averageUtilization! : metric.name === 'cpu' ? Number(parseQuantity(metric.target.averageValue!).milliValue()) : parseQuantity(metric.target.averageValue!).toNumber());
  const ratioOf = (u: Map<string, number>, names: string[]): number => {
    if (utilization) return (100 * sum(u, names)) / sum(requests, names) / targetOf();
    return sum(u, names) / names.length / targetOf();
  };
  const measured = [...usage.keys()];
  let ratio = ratioOf(usage, measured);
  const currentUtil = utilization ? Math.round((100 * sum(usage, measured)) / sum(requests, measured)) : undefined;
  const avgValue = sum(usage, measured) / measured.length;
  const current = {
    ...(currentUtil !== undefined ? { averageUtilization: currentUtil } : {}),
    averageValue: metric.name === 'cpu' ? `${Math.round(avgValue)}m` : String(Math.round(avgValue)),
  };
  const direction = ratio > 1 ? 'above' : 'below';
  const reason = utilization ? `${metric.name} resource utilization (percentage of request) ${direction} target` : `${metric.name} resource ${direction} target`;
  if (!missing.length && !unready.length) {
    if (Math.abs(1 - ratio) <= TOLERANCE) return { replicas: currentReplicas, current, reason };
    return { replicas: Math.ceil(ratio * measured.length), current, reason };
  }
  // Rebalance: missing pods at 100 % of target when scaling down, 0 % when scaling up; unready at 0 %.
  const adjusted = new Map(usage);
  const names = [...measured];
  const fill = (p: KubeObject, atTarget: boolean) => {
    const n = p.metadata.name!;
    names.push(n);
    const t = targetOf();
    adjusted.set(n, atTarget ? (utilization ? ((requests.get(n) ?? 0) * t) / 100 : t) : 0);
  };
  for (const p of missing) fill(p, ratio < 1);
  if (ratio > 1) for (const p of unready) fill(p, false);
  const newRatio = ratioOf(adjusted, names);
  if (Math.abs(1 - newRatio) <= TOLERANCE || (ratio > 1 && newRatio < 1) || (ratio < 1 && newRatio > 1)) {
    return { replicas: currentReplicas, current, reason };
  }
  ratio = newRatio;
  const replicas = Math.ceil(ratio * names.length);
  // Never scale in the opposite direction of the raw measurement.
  if ((ratio > 1 && replicas < currentReplicas) || (ratio < 1 && replicas > currentReplicas)) return { replicas: currentReplicas, current, reason };
  return { replicas, current, reason };
}
