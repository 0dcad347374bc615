import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../core/store/index.ts';
import { ApiServer } from '../../../core/server/api-server.ts';
import { startApiHttpServer, type ApiHttpServer } from '../../../core/server/http/server.ts';
import { HttpClient } from '../../../core/client/http-client.ts';
import { isApiError } from '../../../core/api/errors.ts';
import type { ClientWatchEvent } from '../../../core/client/client.ts';
import type { KubeObject } from '../../../core/api/types.ts';

const CM = { apiVersion: 'v1', kind: 'ConfigMap' };

describe.each([
  ['https', true],
  ['http', false],
])('HttpClient over %s', (_name, tls) => {
  let dir: string;
  let store: Store;
  let api: ApiServer;
  let server: ApiHttpServer;
  let client: HttpClient;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wh-http-client-'));
    store = await openStore('memory:');
    api = new ApiServer({ store });
    await api.bootstrap();
    server = await startApiHttpServer({ api, dataDir: dir, tls });
    client = tls ? HttpClient.fromKubeconfig(server.kubeconfigPath) : new HttpClient({ server: server.url, token: server.adminToken });
  });
  afterAll(async () => {
    client?.close();
    await server?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates, gets, lists, updates, patches and deletes', async () => {
    const c = await client.create<KubeObject>({ ...CM, metadata: { name: 'a', namespace: 'default', labels: { x: '1' } }, data: { k: 'v' } });
    expect(c.metadata.uid).toBeTruthy();
    expect((await client.get({ ...CM, namespace: 'default', name: 'a' })).data).toEqual({ k: 'v' });
    const list = await client.list(CM, { namespace: 'default', labelSelector: 'x=1' });
    expect(list.items.map((i) => i.metadata.name)).toEqual(['a']);
    const u = await client.update({ ...c, data: { k: 'w' } });
    expect(u.data).toEqual({ k: 'w' });
    const p = await client.patch({ ...CM, namespace: 'default', name: 'a' }, 'merge', { data: { z: '1' } });
    expect(p.data).toEqual({ k: 'w', z: '1' });
    const d = await client.delete({ ...CM, namespace: 'default', name: 'a' });
    expect(d.metadata.name).toBe('a');
    const err = await client.get({ ...CM, namespace: 'default', name: 'a' }).catch((e) => e);
    expect(isApiError(err, 'NotFound')).toBe(true);
    expect(err.message).toBe('configmaps "a" not found');
  });

  it('pages lists', async () => {
    for (let i = 0; i < 5; i++) await client.create({ ...CM, metadata: { name: `p${i}`, namespace: 'default' } });
    const first = await client.list(CM, { namespace: 'default', limit: 2 });
    expect(first.items).toHaveLength(2);
    expect(first.metadata.continue).toBeTruthy();
    const second = await client.list(CM, { namespace: 'default', limit: 2, continue: first.metadata.continue });
    expect(second.items[0]!.metadata.name).not.toBe(first.items[0]!.metadata.name);
  });

  it('reports conflicts as ApiErrors with the Kubernetes message', async () => {
    const c = await client.create({ ...CM, metadata: { name: 'cf', namespace: 'default' } });
    await client.update({ ...c, data: { a: '1' } });
    const err = await client.update({ ...c, data: { a: '2' } }).catch((e) => e);
    expect(isApiError(err, 'Conflict')).toBe(true);
    expect(err.code).toBe(409);
    expect(err.message).toContain('Operation cannot be fulfilled on configmaps "cf"');
  });

  it('binds pods and updates status', async () => {
    await client.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
    await client.bind({ namespace: 'default', name: 'p' }, 'node-1');
    const pod = await client.get<any>({ apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'p' });
    expect(pod.spec.nodeName).toBe('node-1');
    pod.status.phase = 'Running';
    const s = await client.updateStatus(pod);
    expect(s.status.phase).toBe('Running');
  });

  it('watches: initial ADDED, changes, and resumes after the server ends the stream', async () => {
    const events: ClientWatchEvent[] = [];
    const w = client.watch({ ...CM, namespace: 'watch-ns' }, {}, (e) => events.push(e));
    try {
      await api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'watch-ns' } });
      await client.create({ ...CM, metadata: { name: 'w1', namespace: 'watch-ns' } });
      await client.patch({ ...CM, namespace: 'watch-ns', name: 'w1' }, 'merge', { data: { a: '1' } });
      await waitFor(() => events.length >= 2);
      expect(events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED w1', 'MODIFIED w1']);
    } finally {
      w.close();
    }
  });

  it('delivers 410 Expired as an ERROR event', async () => {
    await store.compact(store.currentRevision());
    const events: ClientWatchEvent[] = [];
    client.watch(CM, { namespace: 'default', resourceVersion: '1' }, (e) => events.push(e));
    await waitFor(() => events.length > 0);
    expect(events[0]!.type).toBe('ERROR');
    expect(events[0]!.object).toMatchObject({ kind: 'Status', code: 410, reason: 'Expired' });
  });

  it('is refused without a valid token', async () => {
    const bad = new HttpClient({ server: server.url, token: 'nope', caPem: server.caPem });
    const err = await bad.list(CM, { namespace: 'default' }).catch((e) => e);
    bad.close();
    expect(isApiError(err, 'Unauthorized')).toBe(true);
    expect(err.code).toBe(401);
  });
});

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}
