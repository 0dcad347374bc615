/**
 * The container runtime interface the node agent drives (Wheelhouse's CRI). Shaped after the
 * Kubernetes CRI: pod sandboxes own a pod's network (and IPC) namespace, containers join them.
 * The Docker driver lives in `docker/`, an in-memory fake for agent unit tests in `fake-runtime.ts`.
 *
 * Conventions:
 * - Ids are the engine's full ids. `remove*` and `stopPodSandbox` are idempotent (a missing object
 *   is not an error); `stopContainer`, `*Status`, `start*` on a missing object throw
 *   `RuntimeNotFoundError`.
 * - Every object the runtime creates carries the `io.wheelhouse.*` labels below, so an agent
 *   restarted from scratch finds everything it owns with `{ cluster, node }` filters (adoption).
 * - `labels` / `annotations` in results are the caller's own (reserved `io.wheelhouse.*` keys are
 *   surfaced as typed fields instead). Docker merges an image's labels into a container's, so a
 *   container's `labels` may also hold its image's labels.
 * - An engine that cannot be reached makes every call throw `RuntimeUnavailableError`.
 */
import { createHash } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';

export type Labels = Record<string, string>;

/** Reserved label keys on every Docker object Wheelhouse creates. */
export const LABEL = {
  cluster: 'io.wheelhouse.cluster',
  node: 'io.wheelhouse.node',
  namespace: 'io.wheelhouse.pod.namespace',
  podName: 'io.wheelhouse.pod.name',
  podUid: 'io.wheelhouse.pod.uid',
  containerName: 'io.wheelhouse.container.name',
  /** Restart count (containers) or sandbox attempt (sandboxes). */
  attempt: 'io.wheelhouse.container.attempt',
  /** sandbox | container | volume | network | image */
  type: 'io.wheelhouse.type',
  /** Hash of the container config (see `containerSpecHash`); a changed spec → a new container. */
  specHash: 'io.wheelhouse.container.hash',
  sandboxId: 'io.wheelhouse.sandbox.id',
  hostname: 'io.wheelhouse.pod.hostname',
  network: 'io.wheelhouse.pod.network',
  sharePid: 'io.wheelhouse.pod.share-pid',
  logPath: 'io.wheelhouse.container.log-path',
  /** Prefix of annotation labels: `io.wheelhouse.annotation.<key>`. */
  annotationPrefix: 'io.wheelhouse.annotation.',
  /** Every key starting with this is reserved for the runtime. */
  reservedPrefix: 'io.wheelhouse.',
} as const;

export type ObjectType = 'sandbox' | 'container' | 'volume' | 'network' | 'image';

/** Which pod (and where) an object belongs to. */
export interface PodRef {
  cluster: string;
  node: string;
  namespace: string;
  podName: string;
  podUid: string;
}

// ---------------------------------------------------------------------------------------------
// Engine
// ---------------------------------------------------------------------------------------------

export interface RuntimeVersion {
  runtimeName: string; // 'docker'
  runtimeVersion: string; // '20.10.24'
  apiVersion: string; // '1.41'
  os: string; // 'linux'
  /** The engine's architecture, Go style: amd64 | arm64 | … */
  arch: string;
  kernelVersion?: string;
  /** Where the engine was reached: unix:///var/run/docker.sock, tcp://host:2376 … */
  endpoint: string;
}

export type AvailabilityListener = (available: boolean, error?: RuntimeUnavailableError) => void;

// ---------------------------------------------------------------------------------------------
// Sandboxes
// ---------------------------------------------------------------------------------------------

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface PortMapping {
  containerPort: number;
  /** Omitted or 0: not published on the host. */
  hostPort?: number;
  /** Default 0.0.0.0 (all interfaces), as Kubernetes. */
  hostIP?: string;
  protocol: Protocol;
}

export interface DnsConfig {
  servers: string[];
  searches: string[];
  options: string[];
}

export interface PodSandboxConfig extends PodRef {
  /** Sandbox attempt: 0 for a pod's first sandbox, +1 each time it is recreated. */
  attempt: number;
  hostname: string;
  /** Docker network the pod joins (its IP comes from it); see `ensureNetwork`. */
  network: string;
  dns?: DnsConfig;
  portMappings: PortMapping[];
  /** `shareProcessNamespace`: containers join the sandbox's PID namespace. */
  sharePidNamespace?: boolean;
  labels: Labels;
  annotations: Labels;
}

export type SandboxState = 'ready' | 'notready';

export interface PodSandboxStatus extends PodRef {
  id: string;
  attempt: number;
  state: SandboxState;
  createdAt: Date;
  /** Pod IP on `network`; undefined while the sandbox is not running. */
  ip?: string;
  network: string;
  hostname: string;
  labels: Labels;
  annotations: Labels;
}

/** Equality filters; every field given must match. `labels` matches the caller's labels. */
export interface PodSandboxFilter {
  id?: string;
  state?: SandboxState;
  cluster?: string;
  node?: string;
  namespace?: string;
  podName?: string;
  podUid?: string;
  labels?: Labels;
}

// ---------------------------------------------------------------------------------------------
// Containers
// ---------------------------------------------------------------------------------------------

export interface EnvVar {
  name: string;
  value: string;
}

/** Exactly one of hostPath, volumeName, tmpfs. */
export interface Mount {
  containerPath: string;
  readOnly?: boolean;
  /** Bind mount of a host path (must exist). */
  hostPath?: string;
  /** A named volume (see `ensureVolume`). */
  volumeName?: string;
  /** A tmpfs (`emptyDir.medium: Memory`); `sizeBytes` limits it. */
  tmpfs?: { sizeBytes?: number };
}

export interface Resources {
  memoryLimitBytes?: number;
  /** CPU limit in billionths of a CPU (limits.cpu 500m → 500_000_000). */
  nanoCpus?: number;
  /** Relative weight (requests.cpu 1 → 1024, as the kubelet computes). */
  cpuShares?: number;
  pidsLimit?: number;
}

export interface SecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  supplementalGroups?: number[];
  readOnlyRootFilesystem?: boolean;
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  /** Linux capability names with or without the CAP_ prefix: NET_ADMIN, CAP_SYS_TIME … */
  capAdd?: string[];
  capDrop?: string[];
}

export interface ContainerConfig {
  /** The container's name in the pod spec. */
  name: string;
  /** Restart count: 0 for the first container of this name in this sandbox, +1 per restart. */
  attempt: number;
  image: string;
  /** Kubernetes `command`: replaces the image's ENTRYPOINT (and then its CMD is not used). */
  command?: string[];
  /** Kubernetes `args`: replaces the image's CMD. */
  args?: string[];
  env: EnvVar[];
  workingDir?: string;
  mounts: Mount[];
  resources: Resources;
  securityContext: SecurityContext;
  tty?: boolean;
  stdin?: boolean;
  stdinOnce?: boolean;
  labels: Labels;
  annotations: Labels;
  /** Kubelet-style log path; the runtime links it to the engine's log file when it can. */
  logPath?: string;
  /** Stored as the spec-hash label; default `containerSpecHash(this)`. */
  specHash?: string;
}

export type ContainerState = 'created' | 'running' | 'exited' | 'unknown';

/** One entry of `listContainers` (cheap: no inspect per container). */
export interface ContainerSummary extends PodRef {
  id: string;
  sandboxId: string;
  name: string;
  attempt: number;
  image: string;
  /** Image id, sha256:… */
  imageRef: string;
  state: ContainerState;
  createdAt: Date;
  specHash: string;
  labels: Labels;
  annotations: Labels;
}

export type ContainerReason = 'OOMKilled' | 'Error' | 'Completed' | 'ContainerCannotRun';

export interface ContainerStatus extends ContainerSummary {
  startedAt?: Date;
  finishedAt?: Date;
  /** Set once the container has exited (or could not run). */
  exitCode?: number;
  reason?: ContainerReason;
  /** The engine's error, e.g. `exec: "nope": executable file not found in $PATH`. */
  message?: string;
  /** Same as `attempt`: the restart count recorded at creation. */
  restartCount: number;
  logPath?: string;
  pid?: number;
}

export interface ContainerFilter {
  id?: string;
  sandboxId?: string;
  state?: ContainerState;
  cluster?: string;
  node?: string;
  namespace?: string;
  podName?: string;
  podUid?: string;
  /** Container name in the pod spec. */
  name?: string;
  labels?: Labels;
}

// ---------------------------------------------------------------------------------------------
// Images, volumes, networks
// ---------------------------------------------------------------------------------------------

export interface RegistryAuth {
  username?: string;
  password?: string;
  /** Registry host as in the docker config: `https://index.docker.io/v1/`, `ghcr.io` … */
  serverAddress: string;
  identityToken?: string;
}

export interface PullProgress {
  /** Layer id, or '' for image-wide messages. */
  layer: string;
  status: string;
  current?: number;
  total?: number;
}

export interface ImageStatus {
  present: boolean;
  /** sha256:… */
  id?: string;
  size?: number;
  repoTags: string[];
  repoDigests: string[];
}

export interface ImageSummary {
  id: string;
  size: number;
  repoTags: string[];
  repoDigests: string[];
  createdAt: Date;
  labels: Labels;
}

export interface VolumeInfo {
  name: string;
  driver: string;
  mountpoint: string;
  createdAt?: Date;
  labels: Labels;
}

export interface NetworkInfo {
  id: string;
  name: string;
  driver: string;
  subnet?: string;
  gateway?: string;
  labels: Labels;
}

export interface ObjectFilter {
  cluster?: string;
  labels?: Labels;
}

// ---------------------------------------------------------------------------------------------
// Logs, exec, stats, events
// ---------------------------------------------------------------------------------------------

export interface LogOptions {
  follow?: boolean;
  /** Only the last N lines (across stdout and stderr). */
  tailLines?: number;
  sinceSeconds?: number;
  sinceTime?: Date;
  /** Fill `time` (RFC 3339 with nanoseconds, as the engine recorded it). */
  timestamps?: boolean;
}

export interface LogLine {
  stream: 'stdout' | 'stderr';
  /** Without the trailing newline. */
  line: string;
  time?: string;
}

export interface ExecOptions {
  cmd: string[];
  tty?: boolean;
  stdin?: boolean;
  env?: EnvVar[];
  user?: string;
  workingDir?: string;
}

export interface ExecSession {
  /** The process's stdin; end() closes it (EOF). Undefined unless `stdin` was asked for. */
  stdin?: Writable;
  stdout: Readable;
  /** Empty for a TTY session (a terminal has one output stream). */
  stderr: Readable;
  resize(cols: number, rows: number): Promise<void>;
  /** Resolves when the process has exited (its output streams have ended by then). */
  exitCode(): Promise<number>;
  /** Stop reading; the process itself keeps running (the engine cannot kill an exec). */
  close(): void;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** Output beyond 1 MiB per stream is dropped. */
  truncated: boolean;
}

export interface StatsOptions {
  usageOnly?: boolean;
}

export interface ContainerStats {
  timestamp: Date;
  /** Cumulative CPU time. */
  cpuUsageCoreNanoSeconds: number;
  /** CPU usage over the last sampling window, in billionths of a core. */
  cpuNanoCores: number;
  memoryUsageBytes: number;
  /** Usage minus inactive file cache, as the kubelet reports (and evicts/OOMs by). */
  memoryWorkingSetBytes: number;
  memoryRssBytes?: number;
  /** Present for sandboxes (they own the pod's network namespace). */
  network?: { rxBytes: number; txBytes: number };
  pids?: number;
}

export type EventType = 'container' | 'image' | 'network' | 'volume';

export interface RuntimeEvent {
  type: EventType;
  /** The engine's action: create, start, die, oom, kill, destroy, health_status, exec_die … */
  action: string;
  /** Text after ':' in actions such as `health_status: healthy`. */
  actionDetail?: string;
  id: string;
  /** The object's labels (reserved ones included), as the engine reports them. */
  labels: Labels;
  /** Set for `die` (and `exec_die`). */
  exitCode?: number;
  time: Date;
}

export interface EventFilter {
  types?: EventType[];
  actions?: string[];
  cluster?: string;
  node?: string;
  labels?: Labels;
}

// ---------------------------------------------------------------------------------------------
// The interface
// ---------------------------------------------------------------------------------------------

export interface ContainerRuntime {
  version(): Promise<RuntimeVersion>;
  /** Resolves when the engine answers; throws RuntimeUnavailableError otherwise. */
  ping(): Promise<void>;
  /** Called when the engine goes away or comes back. Returns the unsubscribe function. */
  onAvailabilityChange(cb: AvailabilityListener): () => void;
  /** Stops background work (event streams, reconnect loops). */
  close(): Promise<void>;

  runPodSandbox(cfg: PodSandboxConfig): Promise<string>;
  /** Stops the sandbox and any container still running in it. Idempotent. */
  stopPodSandbox(id: string): Promise<void>;
  /** Removes the sandbox and its containers (forcibly). Idempotent. */
  removePodSandbox(id: string): Promise<void>;
  podSandboxStatus(id: string): Promise<PodSandboxStatus>;
  listPodSandboxes(filter?: PodSandboxFilter): Promise<PodSandboxStatus[]>;

  createContainer(sandboxId: string, cfg: ContainerConfig): Promise<string>;
  startContainer(id: string): Promise<void>;
  /** SIGTERM (or the image's STOPSIGNAL), SIGKILL after `timeoutSeconds`. Stopped already: no-op. */
  stopContainer(id: string, timeoutSeconds: number): Promise<void>;
  /** Idempotent; kills the container if it runs. */
  removeContainer(id: string): Promise<void>;
  containerStatus(id: string): Promise<ContainerStatus>;
  listContainers(filter?: ContainerFilter): Promise<ContainerSummary[]>;

  imageStatus(ref: string): Promise<ImageStatus>;
  listImages(): Promise<ImageSummary[]>;
  /** @returns the image id (sha256:…). Throws PullError with the engine's message. */
  pullImage(ref: string, auth?: RegistryAuth, onProgress?: (p: PullProgress) => void): Promise<string>;
  /** Idempotent. Throws RuntimeConflictError while a container uses the image. */
  removeImage(ref: string): Promise<void>;

  ensureVolume(name: string, labels: Labels): Promise<VolumeInfo>;
  /** Idempotent. Throws RuntimeConflictError while a container uses the volume. */
  removeVolume(name: string): Promise<void>;
  listVolumes(filter?: ObjectFilter): Promise<VolumeInfo[]>;

  /** A bridge network, created if missing. */
  ensureNetwork(name: string, labels: Labels): Promise<NetworkInfo>;
  /** Idempotent. Throws RuntimeConflictError while containers are attached. */
  removeNetwork(name: string): Promise<void>;
  listNetworks(filter?: ObjectFilter): Promise<NetworkInfo[]>;

  logs(containerId: string, opts?: LogOptions, signal?: AbortSignal): AsyncIterable<LogLine>;

  exec(containerId: string, opts: ExecOptions): Promise<ExecSession>;
  /** Runs `cmd` to completion; throws ExecTimeoutError after `timeoutMs` (the process may linger). */
  execSync(containerId: string, cmd: string[], timeoutMs: number): Promise<ExecResult>;

  /**
   * `usageOnly`: CPU and memory only, without the network counters and pids (what the usage
   * sampler needs; the engine may then skip reading them).
   */
  containerStats(id: string, opts?: StatsOptions): Promise<ContainerStats>;

  /** Streams engine events until the returned function is called; reconnects by itself. */
  events(onEvent: (e: RuntimeEvent) => void, filter?: EventFilter): () => void;
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

export class RuntimeError extends Error {
  /** The engine's own message, when it sent one. */
  readonly engineMessage?: string;
  constructor(message: string, engineMessage?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RuntimeError';
    this.engineMessage = engineMessage;
  }
}

/** The engine cannot be reached (not running, wrong DOCKER_HOST, no permission on the socket). */
export class RuntimeUnavailableError extends RuntimeError {
  readonly endpoint: string;
  constructor(endpoint: string, detail: string, hint = 'is Docker running?', options?: { cause?: unknown }) {
    super(`cannot reach the Docker engine at ${endpoint}: ${detail}; ${hint}`, undefined, options);
    this.name = 'RuntimeUnavailableError';
    this.endpoint = endpoint;
  }
}

export type RuntimeObjectKind = 'container' | 'sandbox' | 'image' | 'volume' | 'network' | 'exec';

export class RuntimeNotFoundError extends RuntimeError {
  readonly kind: RuntimeObjectKind;
  readonly ref: string;
  constructor(kind: RuntimeObjectKind, ref: string, engineMessage?: string) {
    super(`${kind} ${ref} not found${engineMessage ? `: ${engineMessage}` : ''}`, engineMessage);
    this.name = 'RuntimeNotFoundError';
    this.kind = kind;
    this.ref = ref;
  }
}

/** Name already taken, object in use, container not running … */
export class RuntimeConflictError extends RuntimeError {
  constructor(message: string, engineMessage?: string) {
    super(message, engineMessage);
    this.name = 'RuntimeConflictError';
  }
}

/** `NotFound`: no such image/tag (or no access); `Unauthorized`: bad credentials; `Network`: registry unreachable. */
export type PullErrorKind = 'NotFound' | 'Unauthorized' | 'Network' | 'InvalidReference' | 'Other';

export class PullError extends RuntimeError {
  readonly image: string;
  readonly kind: PullErrorKind;
  constructor(image: string, engineMessage: string, kind: PullErrorKind) {
    super(`pulling image "${image}" failed: ${engineMessage}`, engineMessage);
    this.name = 'PullError';
    this.image = image;
    this.kind = kind;
  }
}

/** The engine could not start the container's process (bad command, missing mount source …). */
export class ContainerStartError extends RuntimeError {
  readonly containerId: string;
  constructor(containerId: string, engineMessage: string) {
    super(`starting container ${containerId.slice(0, 12)} failed: ${engineMessage}`, engineMessage);
    this.name = 'ContainerStartError';
    this.containerId = containerId;
  }
}

export class ExecTimeoutError extends RuntimeError {
  constructor(containerId: string, cmd: string[], timeoutMs: number) {
    super(`exec ${JSON.stringify(cmd)} in container ${containerId.slice(0, 12)} timed out after ${timeoutMs}ms`);
    this.name = 'ExecTimeoutError';
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers every implementation shares
// ---------------------------------------------------------------------------------------------

/**
 * A stable hash of what the container runs (everything but attempt, labels, annotations and log
 * path). The agent compares it with a running container's `specHash` to spot a changed spec.
 */
export function containerSpecHash(cfg: ContainerConfig): string {
  const { attempt: _a, labels: _l, annotations: _an, logPath: _lp, specHash: _h, ...spec } = cfg;
  return createHash('sha256').update(stableJson(spec)).digest('hex').slice(0, 16);
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${stableJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

export { parseImageRef, normalizeImageRef, type ImageRef } from './docker/image-ref.ts';
export { registryAuthForImage, registryAuthsForImage } from './docker/registry-auth.ts';
