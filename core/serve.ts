/**
 * Headless Wheelhouse ("browser mode" and `wheelhouse serve`): the cluster, the Kubernetes API
 * over HTTPS (kubectl; DIR/kubeconfig), and the desktop UI on http://127.0.0.1:PORT with the
 * same contract over a WebSocket, guarded by a token in the URL.
 */
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from './paths.ts';
import { DEFAULT_STATIC_DIR, serveBrowserMode, type BrowserMode } from './desktop/serve-browser.ts';
import { log } from './log.ts';
import type { Cluster, ClusterConfig } from './cluster.ts';
import { startCluster } from './cluster.ts';
import { clusterPodIO } from './cluster-pod-io.ts';
import { startApiHttpServer, type ApiHttpServer } from './server/http/server.ts';
import type { MetricsSource } from './server/http/metrics-api.ts';
import type { KubeconfigOptions } from './server/http/kubeconfig.ts';

export interface ServeOptions extends ClusterConfig {
  /** Port of the Kubernetes API (HTTPS); 0 = any free port. */
  apiPort?: number;
  /** Port of the UI (plain HTTP on 127.0.0.1); 0 = any free port. */
  port?: number;
  /** Address to listen on (default 127.0.0.1; anything else is an explicit user choice). */
  host?: string;
}

export interface Served {
  cluster: Cluster;
  apiServer: ApiHttpServer;
  ui: BrowserMode;
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

/** The built UI; a source checkout builds it on first use (scripts/build-ui.sh renderer). */
export function ensureUiBuilt(staticDir = DEFAULT_STATIC_DIR): void {
  if (existsSync(join(staticDir, 'index.html'))) return;
  const root = projectRoot();
  log.info('building the UI (first run from a source checkout)', { into: staticDir });
  const r = spawnSync('bash', [join(root, 'scripts', 'build-ui.sh'), 'renderer'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`building the UI failed (bash scripts/build-ui.sh renderer exited ${r.status})`);
}

/** The Kubernetes API over HTTPS for a running cluster (serve and the Electron app), writing DIR/kubeconfig. */
export function startClusterApi(cluster: Cluster, opts: { host?: string; port?: number } = {}): Promise<ApiHttpServer> {
  return startApiHttpServer({
    api: cluster.api,
    dataDir: cluster.dataDir,
    host: opts.host,
    port: opts.port ?? 0,
    podIO: clusterPodIO(cluster),
    metrics: clusterMetrics(cluster),
    kubeconfigName: cluster.name,
  });
}

/** What the desktop host needs to offer "add to ~/.kube/config". */
export function kubeconfigFor(cluster: Cluster, api: ApiHttpServer): KubeconfigOptions & { path: string } {
  return { path: api.kubeconfigPath, server: api.url, token: api.adminToken, name: cluster.name, ...(api.caPem ? { caPem: api.caPem } : {}) };
}

export async function serve(opts: ServeOptions): Promise<Served> {
  ensureUiBuilt();
  const cluster = await startCluster(opts);
  let apiServer: ApiHttpServer;
  let ui: BrowserMode;
  try {
    apiServer = await startClusterApi(cluster, { host: opts.host, port: opts.apiPort ?? 0 });
    ui = await serveBrowserMode(cluster, { port: opts.port ?? 0, host: { kubeconfig: kubeconfigFor(cluster, apiServer) } });
  } catch (e) {
    await cluster.stop();
    throw e;
  }
  return {
    cluster,
    apiServer,
    ui,
    async stop() {
      await ui.close();
      await apiServer.close();
      await cluster.stop();
    },
  };
}
