/**
 * The HTTP API as the unit tests use it: a store (memory by default), a bootstrapped ApiServer
 * and its HTTP server on 127.0.0.1 without TLS, in a temporary data folder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiServer } from '../../../core/server/api-server.ts';
import { startApiHttpServer, type ApiHttpServer } from '../../../core/server/http/server.ts';
import { openStore, type Store } from '../../../core/store/index.ts';

export interface HttpApi {
  dir: string;
  store: Store;
  api: ApiServer;
  server: ApiHttpServer;
  close(): Promise<void>;
}

/** `store: 'lowdb'` keeps the store in the data folder (fsync and all) instead of memory. */
export async function openHttpApi(prefix: string, opts: { store?: 'memory' | 'lowdb' } = {}): Promise<HttpApi> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const store = await openStore(opts.store === 'lowdb' ? `lowdb:${join(dir, 'store.json')}` : 'memory:');
  const api = new ApiServer({ store });
  await api.bootstrap();
  const server = await startApiHttpServer({ api, dataDir: dir, tls: false });
  return {
    dir,
    store,
    api,
    server,
    async close() {
      await server.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
