/**
 * HorizontalPodAutoscaler (autoscaling/v2) on CPU and memory, with Kubernetes' algorithm
 * (hpa/replica-calculator.ts: 10 % tolerance, missing/unready pod handling) and behavior
 * (hpa/behavior.ts: stabilization windows, rate policies), min/max replicas, conditions
 * (AbleToScale, ScalingActive, ScalingLimited) and SuccessfulRescale events. Every HPA is
 * evaluated each `hpaSyncPeriodSeconds` and whenever it changes.
 */
import { isDeepStrictEqual } from 'node:util';
import { lookupKind } from '../api/kinds.ts';
import { labelSelectorFromObject } from '../api/selectors.ts';
import type { KubeObject } from '../api/types.ts';
import type { Controller, ControllerContext } from './controller.ts';
import { keyOf, splitKey, type Informer } from './informer.ts';
import { WorkQueue } from './workqueue.ts';
import { DEFAULT_SCALE_DOWN, DEFAULT_SCALE_UP, scaleDownLimit, scaleUpLimit, stabilize, type Recommendation, type ScaleEvent } from './hpa/behavior.ts';
import type { PodMetricsSource } from './hpa/metrics.ts';
import { resourceReplicas } from './hpa/replica-calculator.ts';

const HPA = { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler' };
const POD = { apiVersion: 'v1', kind: 'Pod' };
const rfc3339 = (d: Date) => d.toISOString().replace(/\.\d+Z$/, 'Z');

export class HpaController implements Controller {
  readonly name = 'horizontal-pod-autoscaler';
  private readonly queue = new WorkQueue({ name: 'hpa' });
  private readonly hpas: Informer;
  private readonly pods: Informer;
  private readonly recommendations = new Map<string, Recommendation[]>();
  private readonly scaleEvents = new Map<string, ScaleEvent[]>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly ctx: ControllerContext,
    private readonly metrics: PodMetricsSource,
  ) {
    this.hpas = ctx.informers.for(HPA);
    this.pods = ctx.informers.for(POD);
    this.hpas.addHandlers({
      onAdd: (h) => this.queue.add(keyOf(h)),
      onUpdate: (o, h) => !isDeepStrictEqual(o.spec, h.spec) && this.queue.add(keyOf(h)),
      onDelete: (h) => {
        this.recommendations.delete(keyOf(h));
        this.scaleEvents.delete(keyOf(h));
      },
    });
  }

  run(workers: number): void {
    void this.queue.run(workers, (k) => this.reconcile(k));
    this.timer = setInterval(() => {
      for (const h of this.hpas.list()) this.queue.add(keyOf(h));
    }, this.ctx.options.hpaSyncPeriodSeconds * 1000);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.queue.shutdown();
  }

  async reconcile(key: string): Promise<void> {
    const hpa = this.hpas.get(key);
    if (!hpa) return;
    const { namespace } = splitKey(key);
    const now = this.ctx.now();
    const ref = hpa.spec.scaleTargetRef;
    const info = lookupKind(ref.apiVersion ?? 'apps/v1', ref.kind);
    const conditions: any[] = [];
    const status: any = { ...(hpa.status ?? {}), conditions };
    const setCond = (type: string, s: boolean, reason: string, message: string) => conditions.push({ type, status: s ? 'True' : 'False', reason, message });
    let target: KubeObject | undefined;
    try {
      if (!info) throw new Error(`the HPA controller was unable to get the target's current scale: no matches for kind "${ref.kind}"`);
      target = await this.ctx.client.get({ apiVersion: ref.apiVersion ?? 'apps/v1', kind: ref.kind, namespace, name: ref.name });
    } catch (e) {
      setCond('AbleToScale', false, 'FailedGetScale', `the HPA controller was unable to get the target's current scale: ${(e as Error).message}`);
      this.ctx.recorder('horizontal-pod-autoscaler').event(hpa, 'Warning', 'FailedGetScale', (e as Error).message);
      return this.writeStatus(hpa, status);
    }
    const current = target.spec?.replicas ?? 1;
    status.currentReplicas = target.status?.replicas ?? current;
    setCond('AbleToScale', true, 'SucceededGetScale', "the HPA controller was able to get the target's current scale");
    const min = hpa.spec.minReplicas ?? 1;
    const max = hpa.spec.maxReplicas;
    if (current === 0 && min !== 0) {
      setCond('ScalingActive', false, 'ScalingDisabled', 'scaling is disabled since the replica count of the target is zero');
      status.desiredReplicas = 0;
      return this.writeStatus(hpa, status);
    }
    const selector = labelSelectorFromObject(target.spec?.selector);
    const pods = this.pods.list(namespace).filter((p) => selector.matches(p.metadata.labels));
    let desired = 0;
    let reason = '';
    const currentMetrics: any[] = [];
    let failure: string | undefined;
    for (const m of hpa.spec.metrics ?? []) {
      if (m.type !== 'Resource' && m.type !== 'ContainerResource') {
        failure = `metric type ${m.type} is not supported by Wheelhouse (only Resource cpu and memory)`;
        continue;
      }
      const r = resourceReplicas({ name: m.resource?.name ?? m.containerResource?.name, target: (m.resource ?? m.containerResource).target }, pods, current, this.metrics);
      if ('error' in r) {
        failure = r.error;
        continue;
      }
      currentMetrics.push({ type: 'Resource', resource: { name: (m.resource ?? m.containerResource).name, current: r.current } });
      if (r.replicas > desired) {
        desired = r.replicas;
        reason = r.reason;
      }
    }
    status.currentMetrics = currentMetrics.length ? currentMetrics : undefined;
    if (!currentMetrics.length) {
      setCond('ScalingActive', false, 'FailedGetResourceMetric', `the HPA was unable to compute the replica count: ${failure ?? 'no metrics'}`);
      this.ctx.recorder('horizontal-pod-autoscaler').event(hpa, 'Warning', 'FailedGetResourceMetric', failure ?? 'no metrics');
      status.desiredReplicas = current;
      return this.writeStatus(hpa, status);
    }
    setCond('ScalingActive', true, 'ValidMetricFound', `the HPA was able to successfully calculate a replica count from ${reason.split(' ')[0]} resource`);
    const t = now.getTime();
    const history = (this.recommendations.get(key) ?? []).filter((r) => r.at > t - 3600_000);
    const up = { ...DEFAULT_SCALE_UP, ...(hpa.spec.behavior?.scaleUp ?? {}) };
    const down = { ...DEFAULT_SCALE_DOWN, ...(hpa.spec.behavior?.scaleDown ?? {}) };
    let next = stabilize(t, current, desired, history, up, down);
    history.push({ at: t, replicas: desired });
    this.recommendations.set(key, history);
    const events = (this.scaleEvents.get(key) ?? []).filter((e) => e.at > t - 3600_000);
    if (next > current) next = Math.min(next, scaleUpLimit(current, events, up, t));
    if (next < current) next = Math.max(next, scaleDownLimit(current, events, down, t));
    if (next < min) setCond('ScalingLimited', true, 'TooFewReplicas', 'the desired replica count is less than the minimum replica count');
    else if (next > max) setCond('ScalingLimited', true, 'TooManyReplicas', 'the desired replica count is more than the maximum replica count');
    else setCond('ScalingLimited', false, 'DesiredWithinRange', 'the desired count is within the acceptable range');
    next = Math.max(min, Math.min(max, next));
    status.desiredReplicas = next;
    if (next !== current) {
      await this.ctx.client.patch({ apiVersion: ref.apiVersion ?? 'apps/v1', kind: ref.kind, namespace, name: ref.name }, 'merge', { spec: { replicas: next } });
      events.push({ at: t, change: next - current });
      status.lastScaleTime = rfc3339(now);
      // Kubernetes' wording: the metric that drove a scale-up, or "All metrics below target".
      const why = current < min ? 'Current number of replicas below Spec.MinReplicas' : current > max ? 'Current number of replicas above Spec.MaxReplicas' : next < current ? 'All metrics below target' : reason;
      this.ctx.recorder('horizontal-pod-autoscaler').event(hpa, 'Normal', 'SuccessfulRescale', `New size: ${next}; reason: ${why}`);
    }
    this.scaleEvents.set(key, events);
    return this.writeStatus(hpa, status);
  }

  private async writeStatus(hpa: KubeObject, status: any): Promise<void> {
    const old: any[] = hpa.status?.conditions ?? [];
    const now = rfc3339(this.ctx.now());
    for (const c of status.conditions) {
      const prev = old.find((o) => o.type === c.type);
      c.lastTransitionTime = prev && prev.status === c.status ? prev.lastTransitionTime : now;
    }
    if (status.currentMetrics === undefined) delete status.currentMetrics;
    if (isDeepStrictEqual(hpa.status ?? {}, status)) return;
    await this.ctx.client.updateStatus({ ...structuredClone(hpa), status });
  }
}
