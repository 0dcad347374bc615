/**
 * An in-memory ContainerRuntime for the node agent's unit tests. It keeps the Docker driver's
 * observable behaviour (labels, states, reasons, idempotent removes, events with labels) and lets
 * a test script what the engine would do:
 *
 *   const rt = new FakeRuntime({ images: ['nginx:1.25'] });
 *   rt.exitContainer(id, 1);            // the process exits → status Error, a `die` event
 *   rt.oomKill(id);                     // OOMKilled, exit 137, `oom` + `die` events
 *   rt.failStart('nginx', 'exec: "x": executable file not found in $PATH');
 *   rt.failPull('private/app', 'pull access denied …', 'NotFound');
 *   rt.setExecHandler((id, cmd) => ({ exitCode: 0, stdout: 'ok' }));
 *   rt.appendLog(id, 'stdout', 'hello');
 *   rt.setAvailable(false);             // every call throws RuntimeUnavailableError
 *   rt.calls                            // [{ method, args }] in call order
 */
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import {
  ContainerStartError,
  ExecTimeoutError,
  LABEL,
  PullError,
  RuntimeConflictError,
  RuntimeNotFoundError,
  RuntimeUnavailableError,
  containerSpecHash,
  type AvailabilityListener,
  type ContainerConfig,
  type ContainerFilter,
  type ContainerRuntime,
  type ContainerStats,
  type ContainerStatus,
  type ContainerSummary,
  type EventFilter,
  type ExecOptions,
  type ExecResult,
  type ExecSession,
  type ImageStatus,
  type ImageSummary,
  type Labels,
  type LogLine,
  type LogOptions,
  type NetworkInfo,
  type ObjectFilter,
  type PodSandboxConfig,
  type PodSandboxFilter,
  type PodSandboxStatus,
  type PullErrorKind,
  type PullProgress,
  type RegistryAuth,
  type RuntimeEvent,
  type RuntimeVersion,
  type VolumeInfo,
} from './runtime.ts';
import { parseImageRef } from './docker/image-ref.ts';
import { objectLabels, podLabels, podRefOf, userLabelsOf } from './docker/labels.ts';

export interface FakeRuntimeOptions {
  /** Images present from the start (refs as users write them). */
  images?: string[];
  now?: () => Date;
  arch?: string;
}

export type ExecHandler = (
  containerId: string,
  cmd: string[],
  stdin: string,
) => { exitCode: number; stdout?: string; stderr?: string; delayMs?: number } | Promise<{ exitCode: number; stdout?: string; stderr?: string; delayMs?: number }>;

interface FakeContainer {
  status: ContainerStatus;
  config: ContainerConfig;
  logs: Array<LogLine & { at: Date }>;
  stats?: Partial<ContainerStats>;
}
interface FakeSandbox {
  status: PodSandboxStatus;
  config: PodSandboxConfig;
  dockerLabels: Labels;
}
interface FakeImage {
  id: string;
  refs: Set<string>;
  size: number;
  labels: Labels;
  createdAt: Date;
}

type Waiter = () => void;

export class FakeRuntime implements ContainerRuntime {
  readonly calls: Array<{ method: string; args: unknown[] }> = [];
  readonly sandboxes = new Map<string, FakeSandbox>();
  readonly containers = new Map<string, FakeContainer>();
  readonly images = new Map<string, FakeImage>();
  readonly volumes = new Map<string, VolumeInfo>();
  readonly networks = new Map<string, NetworkInfo>();
  /** Exit code a container gets from stopContainer (a process killed by SIGTERM: 143). */
  stopExitCode = 143;
  private available = true;
  private readonly now: () => Date;
  private readonly arch: string;
  private readonly availability = new Set<AvailabilityListener>();
  private readonly subscribers = new Set<{ cb: (e: RuntimeEvent) => void; filter: EventFilter }>();
  private readonly pullFailures = new Map<string, { message: string; kind: PullErrorKind }>();
  private readonly startFailures: Array<{ match: (c: ContainerConfig) => boolean; message: string }> = [];
  private execHandler: ExecHandler = () => ({ exitCode: 0 });
  private readonly waiters = new Set<Waiter>();
  private nextIp = 2;

  constructor(opts: FakeRuntimeOptions = {}) {
    this.now = opts.now ?? (() => new Date());
    this.arch = opts.arch ?? 'amd64';
    for (const ref of opts.images ?? []) this.addImage(ref);
  }

  // ---- scripting -------------------------------------------------------------------------------

  addImage(ref: string, opts: { id?: string; size?: number; labels?: Labels } = {}): string {
    const norm = parseImageRef(ref).normalized;
    const existing = [...this.images.values()].find((i) => i.refs.has(norm));
    if (existing) return existing.id;
    const id = opts.id ?? `sha256:${hex()}`;
    const img = this.images.get(id) ?? { id, refs: new Set<string>(), size: opts.size ?? 5_000_000, labels: opts.labels ?? {}, createdAt: this.now() };
    img.refs.add(norm);
    this.images.set(id, img);
    return id;
  }

  failPull(ref: string, message: string, kind: PullErrorKind = 'NotFound'): void {
    this.pullFailures.set(parseImageRef(ref).normalized, { message, kind });
  }

  /** Containers whose image (or name) contains `match`, or for which `match` returns true, fail to start. */
  failStart(match: string | ((c: ContainerConfig) => boolean), message: string): void {
    const fn = typeof match === 'string' ? (c: ContainerConfig) => c.image.includes(match) || c.name === match : match;
    this.startFailures.push({ match: fn, message });
  }

  setExecHandler(fn: ExecHandler): void {
    this.execHandler = fn;
  }

  setAvailable(up: boolean): void {
    if (this.available === up) return;
    this.available = up;
    const err = up ? undefined : this.unavailable();
    for (const cb of [...this.availability]) cb(up, err);
  }

  /** The container's process exits by itself; `silent`: no event is sent (a missed event). */
  exitContainer(id: string, exitCode: number, opts: { oomKilled?: boolean; message?: string; silent?: boolean } = {}): void {
    const c = this.mustContainer(id);
    if (c.status.state !== 'running') throw new Error(`fake: container ${id} is not running`);
    this.muted = !!opts.silent;
    try {
      if (opts.oomKilled) this.emit('container', 'oom', id, this.dockerLabels(c));
      this.finish(c, exitCode, opts.oomKilled ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error', opts.message);
    } finally {
      this.muted = false;
    }
  }
  private muted = false;

  oomKill(id: string): void {
    this.exitContainer(id, 137, { oomKilled: true });
  }

  /** The sandbox's pause process dies (the pod loses its network). */
  killSandbox(id: string): void {
    const s = this.mustSandbox(id);
    s.status = { ...s.status, state: 'notready' };
    delete s.status.ip;
    this.emit('container', 'die', id, s.dockerLabels, 137);
  }

  appendLog(id: string, stream: 'stdout' | 'stderr', line: string): void {
    this.mustContainer(id).logs.push({ stream, line, time: this.now().toISOString(), at: this.now() });
    this.wake();
  }

  setStats(id: string, stats: Partial<ContainerStats>): void {
    this.mustContainer(id).stats = stats;
  }

  /** Resolves once queued events have been delivered. */
  async flush(): Promise<void> {
    await new Promise((r) => setImmediate(r));
  }

  // ---- engine ----------------------------------------------------------------------------------

  async version(): Promise<RuntimeVersion> {
    this.enter('version');
    return { runtimeName: 'fake', runtimeVersion: '0.0.0', apiVersion: '1.41', os: 'linux', arch: this.arch, endpoint: 'fake://' };
  }

  async ping(): Promise<void> {
    this.enter('ping');
  }

  onAvailabilityChange(cb: AvailabilityListener): () => void {
    this.availability.add(cb);
    return () => this.availability.delete(cb);
  }

  async close(): Promise<void> {
    this.subscribers.clear();
    this.availability.clear();
  }

  // ---- sandboxes -------------------------------------------------------------------------------

  async runPodSandbox(cfg: PodSandboxConfig): Promise<string> {
    this.enter('runPodSandbox', cfg);
    const dup = [...this.sandboxes.values()].find(
      (s) => s.status.podUid === cfg.podUid && s.status.attempt === cfg.attempt && s.status.node === cfg.node && s.status.cluster === cfg.cluster,
    );
    if (dup) throw new RuntimeConflictError(`sandbox for pod ${cfg.namespace}/${cfg.podName} attempt ${cfg.attempt} already exists`);
    const id = hex();
    const dockerLabels = objectLabels('sandbox', cfg.labels, cfg.annotations, {
      ...podLabels(cfg),
      [LABEL.attempt]: String(cfg.attempt),
      [LABEL.hostname]: cfg.hostname,
      [LABEL.network]: cfg.network,
    });
    const ip = `10.88.${Math.floor(this.nextIp / 250)}.${(this.nextIp % 250) + 2}`;
    this.nextIp++;
    const status: PodSandboxStatus = {
      id,
      ...podRefOf(dockerLabels),
      attempt: cfg.attempt,
      state: 'ready',
      createdAt: this.now(),
      ip,
      network: cfg.network,
      hostname: cfg.hostname,
      ...userLabelsOf(dockerLabels),
    };
    this.sandboxes.set(id, { status, config: structuredClone(cfg), dockerLabels });
    this.emit('container', 'create', id, dockerLabels);
    this.emit('container', 'start', id, dockerLabels);
    return id;
  }

  async stopPodSandbox(id: string): Promise<void> {
    this.enter('stopPodSandbox', id);
    const s = this.sandboxes.get(id);
    if (!s) return;
    for (const c of this.containers.values()) {
      if (c.status.sandboxId === id && c.status.state === 'running') this.finish(c, 137, 'Error');
    }
    if (s.status.state === 'ready') {
      s.status = { ...s.status, state: 'notready' };
      delete s.status.ip;
      this.emit('container', 'die', id, s.dockerLabels, 0);
      this.emit('container', 'stop', id, s.dockerLabels);
    }
  }

  async removePodSandbox(id: string): Promise<void> {
    this.enter('removePodSandbox', id);
    const s = this.sandboxes.get(id);
    if (!s) return;
    for (const [cid, c] of [...this.containers]) {
      if (c.status.sandboxId === id) this.dropContainer(cid, c);
    }
    this.sandboxes.delete(id);
    this.emit('container', 'destroy', id, s.dockerLabels);
  }

  async podSandboxStatus(id: string): Promise<PodSandboxStatus> {
    this.enter('podSandboxStatus', id);
    return structuredClone(this.mustSandbox(id).status);
  }

  async listPodSandboxes(f: PodSandboxFilter = {}): Promise<PodSandboxStatus[]> {
    this.enter('listPodSandboxes', f);
    return [...this.sandboxes.values()]
      .map((s) => s.status)
      .filter((s) => (!f.id || s.id.startsWith(f.id)) && (!f.state || s.state === f.state) && matchesScope(s, s.labels, f))
      .map((s) => structuredClone(s));
  }

  // ---- containers ------------------------------------------------------------------------------

  async createContainer(sandboxId: string, cfg: ContainerConfig): Promise<string> {
    this.enter('createContainer', sandboxId, cfg);
    const s = this.mustSandbox(sandboxId);
    if (s.status.state !== 'ready') throw new RuntimeConflictError(`sandbox ${sandboxId.slice(0, 12)} is not running`);
    const image = this.findImage(cfg.image);
    if (!image) throw new RuntimeNotFoundError('image', cfg.image, `No such image: ${cfg.image}`);
    const dup = [...this.containers.values()].find((c) => c.status.sandboxId === sandboxId && c.status.name === cfg.name && c.status.attempt === cfg.attempt);
    if (dup) throw new RuntimeConflictError(`creating container ${cfg.name} attempt ${cfg.attempt}: the name is already in use`);
    const id = hex();
    const labels = userLabelsOf(objectLabels('container', cfg.labels, cfg.annotations, {}));
    const status: ContainerStatus = {
      id,
      ...podRefOf(s.dockerLabels),
      sandboxId,
      name: cfg.name,
      attempt: cfg.attempt,
      image: cfg.image,
      imageRef: image.id,
      state: 'created',
      createdAt: this.now(),
      specHash: cfg.specHash ?? containerSpecHash(cfg),
      ...labels,
      restartCount: cfg.attempt,
      ...(cfg.logPath ? { logPath: cfg.logPath } : {}),
    };
    const c: FakeContainer = { status, config: structuredClone(cfg), logs: [] };
    this.containers.set(id, c);
    this.emit('container', 'create', id, this.dockerLabels(c));
    return id;
  }

  async startContainer(id: string): Promise<void> {
    this.enter('startContainer', id);
    const c = this.mustContainer(id);
    if (c.status.state === 'running') return;
    if (c.status.state !== 'created') throw new RuntimeConflictError(`container ${id.slice(0, 12)} has exited; create a new one`);
    const failure = this.startFailures.find((f) => f.match(c.config));
    if (failure) {
      c.status = { ...c.status, state: 'exited', exitCode: 128, reason: 'ContainerCannotRun', message: failure.message, finishedAt: this.now() };
      throw new ContainerStartError(id, failure.message);
    }
    c.status = { ...c.status, state: 'running', startedAt: this.now(), pid: 1000 + this.containers.size };
    this.emit('container', 'start', id, this.dockerLabels(c));
  }

  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    this.enter('stopContainer', id, timeoutSeconds);
    const c = this.mustContainer(id);
    if (c.status.state !== 'running') return;
    this.emit('container', 'kill', id, this.dockerLabels(c));
    this.finish(c, this.stopExitCode, this.stopExitCode === 0 ? 'Completed' : 'Error');
    this.emit('container', 'stop', id, this.dockerLabels(c));
  }

  async removeContainer(id: string): Promise<void> {
    this.enter('removeContainer', id);
    const c = this.containers.get(id);
    if (c) this.dropContainer(id, c);
  }

  async containerStatus(id: string): Promise<ContainerStatus> {
    this.enter('containerStatus', id);
    return structuredClone(this.mustContainer(id).status);
  }

  async listContainers(f: ContainerFilter = {}): Promise<ContainerSummary[]> {
    this.enter('listContainers', f);
    return [...this.containers.values()]
      .map((c) => c.status)
      .filter(
        (s) =>
          (!f.id || s.id.startsWith(f.id)) &&
          (!f.sandboxId || s.sandboxId === f.sandboxId) &&
          (!f.state || s.state === f.state) &&
          (f.name === undefined || s.name === f.name) &&
          matchesScope(s, s.labels, f),
      )
      .map((s) => {
        const { startedAt: _s, finishedAt: _f, exitCode: _e, reason: _r, message: _m, restartCount: _c, logPath: _l, pid: _p, ...summary } = structuredClone(s);
        return summary;
      });
  }

  // ---- images ----------------------------------------------------------------------------------

  async imageStatus(ref: string): Promise<ImageStatus> {
    this.enter('imageStatus', ref);
    const img = this.findImage(ref);
    if (!img) return { present: false, repoTags: [], repoDigests: [] };
    return { present: true, id: img.id, size: img.size, repoTags: [...img.refs].map(familiar), repoDigests: [] };
  }

  async listImages(): Promise<ImageSummary[]> {
    this.enter('listImages');
    return [...this.images.values()].map((i) => ({ id: i.id, size: i.size, repoTags: [...i.refs].map(familiar), repoDigests: [], createdAt: i.createdAt, labels: { ...i.labels } }));
  }

  async pullImage(ref: string, auth?: RegistryAuth, onProgress?: (p: PullProgress) => void): Promise<string> {
    this.enter('pullImage', ref, auth ? { ...auth, password: auth.password ? '<redacted>' : undefined } : undefined);
    let norm: string;
    try {
      norm = parseImageRef(ref).normalized;
    } catch (err) {
      throw new PullError(ref, (err as Error).message, 'InvalidReference');
    }
    const failure = this.pullFailures.get(norm);
    if (failure) throw new PullError(ref, failure.message, failure.kind);
    onProgress?.({ layer: '', status: `Pulling from ${norm}` });
    onProgress?.({ layer: 'fake-layer', status: 'Downloading', current: 5_000_000, total: 5_000_000 });
    onProgress?.({ layer: 'fake-layer', status: 'Pull complete' });
    const id = this.addImage(ref);
    this.emit('image', 'pull', norm, {});
    return id;
  }

  async removeImage(ref: string): Promise<void> {
    this.enter('removeImage', ref);
    const img = this.findImage(ref);
    if (!img) return;
    const user = [...this.containers.values()].find((c) => c.status.imageRef === img.id);
    if (user) throw new RuntimeConflictError(`image ${ref} is in use by container ${user.status.id.slice(0, 12)}`);
    this.images.delete(img.id);
    this.emit('image', 'delete', img.id, {});
  }

  // ---- volumes, networks -----------------------------------------------------------------------

  async ensureVolume(name: string, labels: Labels): Promise<VolumeInfo> {
    this.enter('ensureVolume', name, labels);
    let v = this.volumes.get(name);
    if (!v) {
      v = { name, driver: 'local', mountpoint: `/var/lib/docker/volumes/${name}/_data`, createdAt: this.now(), labels: { ...labels, [LABEL.type]: 'volume' } };
      this.volumes.set(name, v);
      this.emit('volume', 'create', name, v.labels);
    }
    return structuredClone(v);
  }

  async removeVolume(name: string): Promise<void> {
    this.enter('removeVolume', name);
    const v = this.volumes.get(name);
    if (!v) return;
    const user = [...this.containers.values()].find((c) => c.config.mounts.some((m) => m.volumeName === name));
    if (user) throw new RuntimeConflictError(`removing volume ${name}: volume is in use - [${user.status.id}]`);
    this.volumes.delete(name);
    this.emit('volume', 'destroy', name, v.labels);
  }

  async listVolumes(f: ObjectFilter = {}): Promise<VolumeInfo[]> {
    this.enter('listVolumes', f);
    return [...this.volumes.values()].filter((v) => matchesLabels(v.labels, f)).map((v) => structuredClone(v));
  }

  async ensureNetwork(name: string, labels: Labels): Promise<NetworkInfo> {
    this.enter('ensureNetwork', name, labels);
    let n = this.networks.get(name);
    if (!n) {
      n = { id: hex(), name, driver: 'bridge', subnet: '10.88.0.0/16', gateway: '10.88.0.1', labels: { ...labels, [LABEL.type]: 'network' } };
      this.networks.set(name, n);
      this.emit('network', 'create', n.id, n.labels);
    }
    return structuredClone(n);
  }

  async removeNetwork(name: string): Promise<void> {
    this.enter('removeNetwork', name);
    const n = this.networks.get(name);
    if (!n) return;
    if ([...this.sandboxes.values()].some((s) => s.status.network === name && s.status.state === 'ready')) {
      throw new RuntimeConflictError(`removing network ${name}: network has active endpoints`);
    }
    this.networks.delete(name);
    this.emit('network', 'destroy', n.id, n.labels);
  }

  async listNetworks(f: ObjectFilter = {}): Promise<NetworkInfo[]> {
    this.enter('listNetworks', f);
    return [...this.networks.values()].filter((n) => matchesLabels(n.labels, f)).map((n) => structuredClone(n));
  }

  // ---- logs, exec, stats, events ---------------------------------------------------------------

  async *logs(containerId: string, opts: LogOptions = {}, signal?: AbortSignal): AsyncIterable<LogLine> {
    this.enter('logs', containerId, opts);
    const c = this.mustContainer(containerId);
    const since = opts.sinceTime?.getTime() ?? (opts.sinceSeconds !== undefined ? this.now().getTime() - opts.sinceSeconds * 1000 : undefined);
    let lines = c.logs.filter((l) => since === undefined || l.at.getTime() >= since);
    if (opts.tailLines !== undefined) lines = lines.slice(Math.max(0, lines.length - opts.tailLines));
    const out = (l: LogLine & { at: Date }): LogLine => (opts.timestamps ? { stream: l.stream, line: l.line, time: l.time! } : { stream: l.stream, line: l.line });
    for (const l of lines) yield out(l);
    if (!opts.follow) return;
    let seen = c.logs.length;
    while (!signal?.aborted) {
      while (seen < c.logs.length) yield out(c.logs[seen++]!);
      if (c.status.state !== 'running' || !this.containers.has(containerId)) return;
      await new Promise<void>((resolve) => {
        const w = () => {
          this.waiters.delete(w);
          signal?.removeEventListener('abort', w);
          resolve();
        };
        this.waiters.add(w);
        signal?.addEventListener('abort', w, { once: true });
      });
    }
  }

  async exec(containerId: string, opts: ExecOptions): Promise<ExecSession> {
    this.enter('exec', containerId, opts);
    const c = this.mustContainer(containerId);
    if (c.status.state !== 'running') throw new RuntimeConflictError(`container ${containerId.slice(0, 12)} is not running`);
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const stdin = opts.stdin ? new PassThrough() : undefined;
    const input: Buffer[] = [];
    stdin?.on('data', (b: Buffer) => input.push(b));
    const stdinDone = stdin ? new Promise<void>((r) => stdin.on('finish', () => r())) : Promise.resolve();
    const result = stdinDone.then(async () => {
      const r = await this.execHandler(containerId, opts.cmd, Buffer.concat(input).toString('utf8'));
      if (r.delayMs) await new Promise((res) => setTimeout(res, r.delayMs));
      if (r.stdout) stdout.write(r.stdout);
      if (r.stderr && !opts.tty) stderr.write(r.stderr);
      if (r.stderr && opts.tty) stdout.write(r.stderr);
      stdout.end();
      stderr.end();
      return r.exitCode;
    });
    return {
      ...(stdin ? { stdin } : {}),
      stdout,
      stderr,
      resize: async () => {},
      exitCode: () => result,
      close: () => {
        stdout.end();
        stderr.end();
      },
    };
  }

  async execSync(containerId: string, cmd: string[], timeoutMs: number): Promise<ExecResult> {
    this.enter('execSync', containerId, cmd, timeoutMs);
    const c = this.mustContainer(containerId);
    if (c.status.state !== 'running') throw new RuntimeConflictError(`container ${containerId.slice(0, 12)} is not running`);
    let timer: NodeJS.Timeout | undefined;
    const run = Promise.resolve(this.execHandler(containerId, cmd, '')).then(async (r) => {
      if (r.delayMs) await new Promise((res) => setTimeout(res, r.delayMs));
      return r;
    });
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ExecTimeoutError(containerId, cmd, timeoutMs)), timeoutMs);
    });
    try {
      const r = await Promise.race([run, timeout]);
      return { exitCode: r.exitCode, stdout: r.stdout ?? '', stderr: r.stderr ?? '', truncated: false };
    } finally {
      clearTimeout(timer);
    }
  }

  async containerStats(id: string): Promise<ContainerStats> {
    this.enter('containerStats', id);
    const c = this.containers.get(id);
    if (!c && !this.sandboxes.has(id)) throw new RuntimeNotFoundError('container', id);
    return {
      timestamp: this.now(),
      cpuUsageCoreNanoSeconds: 0,
      cpuNanoCores: 0,
      memoryUsageBytes: 0,
      memoryWorkingSetBytes: 0,
      ...(c?.stats ?? {}),
    };
  }

  events(onEvent: (e: RuntimeEvent) => void, filter: EventFilter = {}): () => void {
    const sub = { cb: onEvent, filter };
    this.subscribers.add(sub);
    return () => this.subscribers.delete(sub);
  }

  // ---- internals -------------------------------------------------------------------------------

  private enter(method: string, ...args: unknown[]): void {
    this.calls.push({ method, args });
    if (!this.available) throw this.unavailable();
  }

  private unavailable(): RuntimeUnavailableError {
    return new RuntimeUnavailableError('fake://', 'connect ECONNREFUSED (fake engine is down)');
  }

  private mustContainer(id: string): FakeContainer {
    const c = this.containers.get(id);
    if (!c) throw new RuntimeNotFoundError('container', id, `No such container: ${id}`);
    return c;
  }

  private mustSandbox(id: string): FakeSandbox {
    const s = this.sandboxes.get(id);
    if (!s) throw new RuntimeNotFoundError('sandbox', id, `No such container: ${id}`);
    return s;
  }

  private findImage(ref: string): FakeImage | undefined {
    if (this.images.has(ref)) return this.images.get(ref);
    let norm: string;
    try {
      norm = parseImageRef(ref).normalized;
    } catch {
      return undefined;
    }
    return [...this.images.values()].find((i) => i.refs.has(norm));
  }

  private finish(c: FakeContainer, exitCode: number, reason: ContainerStatus['reason'], message?: string): void {
    const { pid: _pid, ...rest } = c.status;
    c.status = { ...rest, state: 'exited', exitCode, reason: reason!, finishedAt: this.now(), ...(message ? { message } : {}) };
    this.emit('container', 'die', c.status.id, this.dockerLabels(c), exitCode);
    this.wake();
  }

  private dropContainer(id: string, c: FakeContainer): void {
    if (c.status.state === 'running') this.finish(c, 137, 'Error');
    this.containers.delete(id);
    this.emit('container', 'destroy', id, this.dockerLabels(c));
    this.wake();
  }

  private dockerLabels(c: FakeContainer): Labels {
    const s = c.status;
    return objectLabels('container', s.labels, s.annotations, {
      ...podLabels(s),
      [LABEL.containerName]: s.name,
      [LABEL.attempt]: String(s.attempt),
      [LABEL.specHash]: s.specHash,
      [LABEL.sandboxId]: s.sandboxId,
    });
  }

  private emit(type: RuntimeEvent['type'], action: string, id: string, labels: Labels, exitCode?: number): void {
    if (this.muted) return;
    const event: RuntimeEvent = { type, action, id, labels: { ...labels }, time: this.now(), ...(exitCode !== undefined ? { exitCode } : {}) };
    for (const sub of [...this.subscribers]) {
      if (!eventMatches(event, sub.filter)) continue;
      queueMicrotask(() => {
        if (this.subscribers.has(sub)) sub.cb(structuredClone(event));
      });
    }
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}

function eventMatches(e: RuntimeEvent, f: EventFilter): boolean {
  if (f.types?.length && !f.types.includes(e.type)) return false;
  if (f.actions?.length && !f.actions.includes(e.action)) return false;
  if (f.cluster !== undefined && e.labels[LABEL.cluster] !== f.cluster) return false;
  if (f.node !== undefined && e.labels[LABEL.node] !== f.node) return false;
  return Object.entries(f.labels ?? {}).every(([k, v]) => e.labels[k] === v);
}

function matchesScope(
  ref: { cluster: string; node: string; namespace: string; podName: string; podUid: string },
  labels: Labels,
  f: { cluster?: string; node?: string; namespace?: string; podName?: string; podUid?: string; labels?: Labels },
): boolean {
  if (f.cluster !== undefined && ref.cluster !== f.cluster) return false;
  if (f.node !== undefined && ref.node !== f.node) return false;
  if (f.namespace !== undefined && ref.namespace !== f.namespace) return false;
  if (f.podName !== undefined && ref.podName !== f.podName) return false;
  if (f.podUid !== undefined && ref.podUid !== f.podUid) return false;
  return Object.entries(f.labels ?? {}).every(([k, v]) => labels[k] === v);
}

function matchesLabels(labels: Labels, f: ObjectFilter): boolean {
  if (f.cluster !== undefined && labels[LABEL.cluster] !== f.cluster) return false;
  return Object.entries(f.labels ?? {}).every(([k, v]) => labels[k] === v);
}

function familiar(norm: string): string {
  return parseImageRef(norm).familiar;
}

function hex(): string {
  return randomBytes(32).toString('hex');
}
