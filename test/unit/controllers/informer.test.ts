import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { openStore, type Store } from '../../../core/store/index.ts';
import { ApiServer } from '../../../core/server/api-server.ts';
import { InProcessClient } from '../../../core/client/in-process-client.ts';
import { Informer, keyOf } from '../../../core/controllers/informer.ts';
import type { KubeObject } from '../../../core/api/types.ts';

const CM = { apiVersion: 'v1', kind: 'ConfigMap' };
const settle = (ms = 20) => new Promise((r) => setTimeout(r, ms));
const cm = (name: string, data: Record<string, string> = {}) => ({ ...CM, metadata: { name }, data }) as KubeObject;

describe('Informer', () => {
  let store: Store;
  let client: InProcessClient;
  beforeEach(async () => {
    store = await openStore('memory:');
    const api = new ApiServer({ store });
    await api.bootstrap();
    client = new InProcessClient(api);
  });
  afterEach(() => store.close());

  it('lists, then follows changes, keeping the cache and an index', async () => {
    await client.create(cm('a', { v: '1' }));
    const inf = new Informer(client, CM);
    inf.addIndex('byValue', (o) => [String((o.data as any)?.v)]);
    const log: string[] = [];
    inf.addHandlers({
      onAdd: (o) => log.push(`add ${o.metadata.name}`),
      onUpdate: (_o, n) => log.push(`update ${n.metadata.name}`),
      onDelete: (o) => log.push(`delete ${o.metadata.name}`),
    });
    await inf.start();
    expect(inf.hasSynced).toBe(true);
    expect((inf.get('default/a')?.data as any)?.v).toBe('1');
    await client.create(cm('b', { v: '1' }));
    await client.patch({ ...CM, namespace: 'default', name: 'a' }, 'merge', { data: { v: '2' } });
    await client.delete({ ...CM, namespace: 'default', name: 'b' });
    await settle();
    expect(log).toEqual(['add a', 'add b', 'update a', 'delete b']);
    expect(inf.byIndex('byValue', '2').map(keyOf)).toEqual(['default/a']);
    expect(inf.byIndex('byValue', '1')).toEqual([]);
    inf.stop();
  });

  it('re-lists after 410 Expired and delivers the difference', async () => {
    await client.create(cm('a'));
    await client.create(cm('gone'));
    const inf = new Informer(client, CM);
    const log: string[] = [];
    inf.addHandlers({ onDelete: (o) => log.push(`delete ${o.metadata.name}`), onAdd: (o) => log.push(`add ${o.metadata.name}`) });
    await inf.start();
    inf.stop();
    // Meanwhile (no watch running): changes, then history compacted.
    const inf2 = new Informer(client, CM);
    (inf2 as any).lastRv = inf.resourceVersion;
    await client.delete({ ...CM, namespace: 'default', name: 'gone' });
    await client.create(cm('new'));
    await store.compact(store.currentRevision());
    const log2: string[] = [];
    inf2.addHandlers({ onAdd: (o) => log2.push(`add ${o.metadata.name}`), onDelete: (o) => log2.push(`delete ${o.metadata.name}`) });
    // Seed inf2's cache as inf had it, then make it watch from the compacted revision.
    for (const o of inf.list()) (inf2 as any).cache.set(keyOf(o), o);
    (inf2 as any).follow();
    await settle(50);
    expect(log2.sort()).toEqual(['add new', 'delete gone']);
    expect(inf2.list().map((o) => o.metadata.name).sort()).toEqual(['a', 'new']);
    inf2.stop();
  });
});
