import { describe, it, expect } from 'vitest';
import { openStore } from '../../../core/store/index.ts';
import { ApiServer } from '../../../core/server/api-server.ts';
import { InProcessClient } from '../../../core/client/in-process-client.ts';
import { EventRecorder } from '../../../core/client/event-recorder.ts';
import type { KubeObject } from '../../../core/api/types.ts';

describe('EventRecorder', () => {
  it('writes Kubernetes events and counts repeats instead of duplicating', async () => {
    const store = await openStore('memory:');
    const api = new ApiServer({ store });
    await api.bootstrap();
    const client = new InProcessClient(api);
    const pod = await client.create<KubeObject>({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x:1' }] } });
    const rec = new EventRecorder(client, { component: 'kubelet', host: 'node-1' });
    rec.event(pod, 'Warning', 'BackOff', 'Back-off restarting failed container c in pod p_default', 'spec.containers{c}');
    rec.event(pod, 'Warning', 'BackOff', 'Back-off restarting failed container c in pod p_default', 'spec.containers{c}');
    rec.event(pod, 'Normal', 'Pulled', 'Container image "x:1" already present on machine');
    await rec.flush();
    const evs = await client.list({ apiVersion: 'v1', kind: 'Event' }, { namespace: 'default' });
    expect(evs.items).toHaveLength(2);
    const backoff = evs.items.find((e) => e.reason === 'BackOff')!;
    expect(backoff.count).toBe(2);
    expect(backoff.involvedObject).toMatchObject({ kind: 'Pod', name: 'p', uid: pod.metadata.uid, fieldPath: 'spec.containers{c}' });
    expect(backoff.source).toEqual({ component: 'kubelet', host: 'node-1' });
    const byField = await client.list({ apiVersion: 'v1', kind: 'Event' }, { namespace: 'default', fieldSelector: 'involvedObject.name=p,reason=Pulled' });
    expect(byField.items).toHaveLength(1);
    await store.close();
  });
});

describe('EventRecorder names', () => {
  it('gives distinct names to many different events about one object in the same millisecond', async () => {
    const store = await openStore('memory:');
    const api = new ApiServer({ store });
    await api.bootstrap();
    const client = new InProcessClient(api);
    const pod = await client.create<KubeObject>({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x:1' }] } });
    const rec = new EventRecorder(client, { component: 'test' });
    for (let i = 0; i < 50; i++) rec.event(pod, 'Normal', 'Reason', `message ${i}`);
    await rec.flush();
    const evs = await client.list({ apiVersion: 'v1', kind: 'Event' }, { namespace: 'default' });
    expect(evs.items).toHaveLength(50);
    await store.close();
  });
});
