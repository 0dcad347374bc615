/** The agent's options, the context its parts share, and the state kept per pod. */
import type * as k8s from 'kubernetes-types/core/v1.js';
import type { ResourceList } from '../api/quantity.ts';
import type { KubeObject } from '../api/types.ts';
import type { Client } from '../client/client.ts';
import type { EventRecorder } from '../client/event-recorder.ts';
import type { ContainerRuntime } from '../runtime/runtime.ts';
import type { BackoffOptions } from './backoff.ts';
import type { PodRuntime } from './pod-runtime.ts';
import type { Pod } from './util.ts';

export interface MetricsOptions {
  /** Sampling period; default 10 000 ms. */
  intervalMs?: number;
  /** How much history to keep; default 15 minutes. */
  windowMs?: number;
  /** Stats calls in flight at once; default 4. */
  concurrency?: number;
}

export interface NodeAgentOptions {
  client: Client;
  runtime: ContainerRuntime;
  /** The Node's name (also `kubernetes.io/hostname`). */
  nodeName: string;
  /** The cluster's name: labels every Docker object, so agents of other clusters never meet. */
  cluster: string;
  /** Folder for pod volumes (emptyDir, configMap, secret, downwardAPI files) and logs. */
  dataDir: string;
  /** Declared capacity (cpu, memory, pods, ephemeral-storage, extended resources such as nvidia.com/gpu).
   *  Default: this machine's CPUs and memory, 110 pods. */
  capacity?: ResourceList;
  /** What pods may use; default: the capacity. */
  allocatable?: ResourceList;
  /** Extra Node labels (kubernetes.io/hostname, os and arch are always set). */
  labels?: Record<string, string>;
  /** Taints the Node registers with. */
  taints?: k8s.Taint[];
  /** Docker network the pods join; default `wheelhouse-<cluster>` (created when missing). */
  network?: string;
  /** Address hostPorts are published on when a port names no hostIP; default 127.0.0.1 (a desktop choice). */
  hostPortIP?: string;
  /** CrashLoopBackOff: default 10 s doubling to 300 s. */
  restartBackoff?: BackoffOptions;
  /** ImagePullBackOff: default 10 s doubling to 300 s. */
  imagePullBackoff?: BackoffOptions;
  /** Lease duration written on the node's Lease; default 40 s. */
  leaseDurationSeconds?: number;
  /** Heartbeat: how often the Lease is renewed; default 10 000 ms. */
  leaseRenewIntervalMs?: number;
  /** How often node status is computed (and written if changed); default 10 000 ms. */
  nodeStatusUpdateIntervalMs?: number;
  /** Node status is written at least this often even if unchanged; default 5 minutes. */
  nodeStatusReportIntervalMs?: number;
  /**
   * Safety net for missed engine events, the kubelet's PLEG relist: every this often the node's
   * sandboxes and containers are listed (two requests) and only pods whose containers changed
   * since their last sync are synced. Default 10 000 ms. While the node is quiet (no engine
   * event, pod change or sync for a whole period) the period doubles up to
   * `resyncIdleIntervalMs`; any activity brings it back to this.
   */
  resyncIntervalMs?: number;
  /** The longest relist period of a quiet node; default 6 × resyncIntervalMs (60 s). */
  resyncIdleIntervalMs?: number;
  /** A full sync of every pod, whatever the relist says; default 5 minutes. */
  fullResyncIntervalMs?: number;
  /** Usage sampling (false: off). */
  metrics?: MetricsOptions | false;
  /** Secret volumes on a tmpfs (a host folder under /dev/shm); default: when /dev/shm is usable. */
  secretsOnTmpfs?: boolean;
  /** DNS servers for dnsPolicy ClusterFirst pods; default none (the engine's DNS). */
  clusterDNS?: string[];
  /** Default cluster.local. */
  clusterDomain?: string;
  /** First retry of a pod whose volumes could not be set up; doubles to 60 s. Default 1 000 ms. */
  volumeRetryMs?: number;
  /** Pods synced at once (the rest wait their turn); default 16. */
  maxConcurrentSyncs?: number;
}

export interface ResolvedOptions {
  hostPortIP: string;
  leaseDurationSeconds: number;
  leaseRenewIntervalMs: number;
  nodeStatusUpdateIntervalMs: number;
  nodeStatusReportIntervalMs: number;
  resyncIntervalMs: number;
  resyncIdleIntervalMs: number;
  fullResyncIntervalMs: number;
  secretsOnTmpfs: boolean;
  clusterDNS: string[];
  clusterDomain: string;
  volumeRetryMs: number;
}

/** Lookups in the agent's caches of the objects pods refer to. */
export interface ConfigSources {
  configMap(namespace: string, name: string): KubeObject | undefined;
  secret(namespace: string, name: string): KubeObject | undefined;
  pvc(namespace: string, name: string): KubeObject | undefined;
  /** The namespace's Services (for the service environment variables). */
  services(namespace: string): KubeObject[];
}

/** What every part of the agent is given. */
export interface AgentContext {
  readonly client: Client;
  readonly runtime: ContainerRuntime;
  readonly nodeName: string;
  readonly cluster: string;
  readonly network: string;
  readonly dataDir: string;
  readonly recorder: EventRecorder;
  readonly opts: ResolvedOptions;
  readonly sources: ConfigSources;
  /** The node's InternalIP (pods' hostIP). */
  hostIP(): string;
  allocatable(): ResourceList;
}

export interface WaitingReason {
  reason: string;
  message?: string;
}

/** What the agent remembers of one pod between syncs (everything else is read from the runtime). */
export interface PodState {
  uid: string;
  pod: Pod;
  /** Gone from the API (deleted, or bound elsewhere): stop and clean up. */
  deleted: boolean;
  /** Highest attempt per container name: restart counts survive a sandbox change. */
  attempts: Map<string, number>;
  /** Why a container waits (its last start failure), until it starts. */
  waiting: Map<string, WaitingReason>;
  /** The status last written (or read), to write only changes. */
  lastStatus?: k8s.PodStatus;
  volumeError?: string;
  volumeFailures: number;
  /** Containers were stopped for the pod's deletion. */
  killed: boolean;
  /** Termination messages read from exited containers, by container id. */
  terminationMessages: Map<string, string>;
  /** Running containers (name → id) as of the last sync: metrics, logs. */
  running: Map<string, string>;
  /** Bound after this agent's adoption scan: the runtime cannot hold anything of it yet (first sync skips the lookup). */
  fresh: boolean;
  /** Its sandboxes and containers (id and state) as the last sync left them: see runtimeFingerprint. */
  fingerprint?: string;
  /** What the engine held for it as the last sync left it (the kubelet's pod cache). */
  runtime?: PodRuntime;
  /**
   * The next sync may start from `runtime` instead of asking the engine: the relist found the
   * engine unchanged for the pod, and nothing has asked for a sync since (see NodeAgent.enqueue).
   */
  runtimeCurrent?: boolean;
  /** When its last sync finished (ms since the epoch). */
  syncedAt?: number;
}

export function newPodState(pod: Pod, fresh = false): PodState {
  return {
    uid: pod.metadata.uid!,
    pod,
    deleted: false,
    attempts: new Map(),
    waiting: new Map(),
    volumeFailures: 0,
    killed: false,
    terminationMessages: new Map(),
    running: new Map(),
    fresh,
  };
}
