import { describe, it, expect } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../../core/store/index.ts';
import { ApiServer } from '../../../core/server/api-server.ts';
import { InProcessClient } from '../../../core/client/in-process-client.ts';
import { rollbackTo } from '../../../core/controllers/deployment-controller.ts';
import type { KubeObject } from '../../../core/api/types.ts';

async function setup(storeUrl: string) {
  const store = await openStore(storeUrl);
  const api = new ApiServer({ store });
  await api.bootstrap();
  return { store, client: new InProcessClient(api) };
}

describe('unconditional writes never fail with Conflict', () => {
  it('concurrent merge patches of one object all succeed on the lowdb store (writes in flight to disk)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wh-conc-'));
    const { store, client } = await setup(`lowdb:${join(dir, 'store.json')}`);
    const ref = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'cm' };
    await client.create<KubeObject>({ ...ref, metadata: { name: 'cm' }, data: { n: '0' } });
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => client.patch(ref, 'merge', i % 2 ? { data: { n: String(i) } } : { metadata: { labels: { l: String(i) } } })),
    );
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('rollbackTo succeeds while the Deployment status is being written', async () => {
    const { store, client } = await setup('memory:');
    const ref = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'd' };
    const template = (image: string) => ({ metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image }] } });
    const d = await client.create<KubeObject>({ ...ref, metadata: { name: 'd' }, spec: { replicas: 1, selector: { matchLabels: { a: 'b' } }, template: template('x:1') } });
    // Revision history as the deployment controller leaves it: one ReplicaSet per template.
    for (const [rev, image] of [[1, 'x:1'], [2, 'x:2']] as const) {
      await client.create<KubeObject>({
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name: `d-${rev}`,
          annotations: { 'deployment.kubernetes.io/revision': String(rev) },
          ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'd', uid: d.metadata.uid!, controller: true }],
        },
        spec: { replicas: 0, selector: { matchLabels: { a: 'b', 'pod-template-hash': String(rev) } }, template: { ...template(image), metadata: { labels: { a: 'b', 'pod-template-hash': String(rev) } } } },
      });
    }
    await client.patch(ref, 'json', [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'x:2' }]);
    const racing = Object.create(client);
    racing.list = async (...a: unknown[]) => {
      const live: KubeObject = await client.get(ref);
      await client.updateStatus({ ...live, status: { observedGeneration: 1 } });
      return (client.list as any)(...a);
    };
    const r = await rollbackTo(racing, { namespace: 'default', name: 'd' }, 1);
    expect(r.skipped).toBe(false);
    const after: KubeObject = await client.get(ref);
    expect(after.spec.template.spec.containers[0].image).toBe('x:1');
    await store.close();
  });
});
