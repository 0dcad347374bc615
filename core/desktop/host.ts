/**
 * The main-process side of the desktop contract for one cluster. A `DesktopHost` owns what is
 * shared by every window (port-forwards, the HPA history, pull-progress fan-out); each renderer
 * connection (an Electron window, a browser tab over WebSocket) gets a `DesktopSession`, which
 * validates every call's arguments, runs its handler, tracks what the call opened (watches, log
 * streams, exec sessions, metric subscriptions) and closes all of it when the renderer goes.
 *
 *   const host = new DesktopHost(cluster, { mode: 'browser' });
 *   const session = host.openSession((event, payload) => ws.send(…));
 *   await session.call('nodes.cordon', { name: 'node-1' });   // throws DesktopError
 *   session.close(); … await host.close();
 */
import type { KubeconfigOptions } from '../server/http/kubeconfig.ts';
import { readFileSync } from 'node:fs';
import type { Cluster } from '../cluster.ts';
import type { Client } from '../client/client.ts';
import { CALL_NAMES, DesktopError, type CallName, type DesktopEvents, type EventName } from '../desktop-api.ts';
import { log } from '../log.ts';
import { Batcher } from './batcher.ts';
import { toDesktopError } from './errors.ts';
import { HANDLERS } from './handlers.ts';
import { HpaHistory } from './hpa-history.ts';
import { newId } from './ids.ts';
import { PortForwards } from './port-forward.ts';
import { PullFanout } from './pull-progress.ts';
import { SCHEMAS } from './schemas.ts';
import { join } from 'node:path';
import { projectRoot } from '../paths.ts';

export type Sink = <E extends EventName>(event: E, payload: DesktopEvents[E]) => void;

export interface DesktopHostOptions {
  mode: 'electron' | 'browser';
  /** Minimum time between two batches to one renderer (default BATCH_INTERVAL_MS, 260 ms). */
  batchIntervalMs?: number;
  /** How often metric subscriptions look for new samples (default 1 s). */
  metricsTickMs?: number;
  /** Bounds per session. */
  limits?: Partial<SessionLimits>;
  /** The Kubernetes API this app serves and the kubeconfig it wrote: the UI offers to merge it. */
  kubeconfig?: KubeconfigOptions & { path: string };
}

export interface SessionLimits {
  watches: number;
  logStreams: number;
  execSessions: number;
  metricSubscriptions: number;
}

const DEFAULT_LIMITS: SessionLimits = { watches: 64, logStreams: 16, execSessions: 16, metricSubscriptions: 32 };

const CALLS = new Set<string>(CALL_NAMES);

let cachedVersion: string | undefined;
function appVersion(): string {
  if (cachedVersion === undefined) {
    try {
      cachedVersion = String(JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')).version ?? '0.0.0');
    } catch {
      cachedVersion = '0.0.0';
    }
  }
  return cachedVersion;
}

export class DesktopHost {
  readonly client: Client;
  readonly portForwards: PortForwards;
  readonly hpa: HpaHistory;
  readonly pulls: PullFanout;
  readonly version = appVersion();
  private readonly sessions = new Set<DesktopSession>();
  private closed = false;

  constructor(
    readonly cluster: Cluster,
    readonly options: DesktopHostOptions,
  ) {
    // The UI acts as the cluster's administrator (it is the user's own cluster), under its own name.
    this.client = cluster.client.as({ username: 'wheelhouse-ui', groups: ['system:masters'] });
    this.portForwards = new PortForwards(this.client, (event, payload) => {
      for (const s of this.sessions) s.emit(event, payload);
    });
    this.hpa = new HpaHistory(this.client);
    this.pulls = new PullFanout(cluster, (ref, images) => {
      for (const s of this.sessions) s.batch.pull(ref, images);
    });
  }

  get mode(): 'electron' | 'browser' {
    return this.options.mode;
  }

  /** A session for one renderer; `sink` receives its pushed events. */
  openSession(sink: Sink): DesktopSession {
    if (this.closed) throw new DesktopError('Unavailable', 'the desktop host is closed');
    const s = new DesktopSession(this, sink, { ...DEFAULT_LIMITS, ...(this.options.limits ?? {}) });
    this.sessions.add(s);
    this.pulls.attach();
    void this.hpa.start().catch((e) => log.warn('HPA history could not start', { error: (e as Error).message }));
    return s;
  }

  /** @internal */
  forget(s: DesktopSession): void {
    this.sessions.delete(s);
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of [...this.sessions]) s.close();
    await this.portForwards.closeAll();
    this.hpa.stop();
    this.pulls.detach();
  }
}

export class DesktopSession {
  readonly id = newId('s');
  readonly batch: Batcher;
  private readonly resources = new Map<string, { kind: keyof SessionLimits | 'other'; close: () => void }>();
  private closed = false;

  constructor(
    readonly host: DesktopHost,
    private readonly sink: Sink,
    readonly limits: SessionLimits,
  ) {
    this.batch = new Batcher(sink, host.options.batchIntervalMs);
  }

  get cluster(): Cluster {
    return this.host.cluster;
  }

  get client(): Client {
    return this.host.client;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Runs one call: the name must be in the contract and the arguments must pass its schema.
   * Throws a DesktopError (turn it into the envelope with `toEnvelope()`).
   */
  async call(name: string, args: unknown): Promise<unknown> {
    if (this.closed) throw new DesktopError('Unavailable', 'this session is closed');
    if (typeof name !== 'string' || !CALLS.has(name)) throw new DesktopError('BadRequest', `unknown call ${JSON.stringify(String(name).slice(0, 60))}`);
    const call = name as CallName;
    try {
      const checked = SCHEMAS[call](args, 'args');
      return await (HANDLERS[call] as (s: DesktopSession, a: unknown) => Promise<unknown>)(this, checked);
    } catch (e) {
      const err = toDesktopError(e);
      if (err.reason === 'InternalError') log.warn('desktop call failed', { call, error: err.message });
      throw err;
    }
  }

  /** Pushes an event now (exec output, ends of streams); batched state goes through `batch`. */
  emit<E extends EventName>(event: E, payload: DesktopEvents[E]): void {
    if (this.closed) return;
    try {
      this.sink(event, payload);
    } catch (e) {
      log.debug('desktop event not delivered', { event, error: (e as Error).message });
    }
  }

  /** Registers something this session opened; refuses beyond the session's limit for its kind. */
  track(kind: keyof SessionLimits | 'other', prefix: string, close: () => void): string {
    if (kind !== 'other') {
      let n = 0;
      for (const r of this.resources.values()) if (r.kind === kind) n++;
      if (n >= this.limits[kind]) throw new DesktopError('TooManyRequests', `too many open ${kind} in this window (at most ${this.limits[kind]}); close some first`);
    }
    const id = newId(prefix);
    this.resources.set(id, { kind, close });
    return id;
  }

  /** Closes and forgets a tracked resource; false when the id is unknown (or of another kind). */
  release(id: string, kind?: keyof SessionLimits | 'other'): boolean {
    const r = this.resources.get(id);
    if (!r || (kind && r.kind !== kind)) return false;
    this.resources.delete(id);
    try {
      r.close();
    } catch (e) {
      log.debug('closing a desktop resource failed', { id, error: (e as Error).message });
    }
    return true;
  }

  /** Forget without closing (the resource ended by itself). */
  forgetResource(id: string): void {
    this.resources.delete(id);
  }

  has(id: string, kind?: keyof SessionLimits | 'other'): boolean {
    const r = this.resources.get(id);
    return !!r && (!kind || r.kind === kind);
  }

  close(): void {
    if (this.closed) return;
    for (const id of [...this.resources.keys()]) this.release(id);
    this.closed = true;
    this.batch.close();
    this.host.forget(this);
  }
}
