/**
 * The scheduler: kube-scheduler's loop over the framework.
 *
 * Informers keep the cache (nodes, bound and assumed pods) and the queue (pending pods with
 * `schedulerName: default-scheduler`, or none) current. The loop pops the highest-priority pod and
 * runs one synchronous scheduling cycle against the cache — PreFilter, Filter, PreScore, Score,
 * NormalizeScore, select — then *assumes* the pod on the chosen node and binds it asynchronously
 * (pods/binding), so the next cycle already counts it; a failed binding forgets it again. A pod
 * that fits nowhere may preempt lower-priority pods (DefaultPreemption), gets PodScheduled=False
 * with kube-scheduler's aggregated message and a FailedScheduling event, and waits in the
 * unschedulable pool until a cluster event may help it.
 */
import { isDeepStrictEqual } from 'node:util';
import { isApiError } from '../api/errors.ts';
import type { KubeObject } from '../api/types.ts';
import type { Client } from '../client/client.ts';
import { EventRecorder } from '../client/event-recorder.ts';
import { InformerFactory, keyOf, type Informer } from '../controllers/informer.ts';
import { log } from '../log.ts';
import { SchedulerCache } from './cache.ts';
import { CycleState, ERR_NO_NODES, type ClusterEvent, type Listers } from './framework.ts';
import { DefaultPreemption, type PreemptionPlan } from './preemption.ts';
import type { PodInfo } from './pod-info.ts';
import { priorityResolver } from './priority.ts';
import { defaultProfile, DEFAULT_SCHEDULER_NAME, type Profile } from './profile.ts';
import { SchedulingQueue, type QueueOptions, type QueuedPodInfo } from './queue.ts';
import { diagnosisMessage, Framework, type ScheduleResult } from './runtime.ts';
import { PodStatusWriter } from './status-writer.ts';
import { nodeEvents } from './node-events.ts';

export interface SchedulerOptions {
  client: Client;
  /** Events (Scheduled, FailedScheduling, Preempted); default: a recorder as `default-scheduler`. */
  recorder?: EventRecorder | null;
  profile?: Profile;
  /** Clock for condition timestamps. */
  now?: () => Date;
  /** Tie-breaking among equally good nodes and the preemption offset (tests pass a seeded one). */
  random?: () => number;
  /** Backoff and flush timings (Kubernetes defaults: 1 s doubling to 10 s; 5 min; 30 s). */
  queue?: Omit<QueueOptions, 'maybeSchedulable'>;
  /** How long the loop schedules before yielding to I/O (default 5 ms). */
  sliceMs?: number;
}

const isAssigned = (pod: KubeObject) => !!pod.spec?.nodeName;
const isTerminal = (pod: KubeObject) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

export class Scheduler {
  readonly cache: SchedulerCache;
  readonly queue: SchedulingQueue;
  readonly framework: Framework;
  readonly profile: Profile;
  private readonly client: Client;
  private readonly recorder: EventRecorder | null;
  private readonly informers: InformerFactory;
  private readonly pods: Informer;
  private readonly listerInformers: Informer[];
  private readonly preemption: DefaultPreemption;
  private readonly status: PodStatusWriter;
  private readonly sliceMs: number;
  private globalDefaultClass: KubeObject | undefined;
  private running = false;
  private cycles = 0;
  private inflight = 0;
  private idleWaiters: Array<() => void> = [];
  private loopDone: Promise<void> = Promise.resolve();

  constructor(opts: SchedulerOptions) {
    this.client = opts.client;
    this.profile = opts.profile ?? defaultProfile();
    this.recorder = opts.recorder === undefined ? new EventRecorder(opts.client, { component: this.profile.schedulerName }) : opts.recorder;
    this.sliceMs = opts.sliceMs ?? 5;
    const random = opts.random ?? Math.random;
    this.informers = new InformerFactory(opts.client);
    const inf = (apiVersion: string, kind: string) => this.informers.for({ apiVersion, kind });
    this.pods = inf('v1', 'Pod');
    const nodes = inf('v1', 'Node');
    const pvcs = inf('v1', 'PersistentVolumeClaim');
    const pvs = inf('v1', 'PersistentVolume');
    const classes = inf('scheduling.k8s.io/v1', 'PriorityClass');
    const namespaces = inf('v1', 'Namespace');
    const services = inf('v1', 'Service');
    const replicaSets = inf('apps/v1', 'ReplicaSet');
    const statefulSets = inf('apps/v1', 'StatefulSet');
    services.addIndex('namespace', (o) => [o.metadata.namespace ?? '']);
    this.listerInformers = [nodes, pvcs, pvs, classes, namespaces, services, replicaSets, statefulSets];

    this.cache = new SchedulerCache(
      priorityResolver({ get: (name) => classes.get(name), globalDefault: () => this.globalDefaultClass }),
    );
    const listers: Listers = {
      pvc: (ns, name) => pvcs.get(`${ns}/${name}`),
      pv: (name) => pvs.get(name),
      namespaceLabels: (ns) => namespaces.get(ns)?.metadata.labels as Record<string, string> | undefined,
      services: (ns) => services.byIndex('namespace', ns),
      controller: (kind, ns, name) => (kind === 'ReplicaSet' ? replicaSets : kind === 'StatefulSet' ? statefulSets : undefined)?.get(`${ns}/${name}`),
    };
    this.framework = new Framework(this.profile, { cache: this.cache, listers, client: opts.client }, random);
    this.queue = new SchedulingQueue({
      ...opts.queue,
      maybeSchedulable: (q, event, o, n) => this.framework.podMaybeSchedulable(q.pi, q.unschedulablePlugins, event, o, n),
    });
    this.preemption = new DefaultPreemption(this.framework, this.cache, this.queue.nominator, random);
    this.status = new PodStatusWriter(opts.client, this.pods, opts.now ?? (() => new Date()));

    this.pods.addHandlers({
      onAdd: (p) => this.podAdded(p),
      onUpdate: (o, p) => this.podUpdated(o, p),
      onDelete: (p) => this.podDeleted(p),
    });
    nodes.addHandlers({
      onAdd: (n) => {
        this.cache.addNode(n);
        this.move('NodeAdd', undefined, n);
      },
      onUpdate: (o, n) => {
        this.cache.addNode(n);
        for (const ev of nodeEvents(o, n)) this.move(ev, o, n);
      },
      onDelete: (n) => {
        this.cache.removeNode(n);
        this.move('NodeDelete', n, undefined);
      },
    });
    pvcs.addHandlers({ onAdd: (o) => this.move('PvcAdd', undefined, o), onUpdate: (a, b) => this.move('PvcUpdate', a, b) });
    pvs.addHandlers({ onAdd: (o) => this.move('PvAdd', undefined, o), onUpdate: (a, b) => this.move('PvUpdate', a, b) });
    const trackDefault = () => {
      this.globalDefaultClass = classes.list().find((c) => c.globalDefault === true);
    };
    classes.addHandlers({ onAdd: trackDefault, onUpdate: trackDefault, onDelete: trackDefault });
  }

  /** Start the informers (waits for their first list) and the scheduling loop. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    // Everything pods are resolved against (priority classes, nodes, claims …) first, then pods.
    await Promise.all(this.listerInformers.map((i) => i.start()));
    await this.pods.start();
    if (!this.running) return;
    this.loopDone = this.loop();
    log.info('scheduler started', { profile: this.profile.schedulerName, nodes: this.cache.numNodes });
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.queue.close();
    this.informers.stop();
    for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Resolves once the loop has stopped (after stop()). */
  stopped(): Promise<void> {
    return this.loopDone;
  }

  /** Resolves when no pod is ready to schedule and no binding or status write is in flight. */
  idle(): Promise<void> {
    if (this.isIdle()) return this.status.idle();
    return new Promise<void>((r) => this.idleWaiters.push(r)).then(() => this.status.idle());
  }

  /** Scheduling cycles run so far (diagnostics, benchmarks). */
  get cycleCount(): number {
    return this.cycles;
  }

  private isIdle(): boolean {
    return !this.running || (this.queue.lengths.active === 0 && this.inflight === 0);
  }

  private checkIdle(): void {
    if (this.idleWaiters.length && this.isIdle()) for (const w of this.idleWaiters.splice(0)) w();
  }

  // ---- informer events -----------------------------------------------------------------------

  private responsible(pod: KubeObject): boolean {
    return (pod.spec?.schedulerName || DEFAULT_SCHEDULER_NAME) === this.profile.schedulerName && !pod.metadata.deletionTimestamp && !isTerminal(pod);
  }

  private move(event: ClusterEvent, oldObj?: KubeObject, newObj?: KubeObject): void {
    this.queue.moveAllToActiveOrBackoff(event, oldObj, newObj);
  }

  private podAdded(pod: KubeObject): void {
    if (isAssigned(pod)) {
      if (isTerminal(pod)) return;
      this.cache.addPod(pod);
      this.queue.nominator.remove(keyOf(pod));
      this.move('AssignedPodAdd', undefined, pod);
      return;
    }
    if (this.responsible(pod)) this.queue.add(this.cache.podInfo(pod));
  }

  private podUpdated(old: KubeObject, pod: KubeObject): void {
    const key = keyOf(pod);
    if (isAssigned(pod)) {
      if (!isAssigned(old)) {
        this.queue.delete(key);
        if (this.cache.confirmBinding(pod, old)) {
          this.move('AssignedPodAdd', undefined, pod);
          return;
        }
      }
      if (isTerminal(pod)) {
        if (this.cache.removePod(pod)) this.move('AssignedPodDelete', old, undefined);
        return;
      }
      const before = this.cache.getPod(key);
      const pi = this.cache.addPod(pod);
      if (!isAssigned(old)) this.move('AssignedPodAdd', undefined, pod);
      else if (!before || !isDeepStrictEqual(before.labels, pi.labels) || before.requests.milliCpu > pi.requests.milliCpu || before.requests.memory > pi.requests.memory) {
        this.move('AssignedPodUpdate', old, pod);
      }
      return;
    }
    if (!this.responsible(pod)) {
      this.queue.delete(key);
      return;
    }
    if (this.cache.isAssumed(key)) return; // its binding is in flight
    const meaningful = !isDeepStrictEqual(old.spec, pod.spec) || !isDeepStrictEqual(old.metadata.labels, pod.metadata.labels);
    this.queue.update(this.cache.podInfo(pod), meaningful);
  }

  private podDeleted(pod: KubeObject): void {
    const key = keyOf(pod);
    this.queue.delete(key);
    if (this.cache.removePod(pod)) this.move('AssignedPodDelete', pod, undefined);
  }

  // ---- the loop ------------------------------------------------------------------------------

  private async loop(): Promise<void> {
    let slice = performance.now();
    while (this.running) {
      const q = this.queue.pop();
      if (!q) {
        this.checkIdle();
        await this.queue.wait();
        slice = performance.now();
        continue;
      }
      try {
        this.scheduleOne(q);
      } catch (e) {
        log.error('scheduling cycle failed', { pod: q.pi.key, error: (e as Error).stack ?? String(e) });
        this.queue.addUnschedulable(q, new Set(), true);
      }
      if (performance.now() - slice > this.sliceMs) {
        await new Promise<void>((r) => setImmediate(r));
        slice = performance.now();
      }
    }
  }

  private scheduleOne(q: QueuedPodInfo): void {
    const pi = q.pi;
    const live = this.pods.get(pi.key);
    if (!live || isAssigned(live) || live.metadata.deletionTimestamp || this.cache.isAssumed(pi.key)) return;
    this.cycles++;
    const state = new CycleState();
    const nominatedNode = this.queue.nominator.nodeOf(pi.key) ?? live.status?.nominatedNodeName;
    const result = this.framework.schedule(state, pi, this.cache.nodeList(), this.queue.nominator, nominatedNode);
    if (result.ok) {
      this.assumeAndBind(q, result.node.name);
      return;
    }
    this.fail(q, state, result, nominatedNode);
  }

  private fail(q: QueuedPodInfo, state: CycleState, result: Extract<ScheduleResult, { ok: false }>, nominatedNode: string | undefined): void {
    const pi = q.pi;
    if (result.error) {
      const noNodes = result.error === ERR_NO_NODES;
      this.queue.addUnschedulable(q, new Set(), true);
      this.reportFailure(pi, noNodes ? 'Unschedulable' : 'SchedulerError', result.error, noNodes ? '' : undefined);
      return;
    }
    const d = result.diagnosis;
    let postFilterMsg = '';
    let nominate: string | undefined;
    if (this.profile.preemption) {
      const r = this.preemption.preempt(state, pi, d, nominatedNode);
      postFilterMsg = r.message;
      nominate = r.nominatedNode;
      if (r.plan) void this.track(this.executePreemption(pi, r.plan));
    }
    if (nominate) this.queue.nominator.add(pi, nominate);
    else if (nominate === '') this.queue.nominator.remove(pi.key);
    this.queue.addUnschedulable(q, d.unschedulablePlugins);
    this.reportFailure(pi, 'Unschedulable', diagnosisMessage(d, postFilterMsg), nominate);
  }

  private reportFailure(pi: PodInfo, reason: string, message: string, nominate: string | undefined): void {
    log.debug('pod unschedulable', { pod: pi.key, reason, message });
    this.recorder?.event(pi.pod, 'Warning', 'FailedScheduling', message);
    this.status.setScheduledFalse(pi.namespace, pi.name, reason, message, nominate);
  }

  private assumeAndBind(q: QueuedPodInfo, nodeName: string): void {
    const pi = q.pi;
    this.cache.assumePod(pi, nodeName);
    this.queue.nominator.remove(pi.key);
    void this.track(this.bind(q, nodeName));
  }

  private async track(p: Promise<void>): Promise<void> {
    this.inflight++;
    try {
      await p;
    } finally {
      this.inflight--;
      this.checkIdle();
    }
  }

  private async bind(q: QueuedPodInfo, nodeName: string): Promise<void> {
    const pi = q.pi;
    try {
      for (const p of this.framework.plugins) if (p.preBind) await p.preBind(pi, nodeName);
      await this.client.bind({ namespace: pi.namespace, name: pi.name }, nodeName);
      this.cache.finishBinding(pi.key);
      this.recorder?.event(pi.pod, 'Normal', 'Scheduled', `Successfully assigned ${pi.namespace}/${pi.name} to ${nodeName}`);
    } catch (e) {
      if (this.cache.forgetPod(pi.key)) this.move('AssignedPodDelete', pi.pod, undefined);
      if (!this.running || isApiError(e, 'NotFound')) return;
      if (isApiError(e, 'Conflict') && /already assigned|being deleted/.test((e as Error).message)) return;
      log.warn('binding failed; retrying with backoff', { pod: pi.key, node: nodeName, error: (e as Error).message });
      const live = this.pods.get(pi.key);
      if (live && !isAssigned(live)) {
        this.queue.addUnschedulable(q, new Set(), true);
        this.reportFailure(pi, 'SchedulerError', `running Bind plugin "DefaultBinder": ${(e as Error).message}`, undefined);
      }
    }
  }

  /** Carry out a preemption plan: mark and delete the victims, clear lower nominations. */
  private async executePreemption(preemptor: PodInfo, plan: PreemptionPlan): Promise<void> {
    const message = `${this.profile.schedulerName}: preempting to accommodate a higher priority pod`;
    await Promise.all(
      plan.victims.map(async (v) => {
        if (v.terminating) return; // already going
        try {
          await this.status.setCondition(v.namespace, v.name, { type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler', message });
          await this.client.delete({ apiVersion: 'v1', kind: 'Pod', namespace: v.namespace, name: v.name }, { preconditions: { uid: v.uid } });
          this.recorder?.event(v.pod, 'Normal', 'Preempted', `Preempted by pod ${preemptor.uid} on node ${plan.node}`);
          log.info('preempted pod', { victim: v.key, preemptor: preemptor.key, node: plan.node });
        } catch (e) {
          if (!isApiError(e, 'NotFound')) log.warn('could not preempt pod', { victim: v.key, preemptor: preemptor.key, error: (e as Error).message });
        }
      }),
    );
    for (const p of plan.lowerNominated) {
      this.queue.nominator.remove(p.key);
      this.status.clearNominatedNode(p.namespace, p.name);
      this.queue.activate([p.key]);
    }
  }
}
