/**
 * THE typed contract between the app's main process (or `wheelhouse serve`'s browser mode) and the
 * renderer, after Podman Desktop's typed channel maps: every call with its argument and result
 * types (`DesktopCalls`), every pushed event with its payload (`DesktopEvents`).
 *
 *  - Main registers one handler per call through one generic `handle()` (electron/ipc.ts);
 *    preload exposes exactly these names through contextBridge (electron/preload.ts); browser
 *    mode carries the same calls and events over a WebSocket (core/desktop/browser-server.ts).
 *  - Every argument is validated in the main process (core/desktop/schemas.ts): the renderer is
 *    never trusted. A bad argument is a `BadRequest` naming the call and the field.
 *  - Errors cross as the envelope `{ error: { reason, message, details } }`; the renderer turns
 *    it back into a `DesktopError` (same reason, message and details).
 *  - Objects are plain Kubernetes JSON (Headlamp style). Lists and watches drop
 *    `metadata.managedFields`; Secrets never cross with their values unless asked for
 *    (`config.get` with `reveal`): `data` values become '' and the last-applied annotation is
 *    removed (see SECRET_MASK).
 *  - Pushed state (watch changes, pull progress, log lines) is batched by the main process: a
 *    renderer gets at most 4 such updates a second however much the cluster churns. Exec output
 *    is pushed at once (a terminal must echo).
 *
 * This file is imported by the renderer and by the Electron preload: runtime code here must run
 * in a browser (no Node imports; `import type` only from core).
 */
import type { KubeObject } from './api/types.ts';

// ---------------------------------------------------------------------------------------------
// Shared shapes
// ---------------------------------------------------------------------------------------------

/** Kinds the renderer may list, get, watch and delete. */
export const RESOURCE_KINDS = [
  'Namespace', 'Node', 'Pod', 'Service', 'Endpoints', 'ConfigMap', 'Secret', 'PersistentVolumeClaim', 'PersistentVolume',
  'ServiceAccount', 'ResourceQuota', 'LimitRange', 'Event', 'ReplicaSet', 'Deployment', 'StatefulSet', 'DaemonSet',
  'ControllerRevision', 'Job', 'CronJob', 'HorizontalPodAutoscaler', 'Role', 'RoleBinding', 'ClusterRole',
  'ClusterRoleBinding', 'PriorityClass', 'Lease',
] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob'] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

/** Kinds with a replica count the UI can change. */
export const SCALABLE_KINDS = ['Deployment', 'StatefulSet', 'ReplicaSet'] as const;
export type ScalableKind = (typeof SCALABLE_KINDS)[number];

/** Kinds `workloads.restart` can restart (a new pod-template annotation rolls every pod). */
export const RESTARTABLE_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet'] as const;
export type RestartableKind = (typeof RESTARTABLE_KINDS)[number];

/** What a masked Secret value reads in lists, watches and diffs. */
export const SECRET_MASK = '';

/** The pod-template annotation `kubectl rollout restart` sets. */
export const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';

export interface ObjectKey {
  namespace?: string;
  name: string;
  uid?: string;
}

export interface WorkloadRef {
  kind: WorkloadKind | 'Pod';
  namespace: string;
  name: string;
}

/** One problem of a YAML import: file, document, line:column, object, field, message. */
import type { ImportProblem } from './api/yaml-import.ts';
export type { ImportProblem };

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/**
 * Kubernetes Status reasons (NotFound, Conflict, Invalid, BadRequest, Forbidden …) plus
 * `ImportFailed` (details.problems lists every problem of a YAML import) and
 * `Unavailable` (no container runtime / the node agent cannot serve the request).
 */
export type DesktopErrorReason = string;

export interface DesktopErrorBody {
  reason: DesktopErrorReason;
  message: string;
  details?: {
    /** The argument at fault (`args.replicas`) for BadRequest from argument validation. */
    field?: string;
    /** Field causes of an Invalid object (from the API's Status). */
    causes?: Array<{ field?: string; reason?: string; message?: string }>;
    /** Every problem of a failed import (ImportFailed). */
    problems?: ImportProblem[];
    kind?: string;
    name?: string;
  };
}

export interface DesktopErrorEnvelope {
  error: DesktopErrorBody;
}

/** What the renderer throws when a call fails (rebuilt from the envelope). */
export class DesktopError extends Error {
  readonly reason: DesktopErrorReason;
  readonly details: NonNullable<DesktopErrorBody['details']>;
  constructor(reason: DesktopErrorReason, message: string, details: DesktopErrorBody['details'] = {}) {
    super(message);
    this.name = 'DesktopError';
    this.reason = reason;
    this.details = details;
  }
  toEnvelope(): DesktopErrorEnvelope {
    return { error: { reason: this.reason, message: this.message, ...(Object.keys(this.details).length ? { details: this.details } : {}) } };
  }
  static fromEnvelope(env: DesktopErrorEnvelope): DesktopError {
    return new DesktopError(env.error.reason, env.error.message, env.error.details ?? {});
  }
}

export function isErrorEnvelope(v: unknown): v is DesktopErrorEnvelope {
  if (!v || typeof v !== 'object' || !('error' in v)) return false;
  const e = (v as { error: unknown }).error;
  return !!e && typeof e === 'object' && typeof (e as DesktopErrorBody).reason === 'string' && typeof (e as DesktopErrorBody).message === 'string';
}

/** A call's outcome as it crosses IPC: the result, or the error envelope. */
export type CallOutcome<R> = { result: R } | DesktopErrorEnvelope;

// ---------------------------------------------------------------------------------------------
// Call payloads
// ---------------------------------------------------------------------------------------------

export interface ClusterInfo {
  name: string;
  /** Wheelhouse's version (package.json). */
  version: string;
  /** The container runtime, or null for a control-plane-only cluster. */
  runtime: { name: string; version?: string; available: boolean; error?: string } | null;
  /** Nodes this app runs (their agents are local): add/remove work on these. */
  localNodes: string[];
  /** How port-forward reaches pods here: `direct` = TCP to the pod IP on the Docker bridge (Linux). */
  portForward: 'direct' | 'unsupported';
  platform: string;
  /** How the renderer is hosted. */
  mode: 'electron' | 'browser';
  /** The kubeconfig this app writes (DIR/kubeconfig), when it serves the Kubernetes API. */
  kubeconfig?: KubeconfigInfo;
}

export interface KubeconfigInfo {
  /** DIR/kubeconfig: `kubectl --kubeconfig <path> …` works with it as it is. */
  path: string;
  /** The context name this cluster has there and in the user's kubeconfig. */
  context: string;
  /** The user's kubeconfig (first of $KUBECONFIG, else ~/.kube/config). */
  userConfig: string;
  /** The user's kubeconfig already has this cluster's context, pointing at this API server. */
  merged: boolean;
}

export interface ListArgs {
  kind: ResourceKind;
  /** Namespaced kinds: one namespace; absent: all namespaces. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface ListResult {
  items: KubeObject[];
  resourceVersion: string;
}

export interface WatchOpened extends ListResult {
  watchId: string;
}

export interface GetArgs {
  kind: ResourceKind;
  namespace?: string;
  name: string;
}

export interface DeleteArgs extends GetArgs {
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  gracePeriodSeconds?: number;
}

export interface ManifestFile {
  /** Shown in problems (`web.yaml`). */
  name: string;
  text: string;
}

export interface ImportArgs {
  files: ManifestFile[];
  /** For namespaced objects that name none (default `default`). */
  namespace?: string;
}

export interface ImportObject {
  file: string;
  document: number;
  line: number;
  /** `Deployment default/web` */
  object: string;
  kind: string;
  apiVersion: string;
  namespace?: string;
  name: string;
  action: 'created' | 'configured' | 'unchanged';
  /** Before (absent for created) and after, for a diff. Secret values are masked (`•••• (N bytes)`, `changed` marked). */
  diff?: { before?: KubeObject; after: KubeObject };
}

export interface ImportPreview {
  /** True when every document is valid (the import can be applied). */
  ok: boolean;
  objects: ImportObject[];
  /** Every problem of every document, with file, document number and line. */
  problems: ImportProblem[];
  /** Whether this was a dry run (yaml.preview) or the import was applied (yaml.apply). */
  applied: boolean;
}

export interface WorkloadArgs {
  namespace: string;
  name: string;
}

export interface ScaleArgs extends WorkloadArgs {
  kind: ScalableKind;
  replicas: number;
}

export interface RestartArgs extends WorkloadArgs {
  kind: RestartableKind;
}

export interface SuspendArgs extends WorkloadArgs {
  kind: 'Job' | 'CronJob';
  suspend: boolean;
}

export interface RolloutRevision {
  revision: number;
  replicaSet: string;
  images: string[];
  changeCause?: string;
  /** When the ReplicaSet was created (RFC 3339). */
  created?: string;
  replicas: number;
  readyReplicas: number;
  /** The Deployment's current revision. */
  current: boolean;
  /** The pod template of this revision (pod-template-hash label removed), for diffs. */
  template: unknown;
}

export interface AutoRollbackInfo {
  from: number;
  to: number;
  reason: string;
  time: string;
}

export interface RolloutHistory {
  namespace: string;
  name: string;
  /** Oldest first. */
  revisions: RolloutRevision[];
  lastAutoRollback?: AutoRollbackInfo;
  /** Rollback events (automatic and manual), newest first. */
  rollbacks: Array<{ type: string; reason: string; message: string; time?: string }>;
}

export interface UndoArgs extends WorkloadArgs {
  /** 0: the previous revision. */
  revision: number;
}

export interface UndoResult {
  revision: number;
  replicaSet: string;
  skipped: boolean;
  message: string;
}

export interface PauseArgs extends WorkloadArgs {
  paused: boolean;
}

export interface NodeArgs {
  name: string;
}

export interface DrainArgs extends NodeArgs {
  gracePeriodSeconds?: number;
  /** Also delete pods no controller manages (they are lost). */
  force?: boolean;
  /** How long evictions refused by a PodDisruptionBudget are retried (default 30 s; 0: once). */
  timeoutSeconds?: number;
}

export interface DrainResult {
  evicted: string[];
  skipped: Array<{ pod: string; reason: string }>;
  /** Pods still refused by their PodDisruptionBudget when the timeout ran out. */
  blocked: Array<{ pod: string; budget: string; reason: string }>;
}

export interface Taint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

export interface AddNodeArgs {
  name: string;
  /** Kubernetes quantities: `2`, `500m`. */
  cpu: string;
  /** `4Gi`, `512Mi`. */
  memory: string;
  pods?: number;
  labels?: Record<string, string>;
  taints?: Taint[];
}

/** Logs of one pod, or of every pod of a workload. */
export interface LogTarget {
  namespace: string;
  pod?: string;
  workload?: { kind: WorkloadKind; name: string };
  /** Absent: the pod's only container, or every container of a multi-container pod. */
  container?: string;
}

export interface LogsOpenArgs extends LogTarget {
  follow: boolean;
  tailLines?: number;
  sinceSeconds?: number;
  previous?: boolean;
  timestamps?: boolean;
  /** Keep only lines containing this text (case-insensitive). */
  search?: string;
}

export interface LogSource {
  pod: string;
  container: string;
}

export interface LogsOpened {
  streamId: string;
  sources: LogSource[];
  /** Sources that could not be opened (container waiting, pod not running …). */
  errors: Array<LogSource & { message: string }>;
}

export interface LogEntry {
  pod: string;
  container: string;
  stream: 'stdout' | 'stderr';
  line: string;
  time?: string;
}

export interface LogsDownloadArgs extends LogTarget {
  previous?: boolean;
  timestamps?: boolean;
  search?: string;
}

export interface LogsDownload {
  fileName: string;
  text: string;
  /** The text was cut at the size limit. */
  truncated: boolean;
}

export interface ExecOpenArgs {
  namespace: string;
  pod: string;
  container?: string;
  /** Default: a shell (`sh`). */
  command?: string[];
  cols: number;
  rows: number;
}

export interface ExecOpened {
  sessionId: string;
  container: string;
  command: string[];
}

/** Forward to a pod's port, or to a Service's port (each connection goes to a ready endpoint, following pods as they come and go). */
export interface PortForwardArgs {
  namespace: string;
  /** Exactly one of pod and service. */
  pod?: string;
  service?: string;
  /** The pod's container port, or the Service's port. */
  port: number;
}

export interface PortForwardInfo {
  id: string;
  namespace: string;
  pod?: string;
  service?: string;
  port: number;
  localPort: number;
  /** `http://127.0.0.1:<localPort>/` — open it in a browser. */
  url: string;
  /** Connections carried so far. */
  connections: number;
}

export type MetricsTarget =
  | { type: 'cluster' }
  | { type: 'node'; name: string }
  | { type: 'pod'; namespace: string; name: string }
  | { type: 'workload'; kind: WorkloadKind; namespace: string; name: string }
  | { type: 'hpa'; namespace: string; name: string };

/** One usage point: CPU in cores, memory as working-set bytes. */
export interface UsagePoint {
  /** ms since the epoch. */
  t: number;
  cpu: number;
  memory: number;
}

export interface HpaPoint {
  t: number;
  currentReplicas: number;
  desiredReplicas: number;
  minReplicas: number;
  maxReplicas: number;
  /** Per metric: current vs target (utilization % or a value; `unit` says which). */
  metrics: Array<{ name: string; current?: number; target?: number; unit: '%' | 'cores' | 'bytes' | '' }>;
}

export type MetricsSeries =
  | { type: 'usage'; points: UsagePoint[]; windowMs: number; intervalMs: number; containers?: Record<string, UsagePoint[]>; nodes?: Record<string, UsagePoint> }
  | { type: 'hpa'; points: HpaPoint[]; windowMs: number; intervalMs: number };

export interface MetricsSubscribed {
  subscriptionId: string;
  series: MetricsSeries;
}

/** Latest usage of every pod and node (for lists and the overview). */
export interface MetricsSnapshot {
  t: number;
  /** `namespace/name` → usage. */
  pods: Record<string, UsagePoint>;
  nodes: Record<string, UsagePoint>;
}

export interface PodRef {
  namespace: string;
  pod: string;
}

export interface ImagePullState {
  image: string;
  container: string;
  done: boolean;
  error?: string;
  currentBytes: number;
  totalBytes: number;
  layers: number;
}

export type ConfigKind = 'ConfigMap' | 'Secret';

export interface ConfigRef {
  kind: ConfigKind;
  namespace: string;
  name: string;
}

export interface ConfigEntry {
  key: string;
  /** The value as text (encoding `text`) or base64 (encoding `base64`, for binary data); '' while masked. */
  value: string;
  encoding: 'text' | 'base64';
  /** Size of the decoded value in bytes. */
  size: number;
  /** A Secret value not revealed (value is ''). */
  masked: boolean;
}

export interface ConfigGetArgs extends ConfigRef {
  /** Secrets: return the values (decoded from base64). */
  reveal?: boolean;
}

export interface ConfigData extends ConfigRef {
  type?: string;
  immutable?: boolean;
  resourceVersion?: string;
  entries: ConfigEntry[];
  usedBy: WorkloadRef[];
}

export interface ConfigSaveArgs extends ConfigRef {
  /** Secret type for a new Secret (default Opaque). */
  type?: string;
  /**
   * Every entry (the object's data is replaced). An entry of a masked Secret value that was not
   * revealed can be kept as it is with `keep: true` (its value is not sent back).
   */
  entries: Array<{ key: string; value: string; encoding: 'text' | 'base64'; keep?: boolean }>;
  /** Absent: create. Present: update, failing with Conflict when the object changed meanwhile. */
  resourceVersion?: string;
  /** Validate (and dry-run through the API) only. */
  dryRun?: boolean;
}

export interface ImageInfo {
  id: string;
  tags: string[];
  size: number;
  created: string;
  /** Pods (namespace/name) whose containers use this image. */
  usedBy: string[];
}

// ---------------------------------------------------------------------------------------------
// The call map
// ---------------------------------------------------------------------------------------------

export interface DesktopCalls {
  'cluster.info': { args: Record<string, never>; result: ClusterInfo };

  'resources.list': { args: ListArgs; result: ListResult };
  'resources.get': { args: GetArgs; result: KubeObject };
  /** Lists, then pushes changes in `watch.batch` until `resources.unwatch` (or the session ends). */
  'resources.watch': { args: ListArgs; result: WatchOpened };
  'resources.unwatch': { args: { watchId: string }; result: null };
  'resources.delete': { args: DeleteArgs; result: null };

  /** Parse, validate and dry-run: what an import would do (created/configured/unchanged, diffs, problems). */
  'yaml.preview': { args: ImportArgs; result: ImportPreview };
  /** Apply, all or nothing: fails with ImportFailed (details.problems) when any document has a problem. */
  'yaml.apply': { args: ImportArgs; result: ImportPreview };

  'workloads.scale': { args: ScaleArgs; result: null };
  /** `kubectl rollout restart`: sets the restartedAt pod-template annotation. */
  'workloads.restart': { args: RestartArgs; result: null };
  'workloads.suspend': { args: SuspendArgs; result: null };
  /** Creates a Job from a CronJob's template now (`kubectl create job --from=cronjob/…`). */
  'workloads.trigger': { args: WorkloadArgs; result: { job: string } };

  'rollout.history': { args: WorkloadArgs; result: RolloutHistory };
  'rollout.undo': { args: UndoArgs; result: UndoResult };
  'rollout.pause': { args: PauseArgs; result: null };

  'nodes.cordon': { args: NodeArgs; result: null };
  'nodes.uncordon': { args: NodeArgs; result: null };
  /** Cordon, then evict (honouring PodDisruptionBudgets) every pod but DaemonSet pods (unmanaged pods only with `force`). */
  'nodes.drain': { args: DrainArgs; result: DrainResult };
  'nodes.add': { args: AddNodeArgs; result: null };
  'nodes.remove': { args: NodeArgs; result: null };

  'namespaces.create': { args: { name: string }; result: null };

  /** Streams log lines in `logs.batch` events until the logs end (`logs.end`) or `logs.close`. */
  'logs.open': { args: LogsOpenArgs; result: LogsOpened };
  'logs.close': { args: { streamId: string }; result: null };
  'logs.download': { args: LogsDownloadArgs; result: LogsDownload };

  /** A TTY session; output comes in `exec.output`, the end in `exec.exit`. */
  'exec.open': { args: ExecOpenArgs; result: ExecOpened };
  'exec.write': { args: { sessionId: string; data: string }; result: null };
  'exec.resize': { args: { sessionId: string; cols: number; rows: number }; result: null };
  'exec.close': { args: { sessionId: string }; result: null };

  /** A listener on 127.0.0.1 that proxies each connection to the pod's port. */
  'portForward.open': { args: PortForwardArgs; result: PortForwardInfo };
  'portForward.close': { args: { id: string }; result: null };
  'portForward.list': { args: Record<string, never>; result: PortForwardInfo[] };

  /** History now, then each new sample in `metrics.samples`. */
  'metrics.subscribe': { args: { target: MetricsTarget }; result: MetricsSubscribed };
  'metrics.unsubscribe': { args: { subscriptionId: string }; result: null };
  'metrics.snapshot': { args: Record<string, never>; result: MetricsSnapshot };

  'pull.progress': { args: PodRef; result: ImagePullState[] };

  'config.get': { args: ConfigGetArgs; result: ConfigData };
  'config.save': { args: ConfigSaveArgs; result: ConfigData };
  'config.usedBy': { args: ConfigRef; result: WorkloadRef[] };

  'images.list': { args: Record<string, never>; result: ImageInfo[] };
  /** Add (or refresh) this cluster's context in the user's kubeconfig, keeping everything else there. */
  'kubeconfig.merge': { args: { makeCurrent?: boolean }; result: { path: string; context: string } };
}

export type CallName = keyof DesktopCalls;
export type CallArgs<K extends CallName> = DesktopCalls[K]['args'];
export type CallResult<K extends CallName> = DesktopCalls[K]['result'];

/** Every call, at run time (preload and ipc.ts register exactly these). */
export const CALL_NAMES = [
  'cluster.info',
  'kubeconfig.merge',
  'resources.list', 'resources.get', 'resources.watch', 'resources.unwatch', 'resources.delete',
  'yaml.preview', 'yaml.apply',
  'workloads.scale', 'workloads.restart', 'workloads.suspend', 'workloads.trigger',
  'rollout.history', 'rollout.undo', 'rollout.pause',
  'nodes.cordon', 'nodes.uncordon', 'nodes.drain', 'nodes.add', 'nodes.remove',
  'namespaces.create',
  'logs.open', 'logs.close', 'logs.download',
  'exec.open', 'exec.write', 'exec.resize', 'exec.close',
  'portForward.open', 'portForward.close', 'portForward.list',
  'metrics.subscribe', 'metrics.unsubscribe', 'metrics.snapshot',
  'pull.progress',
  'config.get', 'config.save', 'config.usedBy',
  'images.list',
] as const satisfies readonly CallName[];

// ---------------------------------------------------------------------------------------------
// Pushed events
// ---------------------------------------------------------------------------------------------

export interface WatchChange {
  watchId: string;
  /** The watch restarted (e.g. its history was compacted): these items replace everything. */
  reset?: KubeObject[];
  /** Added or modified objects, latest state only (several changes to one object collapse). */
  upserts: KubeObject[];
  deletes: ObjectKey[];
}

export interface DesktopEvents {
  /** Changes of every open watch since the last batch (≤ 4 batches a second). */
  'watch.batch': { changes: WatchChange[] };
  /** New log lines of open streams (≤ 4 batches a second). */
  'logs.batch': { streams: Array<{ streamId: string; lines: LogEntry[] }> };
  'logs.end': { streamId: string; error?: string };
  'exec.output': { sessionId: string; data: string };
  'exec.exit': { sessionId: string; exitCode?: number; error?: string };
  /** Image pull progress of pods (latest state per pod; ≤ 4 batches a second). */
  'pull.update': { pods: Array<PodRef & { images: ImagePullState[] }> };
  'metrics.samples': { subscriptionId: string; usage?: UsagePoint; hpa?: HpaPoint; containers?: Record<string, UsagePoint>; nodes?: Record<string, UsagePoint> };
  'portForward.closed': { id: string; reason: string };
}

export type EventName = keyof DesktopEvents;

export const EVENT_NAMES = [
  'watch.batch', 'logs.batch', 'logs.end', 'exec.output', 'exec.exit', 'pull.update', 'metrics.samples', 'portForward.closed',
] as const satisfies readonly EventName[];

/**
 * How a batched event is pushed: at most one per this many milliseconds per session — ≤ 4 a
 * second, with 10 ms a batch to spare so that timer and network jitter never fit a fifth into a
 * second as the renderer sees it.
 */
export const BATCH_INTERVAL_MS = 260;

/**
 * The surface preload exposes as `window.wheelhouse` (Electron), and what the renderer's
 * transport layer presents either way.
 */
export interface DesktopBridge {
  /** One function per call; each resolves to the result or the error envelope (never rejects for an API error). */
  calls: { [K in CallName]: (args: CallArgs<K>) => Promise<CallOutcome<CallResult<K>>> };
  /** Subscribe to a pushed event; returns the unsubscribe function. */
  on<E extends EventName>(event: E, listener: (payload: DesktopEvents[E]) => void): () => void;
}

/** IPC channel names (Electron). */
export const IPC_CALL_PREFIX = 'wheelhouse:call:';
export const IPC_EVENT_PREFIX = 'wheelhouse:event:';
/** Browser mode: the WebSocket path (token required as `?token=`). */
export const WS_PATH = '/wheelhouse/ws';

/** Browser mode wire messages. */
export type WsClientMessage = { id: number; call: string; args: unknown };
export type WsServerMessage =
  | { id: number; result: unknown }
  | ({ id: number } & DesktopErrorEnvelope)
  | { event: string; payload: unknown };

// Compile-time checks: CALL_NAMES and EVENT_NAMES list every call and event.
type MissingCalls = Exclude<CallName, (typeof CALL_NAMES)[number]>;
type MissingEvents = Exclude<EventName, (typeof EVENT_NAMES)[number]>;
export const CONTRACT_COMPLETE: [MissingCalls, MissingEvents] extends [never, never] ? true : never = true;
