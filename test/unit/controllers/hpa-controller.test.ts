import { describe, it, expect } from 'vitest';
import { HpaController } from '../../../core/controllers/hpa-controller.ts';
import { resourceReplicas } from '../../../core/controllers/hpa/replica-calculator.ts';
import { scaleDownLimit, scaleUpLimit, stabilize, DEFAULT_SCALE_UP } from '../../../core/controllers/hpa/behavior.ts';
import type { PodUsage } from '../../../core/controllers/hpa/metrics.ts';
import { harness, eventually } from './helpers.ts';

const readyPod = (name: string, cpuReq = '100m') => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', labels: { app: 'burn' } },
  spec: { containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: cpuReq } } }] },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
});

describe('HPA replica calculation', () => {
  const usage = (m: Record<string, number>) => ({
    podUsage: (_ns: string, n: string): PodUsage | undefined => (m[n] === undefined ? undefined : { cpuNanoCores: m[n]! * 1e6, memoryBytes: 0, timestamp: new Date() }),
  });
  const target = { name: 'cpu' as const, target: { type: 'Utilization', averageUtilization: 50 } };

  it('scales by the utilization ratio and respects the 10 % tolerance', () => {
    const pods = [readyPod('a'), readyPod('b')] as any;
    expect(resourceReplicas(target, pods, 2, usage({ a: 100, b: 100 }))).toMatchObject({ replicas: 4, current: { averageUtilization: 100 } });
    expect(resourceReplicas(target, pods, 2, usage({ a: 54, b: 54 }))).toMatchObject({ replicas: 2 });
    expect(resourceReplicas(target, pods, 2, usage({ a: 10, b: 10 }))).toMatchObject({ replicas: 1 });
  });

  it('treats missing metrics conservatively', () => {
    const pods = [readyPod('a'), readyPod('b'), readyPod('c')] as any;
    // Scale up measured on a, b; c missing counts as 0 % → (100+100+0)/3 = 66 % → ceil(1.33*3)=4
    expect(resourceReplicas(target, pods, 3, usage({ a: 100, b: 100 }))).toMatchObject({ replicas: 4 });
  });

  it('behavior: stabilization window and rate policies', () => {
    const now = 1_000_000;
    expect(stabilize(now, 5, 2, [{ at: now - 10_000, replicas: 5 }], DEFAULT_SCALE_UP, { stabilizationWindowSeconds: 300 })).toBe(5);
    expect(stabilize(now, 5, 2, [{ at: now - 400_000, replicas: 5 }], DEFAULT_SCALE_UP, { stabilizationWindowSeconds: 300 })).toBe(2);
    expect(scaleUpLimit(2, [], DEFAULT_SCALE_UP, now)).toBe(6); // max(100 % → 4, +4 pods → 6)
    expect(scaleDownLimit(10, [], { selectPolicy: 'Max', policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] }, now)).toBe(9);
  });
});

describe('HpaController', () => {
  it('scales a Deployment up on CPU and writes status, conditions and an event', async () => {
    const load: Record<string, number> = {};
    const metrics = { podUsage: (_ns: string, n: string) => (load[n] === undefined ? undefined : { cpuNanoCores: load[n]! * 1e6, memoryBytes: 0, timestamp: new Date() }) };
    const h = await harness([(ctx) => new HpaController(ctx, metrics)], { hpaSyncPeriodSeconds: 0.05 });
    await h.client.create({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'burn' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'burn' } }, template: { metadata: { labels: { app: 'burn' } }, spec: { containers: [{ name: 'c', image: 'x:1' }] } } },
    });
    const p = await h.client.create<any>({ ...readyPod('burn-1'), status: undefined });
    await h.client.updateStatus({ ...p, status: readyPod('burn-1').status });
    load['burn-1'] = 200; // 200 % of a 100m request
    await h.client.create({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'burn' },
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'burn' }, minReplicas: 1, maxReplicas: 3, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }] },
    });
    const d = await eventually(async () => {
      const d: any = await h.client.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'burn' });
      return d.spec.replicas === 3 ? d : undefined;
    });
    expect(d.spec.replicas).toBe(3); // 4 wanted, capped at maxReplicas
    const hpa: any = await eventually(async () => {
      const x: any = await h.client.get({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', namespace: 'default', name: 'burn' });
      return x.status?.desiredReplicas === 3 ? x : undefined;
    });
    expect(hpa.status.currentMetrics[0].resource.current.averageUtilization).toBe(200);
    expect(hpa.status.conditions.find((c: any) => c.type === 'ScalingLimited')).toMatchObject({ status: 'True', reason: 'TooManyReplicas' });
    const evs = await h.client.list({ apiVersion: 'v1', kind: 'Event' }, { namespace: 'default', fieldSelector: 'reason=SuccessfulRescale' });
    expect(evs.items[0]?.message).toBe('New size: 3; reason: cpu resource utilization (percentage of request) above target');
    await h.close();
  });
});
