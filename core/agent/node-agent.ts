/**
 * The node agent (Wheelhouse's kubelet): one per Node, several per process, all on the local
 * Docker engine. It registers its Node and heartbeats a Lease, runs the pods bound to it (an
 * informer on `spec.nodeName=<node>`), reacts to the engine's events (die, oom, destroy) within
 * milliseconds and resyncs every pod periodically as a safety net, adopts what it finds at start,
 * samples usage, and serves logs and exec. Every Docker object it touches carries its
 * cluster+node labels, so agents never step on each other.
 *
 *   const agent = new NodeAgent({ client, runtime, nodeName: 'node-1', cluster: 'dev', dataDir });
 *   await agent.start();   … await agent.stop();   // containers keep running; adopted next start
 *   await agent.remove();  // also removes this node's containers and its Node object
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { EventRecorder } from '../client/event-recorder.ts';
import { Informer } from '../controllers/informer.ts';
import { log } from '../log.ts';
import { LABEL, RuntimeUnavailableError, type ExecSession, type LogLine } from '../runtime/runtime.ts';
import { adopt } from './adoption.ts';
import { Backoff } from './backoff.ts';
import { SourceInformers } from './config-sources.ts';
import { ImageManager, type ImagePullState, type PullProgressEvent } from './images.ts';
import { LogsExec, type PodExecOptions, type PodLogOptions } from './logs-exec.ts';
import { MetricsCollector } from './metrics.ts';
import { NodeStatusReporter } from './node-status.ts';
import { PodSyncer } from './pod-sync.ts';
import { PodWorkers } from './pod-workers.ts';
import { ProbeManager } from './probes.ts';
import type { AgentContext, NodeAgentOptions } from './types.ts';
import { PodRegistry } from './pod-registry.ts';
import { resolveOptions } from './agent-options.ts';
import { VolumeManager } from './volumes.ts';
import { dockerSafe, errorMessage } from './util.ts';
import { runtimeFingerprint } from './pod-runtime.ts';
import { Reaper } from './reaper.ts';

export type { NodeAgentOptions } from './types.ts';

export class NodeAgent {
  readonly nodeName: string;
  readonly cluster: string;
  readonly network: string;
  readonly dataDir: string;
  readonly metrics: MetricsCollector;
  private readonly ctx: AgentContext;
  private readonly pods: PodRegistry;
  private readonly sources: SourceInformers;
  private readonly podInformer: Informer;
  private readonly images: ImageManager;
  private readonly volumes: VolumeManager;
  private readonly probes: ProbeManager;
  readonly reaper: Reaper;
  private readonly restarts: Backoff;
  private readonly workers: PodWorkers;
  private readonly syncer: PodSyncer;
  private readonly nodeStatus: NodeStatusReporter;
  private readonly logsExec: LogsExec;
  private readonly metricsEnabled: boolean;
  private cleanups: Array<() => void> = [];
  private imageRefresh?: NodeJS.Timeout;
  private running = false;
  private stopped = false;
  /** The first adoption scan is done: pods bound from now on have nothing in the runtime yet. */
  private adopted = false;

  constructor(private readonly opts: NodeAgentOptions) {
    this.nodeName = opts.nodeName;
    this.cluster = opts.cluster;
    this.network = opts.network ?? `wheelhouse-${dockerSafe(opts.cluster)}`;
    this.dataDir = join(opts.dataDir);
    const { capacity, allocatable, resolved } = resolveOptions(opts);
    this.nodeStatus = new NodeStatusReporter({
      client: opts.client,
      runtime: opts.runtime,
      nodeName: opts.nodeName,
      dataDir: this.dataDir,
      capacity,
      allocatable,
      labels: opts.labels ?? {},
      taints: opts.taints ?? [],
      opts: resolved,
    });
    this.pods = new PodRegistry((uid) => this.enqueue(uid), () => this.adopted);
    this.sources = new SourceInformers(opts.client, (kind, ns, name) => this.pods.onSourceChange(`${kind}/${ns}/${name}`));
    this.ctx = {
      client: opts.client,
      runtime: opts.runtime,
      nodeName: opts.nodeName,
      cluster: opts.cluster,
      network: this.network,
      dataDir: this.dataDir,
      recorder: new EventRecorder(opts.client, { component: 'kubelet', host: opts.nodeName }),
      opts: resolved,
      sources: this.sources,
      hostIP: () => this.nodeStatus.hostIP,
      allocatable: () => allocatable,
    };
    this.images = new ImageManager(this.ctx, opts.imagePullBackoff);
    this.volumes = new VolumeManager(this.ctx);
    this.restarts = new Backoff(opts.restartBackoff);
    // While the engine is known to be away, syncs would only fail: they wait for it to come back
    // (onAvailability resyncs everything; so does the periodic resync once the engine answers).
    // A sync that finds it gone is not an error to back off from for the same reason: backing
    // off built up to 30 s of delay per pod over a few engine restarts.
    this.workers = new PodWorkers(
      (uid) =>
        this.nodeStatus.ready
          ? this.syncer.sync(uid).catch((err) => {
              if (!(err instanceof RuntimeUnavailableError)) throw err;
            })
          : Promise.resolve(),
      { maxConcurrent: opts.maxConcurrentSyncs ?? 16 },
    );
    this.probes = new ProbeManager(this.ctx, (uid) => this.enqueue(uid));
    this.reaper = new Reaper(opts.runtime, () => !this.workers.isIdle());
    this.syncer = new PodSyncer({
      reaper: this.reaper,
      ctx: this.ctx,
      images: this.images,
      volumes: this.volumes,
      probes: this.probes,
      restarts: this.restarts,
      states: this.pods.states,
      requeue: (uid, ms) => this.enqueue(uid, ms),
      forget: (uid) => this.forget(uid),
    });
    this.podInformer = new Informer(opts.client, { apiVersion: 'v1', kind: 'Pod' }, { fieldSelector: `spec.nodeName=${opts.nodeName}` });
    this.podInformer.addHandlers({
      onAdd: (o) => this.pods.onPod(o),
      onUpdate: (old, o) => this.pods.onPod(o, old),
      onDelete: (o) => this.pods.onPodDeleted(o),
    });
    this.metricsEnabled = opts.metrics !== false;
    this.metrics = new MetricsCollector(opts.runtime, () => this.pods.metricsTargets(), opts.metrics || {});
    this.logsExec = new LogsExec(this.ctx, (ns, name) => this.pods.find(ns, name));
  }

  /** Registers the Node, adopts what this node already runs, and starts running its pods. */
  async start(): Promise<void> {
    if (this.running) return;
    if (this.stopped) throw new Error(`node agent ${this.nodeName} was stopped; start a new NodeAgent instead (it adopts the running pods)`);
    this.running = true;
    await mkdir(this.dataDir, { recursive: true });
    const engineUp = await this.ensureNetwork();
    await this.nodeStatus.register();
    await Promise.all([this.sources.start(), this.podInformer.start()]);
    if (engineUp) this.adopted = await this.adopt();
    const { runtime } = this.opts;
    this.cleanups.push(
      // Not 'destroy': a running container dies first, and removing dead ones (the reaper's
      // work) changes no pod's status; the relist notices anything else within its period.
      runtime.events((e) => this.onRuntimeEvent(e.labels[LABEL.podUid]), {
        types: ['container'],
        actions: ['die', 'oom'],
        cluster: this.cluster,
        node: this.nodeName,
      }),
      runtime.events(
        () => {
          this.images.invalidate();
          this.scheduleImageRefresh();
        },
        { types: ['image'], actions: ['pull', 'delete', 'tag', 'untag', 'load', 'import'] },
      ),
      runtime.onAvailabilityChange((up, err) => this.onAvailability(up, err?.message)),
    );
    this.scheduleRelist(this.ctx.opts.resyncIntervalMs);
    this.cleanups.push(() => clearTimeout(this.relistTimer));
    this.nodeStatus.start();
    if (this.metricsEnabled) this.metrics.start();
    this.resyncAll();
    log.info('node agent started', { node: this.nodeName, cluster: this.cluster, pods: this.pods.states.size });
  }

  /** Stops the agent; pods' containers keep running (a new agent adopts them). */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.stopped = true;
    for (const c of this.cleanups.splice(0)) c();
    if (this.imageRefresh) clearTimeout(this.imageRefresh);
    this.nodeStatus.stop();
    this.reaper.stop();
    this.podInformer.stop();
    this.sources.stop();
    this.probes.stop();
    await this.metrics.stop();
    await this.workers.stop();
    await this.ctx.recorder.flush();
    log.info('node agent stopped', { node: this.nodeName, cluster: this.cluster });
  }

  /** Stops the agent and removes this node: its containers, sandboxes, folders, Lease and Node. */
  async remove(): Promise<void> {
    await this.stop();
    const { runtime } = this.opts;
    const [sandboxes, containers] = await Promise.all([
      runtime.listPodSandboxes({ cluster: this.cluster, node: this.nodeName }),
      runtime.listContainers({ cluster: this.cluster, node: this.nodeName }),
    ]);
    await Promise.all(sandboxes.map((s) => runtime.removePodSandbox(s.id)));
    await Promise.all(containers.map((c) => runtime.removeContainer(c.id)));
    await rm(join(this.dataDir, 'pods'), { recursive: true, force: true });
    await this.volumes.cleanupOrphans(() => false);
    await this.nodeStatus.remove();
  }

  logs(namespace: string, pod: string, container: string | undefined, opts?: PodLogOptions): Promise<AsyncIterable<LogLine>> {
    return this.logsExec.logs(namespace, pod, container, opts);
  }

  exec(namespace: string, pod: string, container: string | undefined, cmd: string[], opts?: PodExecOptions): Promise<ExecSession> {
    return this.logsExec.exec(namespace, pod, container, cmd, opts);
  }

  /** Pull progress of every pod on this node, as it happens (bytes per layer). */
  onPullProgress(cb: (e: PullProgressEvent) => void): () => void {
    return this.images.onPullProgress(cb);
  }

  /** The latest pull state of a pod's images. */
  pullProgress(namespace: string, pod: string): ImagePullState[] {
    const s = this.pods.find(namespace, pod);
    return s ? this.images.pullProgress(s.uid) : [];
  }

  /** Whether the node is Ready (the engine answers). */
  get ready(): boolean {
    return this.nodeStatus.ready;
  }

  /** Pods this agent is responsible for (tests, the UI). */
  get podCount(): number {
    return this.pods.states.size;
  }

  /** Syncs a pod now (or every pod). */
  syncNow(namespace?: string, name?: string): void {
    if (namespace && name) {
      const s = this.pods.find(namespace, name);
      if (s) this.enqueue(s.uid);
    } else this.resyncAll();
  }

  /** Resolves when no pod sync is running or due now (tests). */
  whenIdle(): Promise<void> {
    return this.workers.whenIdle();
  }

  /** No pod sync running or due now. */
  isIdle(): boolean {
    return this.workers.isIdle();
  }

  // ---- internals ---------------------------------------------------------------------------

  private onRuntimeEvent(uid: string | undefined): void {
    if (uid && this.pods.states.has(uid)) this.enqueue(uid);
  }

  private onAvailability(up: boolean, error?: string): void {
    this.nodeStatus.setRuntimeAvailable(up, error);
    if (!up) this.adopted = false;
    if (!up || !this.running) return;
    // The engine is back: it may have lost or restarted containers — look at everything again.
    // One recovery at a time; the engine coming back again meanwhile runs one more after it.
    if (this.recovering) {
      this.recoverAgain = true;
      return;
    }
    this.recovering = (async () => {
      do {
        this.recoverAgain = false;
        await this.ensureNetwork();
        await this.adopt();
        this.resyncAll();
        this.scheduleImageRefresh();
      } while (this.recoverAgain && this.nodeStatus.ready && this.running);
    })()
      .catch((err) => log.warn('recovery after the engine came back failed', { node: this.nodeName, error: errorMessage(err) }))
      .finally(() => (this.recovering = undefined));
  }

  private recovering: Promise<void> | undefined;
  private recoverAgain = false;

  private resyncAll(): void {
    this.restarts.gc();
    this.images.backoff.gc();
    for (const uid of this.pods.states.keys()) this.enqueue(uid);
  }

  /** A pod sync asked for by something that happened (not the relist's periodic full sync). */
  private enqueue(uid: string, delayMs?: number): void {
    this.activeAt = Date.now();
    // Something happened: that sync asks the engine, whatever the relist saw before.
    const state = this.pods.states.get(uid);
    if (state) state.runtimeCurrent = false;
    this.workers.enqueue(uid, delayMs);
    // Back from a quiet spell: the safety net runs at its short period again.
    if (this.relistTimer && this.relistDue - this.activeAt > this.ctx.opts.resyncIntervalMs) this.scheduleRelist(this.ctx.opts.resyncIntervalMs);
  }

  /** When something last asked for a pod sync (see `enqueue`). */
  private activeAt = Date.now();
  private relistTimer?: NodeJS.Timeout;
  private relistDue = 0;
  private relistEvery = 0;

  /**
   * The next relist in `ms`. A quiet node (nothing asked for a sync for a whole period, no sync
   * running) doubles the period up to resyncIdleIntervalMs, as cAdvisor's dynamic housekeeping
   * does: at 10 s the relist of 100 idle pods was about a third of the idle app's CPU. The
   * engine's event stream is what finds changes quickly; this only catches what it missed.
   */
  private scheduleRelist(ms: number): void {
    clearTimeout(this.relistTimer);
    this.relistEvery = ms;
    this.relistDue = Date.now() + ms;
    this.relistTimer = setTimeout(() => {
      const since = this.relistDue - ms;
      // Before the relist: the periodic full syncs it may start are not activity.
      const syncing = !this.workers.isIdle();
      void this.relist().finally(() => {
        if (!this.running || this.relistDue > Date.now()) return;
        const { resyncIntervalMs, resyncIdleIntervalMs } = this.ctx.opts;
        const quiet = this.activeAt <= since && !syncing;
        this.scheduleRelist(quiet ? Math.min(this.relistEvery * 2, resyncIdleIntervalMs) : resyncIntervalMs);
      });
    }, ms);
    this.relistTimer.unref?.();
  }

  /** When the pod's last sync finished, ms since the epoch (tests). */
  syncedAt(namespace: string, name: string): number | undefined {
    return this.pods.find(namespace, name)?.syncedAt;
  }

  /** The relist's current period (tests). */
  get relistIntervalMs(): number {
    return this.relistEvery;
  }

  /**
   * The periodic safety net (the kubelet's PLEG relist): list the node's sandboxes and containers
   * once and sync only the pods whose runtime state differs from what their last sync saw, plus
   * any not fully synced for fullResyncIntervalMs. Syncing all 100 pods every 10 s cost about as
   * much CPU as everything else the idle app does together. If the engine cannot be listed, every
   * pod is synced as before.
   */
  private relisting = false;
  private async relist(): Promise<void> {
    if (this.relisting) return;
    this.relisting = true;
    try {
      this.restarts.gc();
      this.images.backoff.gc();
      const { runtime } = this.opts;
      const [sandboxes, containers] = await Promise.all([
        runtime.listPodSandboxes({ cluster: this.cluster, node: this.nodeName }),
        runtime.listContainers({ cluster: this.cluster, node: this.nodeName }),
      ]);
      const byPod = new Map<string, { s: typeof sandboxes; c: typeof containers }>();
      const of = (uid: string) => byPod.get(uid) ?? byPod.set(uid, { s: [], c: [] }).get(uid)!;
      for (const s of sandboxes) of(s.podUid).s.push(s);
      for (const c of containers) of(c.podUid).c.push(c);
      const stale = Date.now() - this.ctx.opts.fullResyncIntervalMs;
      for (const [uid, state] of this.pods.states) {
        const r = byPod.get(uid);
        // Sandboxes a newer one replaced (left by a stop before the reaper got to them).
        if (r && r.s.length > 1) {
          const newest = Math.max(...r.s.map((x) => x.attempt));
          this.reaper.removeSandboxes(r.s.filter((x) => x.attempt < newest && x.state !== 'ready').map((x) => x.id));
        }
        const now = runtimeFingerprint(r?.s ?? [], r?.c ?? []);
        // A change the engine's events did not report is activity; the periodic full sync is not.
        if (state.fingerprint !== now) this.enqueue(uid);
        else if ((state.syncedAt ?? 0) <= stale) {
          // Nothing new in the engine: the sync can start from what the last one saw.
          state.runtimeCurrent = true;
          this.workers.enqueue(uid);
        }
      }
    } catch (err) {
      log.debug('relist failed; syncing every pod', { node: this.nodeName, error: errorMessage(err) });
      for (const uid of this.pods.states.keys()) this.enqueue(uid);
    } finally {
      this.relisting = false;
    }
  }

  private async adopt(): Promise<boolean> {
    try {
      const r = await adopt(this.ctx, this.volumes, (uid) => this.pods.states.has(uid));
      if (r.adoptedPods || r.removedPods) log.info('adopted running pods', { node: this.nodeName, ...r });
      return true;
    } catch (err) {
      log.warn('adoption failed', { node: this.nodeName, error: errorMessage(err) });
      return false;
    }
  }

  private async ensureNetwork(): Promise<boolean> {
    try {
      const net = await this.opts.runtime.ensureNetwork(this.network, { [LABEL.cluster]: this.cluster });
      if (net.gateway) this.nodeStatus.hostIP = net.gateway;
      return true;
    } catch (err) {
      log.warn('cannot set up the cluster network', { network: this.network, error: errorMessage(err) });
      return false;
    }
  }

  private scheduleImageRefresh(): void {
    if (this.imageRefresh || !this.running) return;
    this.imageRefresh = setTimeout(() => {
      this.imageRefresh = undefined;
      void this.nodeStatus.refreshImages().then(() => this.nodeStatus.update(false)).catch(() => {});
    }, 500);
    this.imageRefresh.unref?.();
  }

  private forget(uid: string): void {
    this.pods.forget(uid);
    this.workers.forget(uid);
    this.images.forget(uid);
    this.restarts.resetPrefix(`${uid}_`);
    this.metrics.forget(uid);
  }

}
