/**
 * What an HPA chart plots — replicas (current, desired, min, max) and each metric's current value
 * against its target — recorded over time: one point per HPA every `intervalMs` and on every
 * status change, the last `windowMs` kept. The HPA object holds only its latest status, so the
 * history lives here, from the moment the app started.
 */
import { tryParseQuantity } from '../api/quantity.ts';
import type { KubeObject } from '../api/types.ts';
import type { Client, WatchHandle } from '../client/client.ts';
import type { HpaPoint } from '../desktop-api.ts';

export class HpaHistory {
  readonly intervalMs: number;
  readonly windowMs: number;
  private readonly latest = new Map<string, KubeObject>();
  private readonly series = new Map<string, HpaPoint[]>();
  private watch?: WatchHandle;
  private timer?: NodeJS.Timeout;
  private starting?: Promise<void>;

  constructor(
    private readonly client: Client,
    opts: { intervalMs?: number; windowMs?: number } = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 5_000;
    this.windowMs = opts.windowMs ?? 15 * 60_000;
  }

  start(): Promise<void> {
    this.starting ??= (async () => {
      const ref = { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler' };
      const list = await this.client.list<KubeObject>(ref);
      for (const h of list.items) this.record(h);
      this.watch = this.client.watch(ref, { resourceVersion: list.metadata.resourceVersion }, (ev) => {
        if (ev.type === 'ADDED' || ev.type === 'MODIFIED') this.record(ev.object);
        else if (ev.type === 'DELETED') {
          const k = key(ev.object);
          this.latest.delete(k);
          this.series.delete(k);
        }
      });
      this.timer = setInterval(() => {
        for (const h of this.latest.values()) this.record(h);
      }, this.intervalMs);
      this.timer.unref?.();
    })();
    return this.starting;
  }

  stop(): void {
    this.watch?.close();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  points(namespace: string, name: string): HpaPoint[] {
    return [...(this.series.get(`${namespace}/${name}`) ?? [])];
  }

  private record(h: KubeObject): void {
    const k = key(h);
    this.latest.set(k, h);
    let s = this.series.get(k);
    if (!s) this.series.set(k, (s = []));
    s.push(hpaPoint(h, Date.now()));
    const cutoff = Date.now() - this.windowMs;
    while (s.length && s[0]!.t < cutoff) s.shift();
  }
}

const key = (h: KubeObject) => `${h.metadata.namespace}/${h.metadata.name}`;

/** One chart point from an HPA's spec and status. */
export function hpaPoint(h: KubeObject, t: number): HpaPoint {
  const spec = h.spec ?? {};
  const status = h.status ?? {};
  const current: Array<Record<string, any>> = status.currentMetrics ?? [];
  const metrics: HpaPoint['metrics'] = [];
  for (const m of (spec.metrics ?? []) as Array<Record<string, any>>) {
    if (m.type === 'Resource' || m.type === 'ContainerResource') {
      const src = m.type === 'Resource' ? m.resource : m.containerResource;
      const name = String(src?.name ?? '');
      const cur = current.find((c) => c.type === m.type && (c.resource ?? c.containerResource)?.name === name);
      const curVal = (cur?.resource ?? cur?.containerResource)?.current ?? {};
      const target = src?.target ?? {};
      if (target.type === 'Utilization' || target.averageUtilization !== undefined) {
        metrics.push({ name, target: target.averageUtilization, ...(curVal.averageUtilization !== undefined ? { current: curVal.averageUtilization } : {}), unit: '%' });
      } else {
        const unit = name === 'cpu' ? 'cores' : name === 'memory' ? 'bytes' : '';
        const tq = tryParseQuantity(target.averageValue ?? target.value);
        const cq = tryParseQuantity(curVal.averageValue ?? curVal.value);
        metrics.push({ name, ...(tq ? { target: tq.toNumber() } : {}), ...(cq ? { current: cq.toNumber() } : {}), unit });
      }
    } else {
      const name = String(m.pods?.metric?.name ?? m.object?.metric?.name ?? m.external?.metric?.name ?? m.type);
      const t = m.pods?.target ?? m.object?.target ?? m.external?.target ?? {};
      const tq = tryParseQuantity(t.averageValue ?? t.value);
      metrics.push({ name, ...(tq ? { target: tq.toNumber() } : {}), unit: '' });
    }
  }
  return {
    t,
    currentReplicas: status.currentReplicas ?? 0,
    desiredReplicas: status.desiredReplicas ?? 0,
    minReplicas: spec.minReplicas ?? 1,
    maxReplicas: spec.maxReplicas ?? 0,
    metrics,
  };
}
