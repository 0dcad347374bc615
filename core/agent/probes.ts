/**
 * Probe workers (the kubelet's prober manager): one per running container and probe type.
 * The first probe runs `initialDelaySeconds` after the container started, then every
 * `periodSeconds` (runs due about together share one timer); a result only flips after
 * `failureThreshold` failures / `successThreshold` successes in a row. Until the startup probe
 * succeeds, liveness and readiness are not run. Initial results as the kubelet's: readiness
 * Failure (not ready until proven), liveness Success, startup Unknown. Every failed run records
 * `Unhealthy` ("Liveness probe failed: …"); a flipped result asks for a pod sync, which
 * restarts a container whose liveness/startup probe failed.
 */
import type * as k8s from 'kubernetes-types/core/v1.js';
import { runProbe } from './probe-runners.ts';
import type { AgentContext } from './types.ts';
import { asObject, fieldPathOf, type ContainerKind, type Pod } from './util.ts';

export type ProbeType = 'liveness' | 'readiness' | 'startup';
type Result = 'success' | 'failure' | 'unknown';

const TITLE: Record<ProbeType, string> = { liveness: 'Liveness', readiness: 'Readiness', startup: 'Startup' };

interface Worker {
  uid: string;
  type: ProbeType;
  containerId: string;
  spec: k8s.Container;
  kind: ContainerKind;
  probe: k8s.Probe;
  pod: Pod;
  podIP?: string;
  timer?: NodeJS.Timeout;
  /** The shared slot its next run waits in (periodic runs). */
  slot?: number;
  /** When the current (or last) run was due: the next is due a period later (a ticker, as the kubelet's). */
  due?: number;
  stopped: boolean;
  result: Result;
  lastRun?: 'success' | 'failure';
  runLength: number;
  onHold: boolean;
}

export interface RunningContainer {
  spec: k8s.Container;
  kind: ContainerKind;
  id: string;
  startedAt: number;
}

/** Periodic runs are gathered into shared slots at most this far apart (see `scheduleRun`). */
const SLOT_MS = 1_000;

export class ProbeManager {
  private readonly workers = new Map<string, Worker>();
  /** Due time → the workers whose next periodic run is then, and the one timer for them all. */
  private readonly slots = new Map<number, { timer: NodeJS.Timeout; workers: Set<Worker> }>();

  constructor(
    private readonly ctx: AgentContext,
    private readonly onChange: (uid: string) => void,
  ) {}

  /** Workers for a pod's running containers; workers of other (exited, replaced) containers stop. */
  sync(pod: Pod, podIP: string | undefined, running: RunningContainer[]): void {
    const uid = pod.metadata.uid!;
    const want = new Set<string>();
    for (const r of running) {
      for (const type of ['startup', 'liveness', 'readiness'] as const) {
        const probe = r.spec[`${type}Probe`];
        if (!probe) continue;
        const key = `${r.id}/${type}`;
        want.add(key);
        const w = this.workers.get(key);
        if (w) {
          w.pod = pod;
          w.podIP = podIP;
          continue;
        }
        this.start({
          uid,
          type,
          containerId: r.id,
          spec: r.spec,
          kind: r.kind,
          probe,
          pod,
          podIP,
          stopped: false,
          result: type === 'readiness' ? 'failure' : type === 'liveness' ? 'success' : 'unknown',
          runLength: 0,
          onHold: false,
        }, key, r.startedAt);
      }
    }
    for (const [key, w] of this.workers) if (w.uid === uid && !want.has(key)) this.stopWorker(key, w);
  }

  removePod(uid: string): void {
    for (const [key, w] of this.workers) if (w.uid === uid) this.stopWorker(key, w);
  }

  stop(): void {
    for (const [key, w] of this.workers) this.stopWorker(key, w);
  }

  /** Whether the container's startup probe has succeeded (true without one). */
  started(containerId: string, spec: k8s.Container): boolean {
    if (!spec.startupProbe) return true;
    return this.workers.get(`${containerId}/startup`)?.result === 'success';
  }

  /** Whether the container is ready by its readiness probe (true without one, once started). */
  ready(containerId: string, spec: k8s.Container): boolean {
    if (!this.started(containerId, spec)) return false;
    if (!spec.readinessProbe) return true;
    return this.workers.get(`${containerId}/readiness`)?.result === 'success';
  }

  /** The probe that wants this container restarted, if any. */
  failed(containerId: string): 'liveness' | 'startup' | undefined {
    if (this.workers.get(`${containerId}/startup`)?.result === 'failure') return 'startup';
    if (this.workers.get(`${containerId}/liveness`)?.result === 'failure') return 'liveness';
    return undefined;
  }

  get size(): number {
    return this.workers.size;
  }

  private start(w: Worker, key: string, startedAt: number): void {
    this.workers.set(key, w);
    const due = startedAt + (w.probe.initialDelaySeconds ?? 0) * 1000;
    w.due = Math.max(due, Date.now());
    this.schedule(w, w.due - Date.now());
  }

  /** The first run, at its exact time: a new container's readiness is not delayed. */
  private schedule(w: Worker, delayMs: number): void {
    if (w.stopped) return;
    w.timer = setTimeout(() => void this.tick(w), delayMs);
    w.timer.unref?.();
  }

  /**
   * A periodic run, in a slot shared with the other runs due about then: rounded up to a multiple
   * of a tenth of the period (at most 1 s). With 100 pods probed every 10 s, ten probes wake the
   * process together instead of one each, on a warm CPU: an idle app's probing costs about a
   * half less. Runs are due a period after the previous one was due (not after it finished: a
   * ticker, as the kubelet's), so only the first periodic run is late, by less than a tenth of
   * the period; a run that took longer than its period is followed at once.
   */
  private scheduleRun(w: Worker, period: number): void {
    if (w.stopped) return;
    const q = Math.max(1, Math.min(SLOT_MS, Math.floor(period / 10)));
    const next = Math.max((w.due ?? Date.now()) + period, Date.now());
    const at = Math.ceil(next / q) * q;
    let slot = this.slots.get(at);
    if (!slot) {
      const timer = setTimeout(() => this.runSlot(at), Math.max(0, at - Date.now()));
      timer.unref?.();
      slot = { timer, workers: new Set() };
      this.slots.set(at, slot);
    }
    slot.workers.add(w);
    w.slot = at;
  }

  private runSlot(at: number): void {
    const slot = this.slots.get(at);
    this.slots.delete(at);
    for (const w of slot?.workers ?? []) {
      w.slot = undefined;
      w.due = at;
      void this.tick(w);
    }
  }

  private stopWorker(key: string, w: Worker): void {
    w.stopped = true;
    if (w.timer) clearTimeout(w.timer);
    if (w.slot !== undefined) {
      const slot = this.slots.get(w.slot);
      slot?.workers.delete(w);
      if (slot && !slot.workers.size) {
        clearTimeout(slot.timer);
        this.slots.delete(w.slot);
      }
      w.slot = undefined;
    }
    this.workers.delete(key);
  }

  /** Pending periodic-run slots (tests). */
  get pendingSlots(): number {
    return this.slots.size;
  }

  private async tick(w: Worker): Promise<void> {
    const period = (w.probe.periodSeconds || 10) * 1000;
    try {
      if (w.onHold || (w.type === 'startup' && w.result === 'success')) return;
      if (w.type !== 'startup' && !this.started(w.containerId, w.spec)) return;
      const out = await runProbe(w.probe, { runtime: this.ctx.runtime, containerId: w.containerId, container: w.spec, podIP: w.podIP });
      if (w.stopped) return;
      const run = out.result === 'success' ? 'success' : 'failure';
      if (run === 'failure') {
        const verb = out.result === 'error' ? 'errored' : 'failed';
        this.ctx.recorder.event(asObject(w.pod), 'Warning', 'Unhealthy', `${TITLE[w.type]} probe ${verb}: ${out.output}`, fieldPathOf(w.kind, w.spec.name));
      }
      w.runLength = w.lastRun === run ? w.runLength + 1 : 1;
      w.lastRun = run;
      const threshold = run === 'failure' ? (w.probe.failureThreshold || 3) : (w.probe.successThreshold || 1);
      if (w.runLength < threshold || w.result === run) return;
      w.result = run;
      if (run === 'failure' && w.type !== 'readiness') {
        w.onHold = true; // until the container is replaced (a new id → a new worker)
        w.runLength = 0;
      }
      this.onChange(w.uid);
    } finally {
      this.scheduleRun(w, period);
    }
  }
}
