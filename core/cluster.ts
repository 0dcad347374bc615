/**
 * Composition root: builds one cluster from a config. Constructors are wired by hand here and
 * nowhere else (no DI container).
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { homedir } from 'node:os';
import { openStore, type Store } from './store/index.ts';
import { ApiServer } from './server/api-server.ts';
import { InProcessClient } from './client/in-process-client.ts';
import { log } from './log.ts';
import { acquireStoreLock } from './store/drivers/store-lock.ts';

export interface ClusterConfig {
  /** Folder for the store, kubeconfig, keys. Default: ~/.wheelhouse (WHEELHOUSE_DATA_DIR overrides). */
  dataDir: string;
  /** Store URL; default `lowdb:<dataDir>/store.json`. */
  storeUrl?: string;
  /** Cluster name: labels every Docker object this cluster creates. */
  name?: string;
}

export interface Cluster {
  readonly config: Required<ClusterConfig>;
  readonly store: Store;
  readonly api: ApiServer;
  /** An admin client on the in-process transport. */
  readonly client: InProcessClient;
  stop(): Promise<void>;
}

export function defaultDataDir(): string {
  return resolve(process.env.WHEELHOUSE_DATA_DIR || join(homedir(), '.wheelhouse'));
}

export async function startCluster(cfg: ClusterConfig): Promise<Cluster> {
  const dataDir = resolve(cfg.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const config: Required<ClusterConfig> = {
    dataDir,
    storeUrl: cfg.storeUrl ?? `lowdb:${join(dataDir, 'store.json')}`,
    name: cfg.name ?? 'wheelhouse',
  };
  // One process per data folder (whatever the store): it also owns the folder's containers.
  const lock = await acquireStoreLock(join(dataDir, 'wheelhouse'));
  let store: Store;
  try {
    store = await openStore(config.storeUrl);
  } catch (e) {
    await lock.release();
    throw e;
  }
  const api = new ApiServer({ store });
  await api.bootstrap();
  const client = new InProcessClient(api);
  log.info('cluster started', { dataDir, store: config.storeUrl, revision: store.currentRevision() });
  let stopped = false;
  return {
    config,
    store,
    api,
    client,
    async stop() {
      if (stopped) return;
      stopped = true;
      await store.close();
      await lock.release();
      log.info('cluster stopped', { dataDir });
    },
  };
}
