import { describe, it, expect } from 'vitest';
import { GarbageCollector } from '../../../core/controllers/garbage-collector.ts';
import { harness, eventually } from './helpers.ts';
import { isApiError } from '../../../core/api/errors.ts';
import type { KubeObject } from '../../../core/api/types.ts';

const CM = { apiVersion: 'v1', kind: 'ConfigMap' };
const gone = (p: Promise<unknown>) => p.then(() => false, (e) => isApiError(e, 'NotFound'));

async function ownerWithChildren(client: any, n = 2, block = false) {
  const owner: KubeObject = await client.create({ ...CM, metadata: { name: 'owner' } });
  for (let i = 0; i < n; i++) {
    await client.create({
      ...CM,
      metadata: { name: `child-${i}`, ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid, controller: true, blockOwnerDeletion: block }] },
    });
  }
  return owner;
}

describe('GarbageCollector', () => {
  it('background: dependents of a deleted owner are deleted', async () => {
    const h = await harness([(ctx) => new GarbageCollector(ctx)]);
    await ownerWithChildren(h.client);
    await h.client.delete({ ...CM, namespace: 'default', name: 'owner' });
    await eventually(() => gone(h.client.get({ ...CM, namespace: 'default', name: 'child-0' })));
    await eventually(() => gone(h.client.get({ ...CM, namespace: 'default', name: 'child-1' })));
    await h.close();
  });

  it('orphan: dependents lose the ownerReference and stay; the owner goes', async () => {
    const h = await harness([(ctx) => new GarbageCollector(ctx)]);
    await ownerWithChildren(h.client);
    await h.client.delete({ ...CM, namespace: 'default', name: 'owner' }, { propagationPolicy: 'Orphan' });
    await eventually(() => gone(h.client.get({ ...CM, namespace: 'default', name: 'owner' })));
    const child = await h.client.get({ ...CM, namespace: 'default', name: 'child-0' });
    expect(child.metadata.ownerReferences).toBeUndefined();
    await h.close();
  });

  it('foreground: the owner stays until its blocking dependents are gone', async () => {
    const h = await harness([(ctx) => new GarbageCollector(ctx)]);
    await ownerWithChildren(h.client, 2, true);
    const marked = await h.client.delete({ ...CM, namespace: 'default', name: 'owner' }, { propagationPolicy: 'Foreground' });
    expect(marked.metadata.finalizers).toContain('foregroundDeletion');
    await eventually(() => gone(h.client.get({ ...CM, namespace: 'default', name: 'owner' })));
    expect(await gone(h.client.get({ ...CM, namespace: 'default', name: 'child-0' }))).toBe(true);
    await h.close();
  });

  it('keeps a dependent whose owner exists', async () => {
    const h = await harness([(ctx) => new GarbageCollector(ctx)]);
    await ownerWithChildren(h.client, 1);
    await new Promise((r) => setTimeout(r, 100));
    await h.client.get({ ...CM, namespace: 'default', name: 'child-0' });
    await h.close();
  });
});
