/**
 * Headless Wheelhouse ("browser mode" and `wheelhouse serve`): the cluster, the Kubernetes API
 * over HTTPS (kubectl; DIR/kubeconfig), and — once built — the desktop UI on 127.0.0.1:PORT with
 * the same contract over a WebSocket, guarded by a token in the URL.
 */
import type { Cluster, ClusterConfig } from './cluster.ts';
import { startCluster } from './cluster.ts';
import { clusterPodIO } from './cluster-pod-io.ts';
import { startApiHttpServer, type ApiHttpServer } from './server/http/server.ts';
import type { MetricsSource } from './server/http/metrics-api.ts';

export interface ServeOptions extends ClusterConfig {
  /** Port of the Kubernetes API (HTTPS); 0 = any free port. */
  apiPort?: number;
  /** Address to listen on (default 127.0.0.1; anything else is an explicit user choice). */
  host?: string;
}

export interface Served {
  cluster: Cluster;
  apiServer: ApiHttpServer;
  stop(): Promise<void>;
}

export function clusterMetrics(cluster: Cluster): MetricsSource {
  return {
    podUsage: (ns, name) => cluster.metrics.podUsage(ns, name),
    nodeUsage(name) {
      const agent = cluster.agents.get(name);
      if (!agent) return undefined;
      const u = agent.metrics.nodeUsage().usage;
      return { cpuNanoCores: u.cpuNanoCores, memoryBytes: u.memoryWorkingSetBytes, timestamp: new Date(u.timestamp) };
    },
  };
}

export async function serve(opts: ServeOptions): Promise<Served> {
  const cluster = await startCluster(opts);
  let apiServer: ApiHttpServer;
  try {
    apiServer = await startApiHttpServer({
      api: cluster.api,
      dataDir: cluster.dataDir,
      host: opts.host,
      port: opts.apiPort ?? 0,
      podIO: clusterPodIO(cluster),
      metrics: clusterMetrics(cluster),
    });
  } catch (e) {
    await cluster.stop();
    throw e;
  }
  return {
    cluster,
    apiServer,
    async stop() {
      await apiServer.close();
      await cluster.stop();
    },
  };
}
