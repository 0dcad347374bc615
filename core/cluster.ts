/**
 * Composition root: builds one cluster from a config. Constructors are wired by hand here and
 * nowhere else (no DI container): store → API layer (with its admission chain) → controllers and
 * scheduler (in-process clients) → one node agent per local node on the container runtime.
 *
 * Local nodes are kept as Node objects carrying the annotation `wheelhouse.io/local-node` (their
 * declared capacity, labels and taints), so a restarted app brings the same nodes back and their
 * agents adopt the containers that kept running.
 */
import { mkdirSync } from 'node:fs';
import { availableParallelism, homedir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { isApiError } from './api/errors.ts';
import type { KubeObject } from './api/types.ts';
import { openStore, type Store } from './store/index.ts';
import type { StoreOpenOptions } from './store/store.ts';
import { acquireStoreLock } from './store/drivers/store-lock.ts';
import { EncryptingStore } from './store/encryption.ts';
import { fileKeyProvider, type KeyProvider } from './store/key-provider.ts';
import { ApiServer } from './server/api-server.ts';
import { defaultTolerationSeconds } from './server/admission/default-toleration-seconds.ts';
import { limitRanger } from './server/admission/limit-ranger.ts';
import { podSecurityAdmission } from './server/admission/pod-security.ts';
import { resourceQuotaAdmission } from './server/admission/resource-quota.ts';
import { InProcessClient } from './client/in-process-client.ts';
import { ControllerManager } from './controllers/manager.ts';
import type { ControllerOptions } from './controllers/controller.ts';
import { GarbageCollector } from './controllers/garbage-collector.ts';
import { NamespaceController } from './controllers/namespace-controller.ts';
import { NodeLifecycleController } from './controllers/node-lifecycle-controller.ts';
import { EndpointsController } from './controllers/endpoints-controller.ts';
import { ReplicaSetController } from './controllers/replicaset-controller.ts';
import { DeploymentController } from './controllers/deployment-controller.ts';
import { StatefulSetController } from './controllers/statefulset-controller.ts';
import { DaemonSetController } from './controllers/daemonset-controller.ts';
import { JobController, TTLAfterFinishedController } from './controllers/job-controller.ts';
import { CronJobController } from './controllers/cronjob-controller.ts';
import { HpaController } from './controllers/hpa-controller.ts';
import { ResourceQuotaController } from './controllers/resource-quota-controller.ts';
import { EventTTLController } from './controllers/event-ttl-controller.ts';
import { DisruptionController } from './controllers/disruption-controller.ts';
import type { PodMetricsSource, PodUsage } from './controllers/hpa/metrics.ts';
import { Scheduler } from './scheduler/scheduler.ts';
import { NodeAgent } from './agent/node-agent.ts';
import type { NodeAgentOptions } from './agent/types.ts';
import type { ContainerRuntime } from './runtime/runtime.ts';
import { DockerRuntime } from './runtime/docker/docker-runtime.ts';
import { log } from './log.ts';
import { ClusterNetwork } from './network/cluster-network.ts';
import { DEFAULT_CLUSTER_DOMAIN, DEFAULT_SERVICE_CIDR } from './network/config.ts';
import { dockerSafe } from './agent/util.ts';

export const LOCAL_NODE_ANNOTATION = 'wheelhouse.io/local-node';

export interface LocalNodeSpec {
  name: string;
  /** cpu, memory, pods, extended resources (nvidia.com/gpu …). Default: this machine's CPUs and memory, 110 pods. */
  capacity?: Record<string, string>;
  labels?: Record<string, string>;
  taints?: Array<{ key: string; value?: string; effect: string }>;
}

export interface ClusterConfig {
  /** Folder for the store, kubeconfig, keys, pod volumes. Default: ~/.wheelhouse (WHEELHOUSE_DATA_DIR overrides). */
  dataDir: string;
  /** Store URL; default `lowdb:<dataDir>/store.json`. */
  storeUrl?: string;
  /** Cluster name: labels every Docker object this cluster creates. Default `wheelhouse`. */
  name?: string;
  /** The container runtime for local node agents (default: the local Docker engine); false: control plane only. */
  runtime?: ContainerRuntime | false;
  /** The node created on first start when the cluster has none. */
  defaultNode?: LocalNodeSpec;
  controllers?: Partial<ControllerOptions>;
  /** Options passed to every node agent (backoffs, intervals …). */
  agent?: Partial<Omit<NodeAgentOptions, 'client' | 'runtime' | 'nodeName' | 'cluster' | 'dataDir'>>;
  /** Run the scheduler and controllers (default true). */
  controlPlane?: boolean;
  network?: NetworkConfig;
  /** The key that encrypts Secrets at rest. Default: `<dataDir>/encryption-key` (created 0600); the desktop app passes an OS-keychain one. */
  encryptionKey?: KeyProvider;
  /** Watch history the store keeps for resuming watches (default 10,000 events, 5 minutes). */
  watchHistory?: StoreOpenOptions;
}

export interface NetworkConfig {
  /** Run the service proxy and cluster DNS (default: when the runtime is the Docker engine). */
  services?: boolean;
  /** Cluster IPs come from here (default 10.96.0.0/16). Clusters sharing a machine should differ. */
  serviceCIDR?: string;
  /** Default cluster.local. */
  clusterDomain?: string;
  /** Where NodePort and LoadBalancer ports listen (default 127.0.0.1; other interfaces are an explicit choice). */
  hostAddress?: string;
  /** false: no host iptables (cluster IPs then work only from the desktop's relays). Default: used when possible. */
  iptables?: boolean;
  /** Upstream DNS for names outside the cluster (default: the host's resolvers). */
  upstreamDNS?: string[];
  /** Remove the host's service rules on stop (tests); by default they stay, as kube-proxy's do. */
  removeRulesOnStop?: boolean;
}

export interface Cluster {
  readonly name: string;
  readonly dataDir: string;
  readonly storeUrl: string;
  readonly store: Store;
  readonly api: ApiServer;
  /** An admin client on the in-process transport. */
  readonly client: InProcessClient;
  readonly runtime?: ContainerRuntime;
  readonly agents: ReadonlyMap<string, NodeAgent>;
  /** Pod usage from every local agent (HPA, `kubectl top`, charts). */
  readonly metrics: PodMetricsSource;
  addNode(spec: LocalNodeSpec): Promise<void>;
  /** Stops the node's agent, removes its containers and deletes the Node (its pods move elsewhere). */
  removeNode(name: string): Promise<void>;
  /** Starts the node's agent afresh (after it stopped or hung): it adopts the pods' containers. */
  restartNode(name: string): Promise<void>;
  /** The service network (proxy, DNS), when the cluster runs one. */
  readonly network?: ClusterNetwork;
  /** The agent running a pod's node, for logs/exec/port-forward. */
  agentForPod(namespace: string, name: string): Promise<NodeAgent | undefined>;
  stop(): Promise<void>;
}

export function defaultDataDir(): string {
  return resolve(process.env.WHEELHOUSE_DATA_DIR || join(homedir(), '.wheelhouse'));
}

export function defaultNodeSpec(): LocalNodeSpec {
  return {
    name: 'node-1',
    capacity: { cpu: String(availableParallelism()), memory: `${Math.floor(totalmem() / 1024 / 1024)}Mi`, pods: '110' },
  };
}

export async function startCluster(cfg: ClusterConfig): Promise<Cluster> {
  const dataDir = resolve(cfg.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const name = cfg.name ?? 'wheelhouse';
  const storeUrl = cfg.storeUrl ?? `lowdb:${join(dataDir, 'store.json')}`;
  // One process per data folder (whatever the store): it also owns the folder's containers.
  const lock = await acquireStoreLock(join(dataDir, 'wheelhouse'));
  let store: Store;
  try {
    // Secrets are encrypted at rest (AES-256-GCM); plaintext ones from before are rewritten now.
    store = await EncryptingStore.open(await openStore(storeUrl, cfg.watchHistory ?? {}), cfg.encryptionKey ?? fileKeyProvider(dataDir));
  } catch (e) {
    await lock.release();
    throw e;
  }

  const serviceCIDR = cfg.network?.serviceCIDR ?? DEFAULT_SERVICE_CIDR;
  const clusterDomain = cfg.network?.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN;
  const api = new ApiServer({ store, serviceCIDR });
  const listIn = async (apiVersion: string, kind: string, namespace: string) => (await api.list({ apiVersion, kind }, { namespace })).items;
  api.admission
    .add(defaultTolerationSeconds())
    .add(limitRanger((ns) => listIn('v1', 'LimitRange', ns)))
    .add(podSecurityAdmission({
      getNamespace: (name) => api.get({ apiVersion: 'v1', kind: 'Namespace', name }),
      listPods: (ns) => listIn('v1', 'Pod', ns),
    }))
    .add(resourceQuotaAdmission(listIn));
  await api.bootstrap();
  const client = new InProcessClient(api);

  const agents = new Map<string, NodeAgent>();
  const metrics: PodMetricsSource = {
    podUsage(namespace, pod): PodUsage | undefined {
      for (const a of agents.values()) {
        const u = a.metrics.podUsage(namespace, pod);
        if (u) {
          return {
            cpuNanoCores: u.usage.cpuNanoCores,
            memoryBytes: u.usage.memoryWorkingSetBytes,
            timestamp: new Date(u.usage.timestamp),
            containers: u.containers.map((c) => ({ name: c.name, cpuNanoCores: c.cpuNanoCores, memoryBytes: c.memoryWorkingSetBytes })),
          };
        }
      }
      return undefined;
    },
  };

  let manager: ControllerManager | undefined;
  let scheduler: Scheduler | undefined;
  if (cfg.controlPlane !== false) {
    manager = new ControllerManager(client.as({ username: 'system:kube-controller-manager', groups: ['system:masters'] }), cfg.controllers);
    manager
      .add((ctx) => new GarbageCollector(ctx))
      .add((ctx) => new NamespaceController(ctx))
      .add((ctx) => new NodeLifecycleController(ctx), 1)
      .add((ctx) => new EndpointsController(ctx))
      .add((ctx) => new ReplicaSetController(ctx), 4)
      .add((ctx) => new DeploymentController(ctx), 4)
      .add((ctx) => new StatefulSetController(ctx))
      .add((ctx) => new DaemonSetController(ctx))
      .add((ctx) => new JobController(ctx))
      .add((ctx) => new TTLAfterFinishedController(ctx), 1)
      .add((ctx) => new CronJobController(ctx), 1)
      .add((ctx) => new HpaController(ctx, metrics), 1)
      .add((ctx) => new ResourceQuotaController(ctx), 1)
      .add((ctx) => new EventTTLController(ctx), 1)
      .add((ctx) => new DisruptionController(ctx), 1);
    await manager.start();
    scheduler = new Scheduler({ client: client.as({ username: 'system:kube-scheduler', groups: ['system:masters'] }) });
    await scheduler.start();
  }

  const runtime = cfg.runtime === false ? undefined : (cfg.runtime ?? new DockerRuntime());
  const networkName = `wheelhouse-${dockerSafe(name)}`;
  let network: ClusterNetwork | undefined;
  // The service network needs a real engine (host routes, a gateway to listen on); test runtimes opt in.
  if (runtime && (cfg.network?.services ?? runtime instanceof DockerRuntime)) {
    network = new ClusterNetwork({
      client: client.as({ username: 'system:kube-proxy', groups: ['system:masters'] }),
      runtime,
      cluster: name,
      clusterId: `${name}|${dataDir}`,
      network: networkName,
      serviceCIDR,
      clusterDomain,
      ...(cfg.network?.hostAddress ? { hostAddress: cfg.network.hostAddress } : {}),
      ...(cfg.network?.iptables === false ? { iptables: false } : {}),
      ...(cfg.network?.upstreamDNS ? { upstreamDNS: cfg.network.upstreamDNS } : {}),
    });
    try {
      await network.start();
      log.info('service network started', { proxy: network.proxy.mode, serviceCIDR, dns: network.clusterDNS()[0] ?? 'engine default' });
    } catch (e) {
      // The cluster still runs: pods get the engine's DNS and no service rules.
      log.error('the service network could not start; services will not be reachable', { error: (e as Error).message });
      await network.stop().catch(() => {});
      network = undefined;
    }
  }
  const startAgent = async (spec: LocalNodeSpec) => {
    if (!runtime) throw new Error('this cluster runs without a container runtime: it cannot host nodes');
    const agent = new NodeAgent({
      ...(network ? { clusterDNS: network.clusterDNS(), clusterDomain } : {}),
      ...(cfg.agent ?? {}),
      network: networkName,
      client: client.as({ username: `system:node:${spec.name}`, groups: ['system:nodes', 'system:masters'] }),
      runtime,
      nodeName: spec.name,
      cluster: name,
      dataDir: join(dataDir, 'nodes', spec.name),
      capacity: spec.capacity,
      labels: spec.labels,
      taints: spec.taints as NodeAgentOptions['taints'],
    });
    await agent.start();
    agents.set(spec.name, agent);
    await client.patch({ apiVersion: 'v1', kind: 'Node', name: spec.name }, 'merge', {
      metadata: { annotations: { [LOCAL_NODE_ANNOTATION]: JSON.stringify({ capacity: spec.capacity, labels: spec.labels, taints: spec.taints }) } },
    });
    log.info('node agent started', { node: spec.name });
  };

  if (runtime) {
    const nodes = await client.list({ apiVersion: 'v1', kind: 'Node' });
    const local = nodes.items.filter((n) => n.metadata.annotations?.[LOCAL_NODE_ANNOTATION]);
    const specs = local.length ? local.map(specFromNode) : [cfg.defaultNode ?? defaultNodeSpec()];
    for (const spec of specs) await startAgent(spec);
  }

  log.info('cluster started', { dataDir, store: storeUrl, revision: store.currentRevision(), nodes: [...agents.keys()] });
  let stopped = false;
  return {
    name,
    dataDir,
    storeUrl,
    store,
    api,
    client,
    runtime,
    agents,
    metrics,
    ...(network ? { network } : {}),
    async addNode(spec) {
      if (agents.has(spec.name)) throw new Error(`node "${spec.name}" already exists`);
      try {
        const existing = await client.get({ apiVersion: 'v1', kind: 'Node', name: spec.name });
        if (!existing.metadata.annotations?.[LOCAL_NODE_ANNOTATION]) throw new Error(`a node named "${spec.name}" already exists and is not a local node`);
      } catch (e) {
        if (!isApiError(e, 'NotFound')) throw e;
      }
      await startAgent(spec);
    },
    async removeNode(nodeName) {
      const agent = agents.get(nodeName);
      if (!agent) throw new Error(`node "${nodeName}" is not a local node of this cluster`);
      agents.delete(nodeName);
      await agent.remove();
      log.info('node removed', { node: nodeName });
    },
    async restartNode(nodeName) {
      const agent = agents.get(nodeName);
      if (!agent) throw new Error(`node "${nodeName}" is not a local node of this cluster`);
      const spec = specFromNode(await client.get({ apiVersion: 'v1', kind: 'Node', name: nodeName }));
      await agent.stop();
      // startAgent replaces the map entry only once the new agent runs: a failed restart can be retried.
      await startAgent(spec);
      log.info('node agent restarted', { node: nodeName });
    },
    async agentForPod(namespace, pod) {
      try {
        const p = await client.get({ apiVersion: 'v1', kind: 'Pod', namespace, name: pod });
        return p.spec?.nodeName ? agents.get(p.spec.nodeName) : undefined;
      } catch (e) {
        if (isApiError(e, 'NotFound')) return undefined;
        throw e;
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      // Containers keep running: the next start adopts them.
      for (const a of agents.values()) await a.stop();
      await network?.stop({ removeRules: cfg.network?.removeRulesOnStop }).catch((e) => log.warn('service network stop failed', { error: (e as Error).message }));
      scheduler?.stop();
      manager?.stop();
      await runtime?.close();
      await store.close();
      await lock.release();
      log.info('cluster stopped', { dataDir });
    },
  };
}

function specFromNode(n: KubeObject): LocalNodeSpec {
  let saved: Partial<LocalNodeSpec> = {};
  try {
    saved = JSON.parse(n.metadata.annotations![LOCAL_NODE_ANNOTATION]!);
  } catch {
    /* fall back to what the Node says */
  }
  return {
    name: n.metadata.name!,
    capacity: saved.capacity ?? n.status?.capacity,
    labels: saved.labels,
    taints: saved.taints,
  };
}

