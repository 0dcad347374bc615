import { describe, it, expect } from 'vitest';
import { NamespaceController } from '../../../core/controllers/namespace-controller.ts';
import { harness, eventually } from './helpers.ts';
import { isApiError } from '../../../core/api/errors.ts';

describe('NamespaceController', () => {
  it('creates the default ServiceAccount and empties a deleted namespace before removing it', async () => {
    const h = await harness([(ctx) => new NamespaceController(ctx)]);
    await h.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } });
    await eventually(() => h.client.get({ apiVersion: 'v1', kind: 'ServiceAccount', namespace: 'team', name: 'default' }));
    await h.client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'team' }, data: {} });
    await h.client.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'team' }, spec: { containers: [{ name: 'c', image: 'x:1' }] } });
    const ns = await h.client.delete({ apiVersion: 'v1', kind: 'Namespace', name: 'team' });
    expect(ns.status.phase).toBe('Terminating');
    await eventually(() => h.client.get({ apiVersion: 'v1', kind: 'Namespace', name: 'team' }).then(() => false, (e) => isApiError(e, 'NotFound')));
    const cms = await h.client.list({ apiVersion: 'v1', kind: 'ConfigMap' }, { namespace: 'team' });
    expect(cms.items).toHaveLength(0);
    await h.close();
  });
});
