/**
 * Resource usage (the data behind `kubectl top`, the UI's charts and the autoscaler): every
 * interval, one stats call per running container (in parallel, a few at a time), kept as bounded
 * histories — per container, per pod (sum of its containers) and for the node (sum of its pods):
 * by default 15 minutes at 10 s (cAdvisor's housekeeping interval, which the kubelet's figures
 * come from; at 5 s, sampling 100 pods was a third of an idle app's CPU). CPU in nanocores, memory as working-set bytes (what the kubelet
 * reports and OOM-kills by). Node usage is the sum of this node's pods: several nodes share one
 * machine, so the machine's own figures would say nothing about one of them.
 */
import { log } from '../log.ts';
import type { ContainerRuntime } from '../runtime/runtime.ts';
import type { MetricsOptions } from './types.ts';
import { errorMessage, mapLimit } from './util.ts';

export interface UsageSample {
  /** ms since the epoch. */
  timestamp: number;
  cpuNanoCores: number;
  memoryWorkingSetBytes: number;
}

export interface ContainerUsage extends UsageSample {
  name: string;
}

export interface PodUsage {
  namespace: string;
  name: string;
  /** Latest sample of the pod (sum of its containers). */
  usage: UsageSample;
  containers: ContainerUsage[];
  history: UsageSample[];
  windowMs: number;
}

export interface NodeUsage {
  usage: UsageSample;
  history: UsageSample[];
  windowMs: number;
}

export interface MetricsTarget {
  uid: string;
  namespace: string;
  name: string;
  /** container name → id */
  containers: Map<string, string>;
}

/** A fixed-size ring of (time, cpu, memory) triples. */
export class UsageRing {
  private readonly data: Float64Array;
  private next = 0;
  private count = 0;
  constructor(readonly capacity: number) {
    this.data = new Float64Array(capacity * 3);
  }
  push(s: UsageSample): void {
    const i = this.next * 3;
    this.data[i] = s.timestamp;
    this.data[i + 1] = s.cpuNanoCores;
    this.data[i + 2] = s.memoryWorkingSetBytes;
    this.next = (this.next + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
  }
  last(): UsageSample | undefined {
    if (!this.count) return undefined;
    return this.at((this.next - 1 + this.capacity) % this.capacity);
  }
  toArray(): UsageSample[] {
    const out: UsageSample[] = [];
    const start = (this.next - this.count + this.capacity) % this.capacity;
    for (let k = 0; k < this.count; k++) out.push(this.at((start + k) % this.capacity));
    return out;
  }
  private at(slot: number): UsageSample {
    const i = slot * 3;
    return { timestamp: this.data[i]!, cpuNanoCores: this.data[i + 1]!, memoryWorkingSetBytes: this.data[i + 2]! };
  }
}

interface PodSeries {
  namespace: string;
  name: string;
  ring: UsageRing;
  containers: Map<string, { ring: UsageRing; id: string }>;
}

export class MetricsCollector {
  readonly intervalMs: number;
  readonly windowMs: number;
  private readonly concurrency: number;
  private readonly capacity: number;
  private readonly pods = new Map<string, PodSeries>();
  private readonly node: UsageRing;
  private timer?: NodeJS.Timeout;
  private sampling?: Promise<void>;

  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly targets: () => MetricsTarget[],
    opts: MetricsOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 10_000;
    this.windowMs = opts.windowMs ?? 15 * 60_000;
    this.concurrency = opts.concurrency ?? 4;
    this.capacity = Math.max(2, Math.ceil(this.windowMs / this.intervalMs) + 1);
    this.node = new UsageRing(this.capacity);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
    this.timer.unref?.();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.sampling;
  }

  /** Takes one sample now (also what the timer does); concurrent calls share one run. */
  sample(): Promise<void> {
    this.sampling ??= this.run().finally(() => {
      this.sampling = undefined;
    });
    return this.sampling;
  }

  podUsage(namespace: string, name: string): PodUsage | undefined {
    const p = [...this.pods.values()].find((x) => x.namespace === namespace && x.name === name);
    const usage = p?.ring.last();
    if (!p || !usage) return undefined;
    const containers: ContainerUsage[] = [];
    for (const [cname, c] of p.containers) {
      const last = c.ring.last();
      if (last) containers.push({ name: cname, ...last });
    }
    return { namespace, name, usage, containers, history: p.ring.toArray(), windowMs: this.windowMs };
  }

  containerHistory(namespace: string, pod: string, container: string): UsageSample[] {
    const p = [...this.pods.values()].find((x) => x.namespace === namespace && x.name === pod);
    return p?.containers.get(container)?.ring.toArray() ?? [];
  }

  nodeUsage(): NodeUsage {
    return { usage: this.node.last() ?? { timestamp: Date.now(), cpuNanoCores: 0, memoryWorkingSetBytes: 0 }, history: this.node.toArray(), windowMs: this.windowMs };
  }

  /** When the newest sample was taken (ms since the epoch), 0 before the first. */
  lastSampleAt(): number {
    return this.node.last()?.timestamp ?? 0;
  }

  forget(uid: string): void {
    this.pods.delete(uid);
  }

  private async run(): Promise<void> {
    const targets = this.targets();
    const jobs: Array<{ t: MetricsTarget; name: string; id: string }> = [];
    for (const t of targets) for (const [name, id] of t.containers) jobs.push({ t, name, id });
    const results = await mapLimit(jobs, this.concurrency, async (j) => {
      try {
        return await this.runtime.containerStats(j.id, { usageOnly: true });
      } catch (err) {
        log.debug('stats failed', { container: j.id, error: errorMessage(err) });
        return undefined;
      }
    });
    const now = Date.now();
    const live = new Set(targets.map((t) => t.uid));
    for (const uid of this.pods.keys()) if (!live.has(uid)) this.pods.delete(uid);
    const podSums = new Map<string, UsageSample>();
    jobs.forEach((j, k) => {
      const st = results[k];
      if (!st) return;
      let p = this.pods.get(j.t.uid);
      if (!p) this.pods.set(j.t.uid, (p = { namespace: j.t.namespace, name: j.t.name, ring: new UsageRing(this.capacity), containers: new Map() }));
      let c = p.containers.get(j.name);
      if (!c || c.id !== j.id) {
        const ring = c?.ring ?? new UsageRing(this.capacity);
        p.containers.set(j.name, (c = { ring, id: j.id }));
      }
      const s = { timestamp: now, cpuNanoCores: st.cpuNanoCores, memoryWorkingSetBytes: st.memoryWorkingSetBytes };
      c.ring.push(s);
      const sum = podSums.get(j.t.uid) ?? { timestamp: now, cpuNanoCores: 0, memoryWorkingSetBytes: 0 };
      sum.cpuNanoCores += s.cpuNanoCores;
      sum.memoryWorkingSetBytes += s.memoryWorkingSetBytes;
      podSums.set(j.t.uid, sum);
    });
    const total = { timestamp: now, cpuNanoCores: 0, memoryWorkingSetBytes: 0 };
    for (const [uid, s] of podSums) {
      this.pods.get(uid)!.ring.push(s);
      total.cpuNanoCores += s.cpuNanoCores;
      total.memoryWorkingSetBytes += s.memoryWorkingSetBytes;
    }
    this.node.push(total);
  }
}
