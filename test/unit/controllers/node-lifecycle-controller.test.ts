import { describe, it, expect } from 'vitest';
import { NodeLifecycleController, tolerates } from '../../../core/controllers/node-lifecycle-controller.ts';
import { defaultTolerationSeconds } from '../../../core/server/admission/default-toleration-seconds.ts';
import { harness, eventually } from './helpers.ts';
import { isApiError } from '../../../core/api/errors.ts';

const NODE = { apiVersion: 'v1', kind: 'Node' };
const POD = { apiVersion: 'v1', kind: 'Pod' };

describe('NodeLifecycleController', () => {
  it('a silent node becomes Unknown, gets the unreachable taints, and intolerant pods are evicted; tolerationSeconds delays it', async () => {
    let now = Date.now();
    const h = await harness([(ctx) => new NodeLifecycleController(ctx)], { nodeMonitorGracePeriodSeconds: 1, nodeMonitorPeriodSeconds: 0.05 }, () => new Date(now));
    const hb = new Date(now).toISOString();
    const node = await h.client.create({ ...NODE, metadata: { name: 'n1' } });
    await h.client.updateStatus({ ...node, status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: hb, lastTransitionTime: hb }] } });
    await h.client.create({ ...POD, metadata: { name: 'intolerant' }, spec: { nodeName: 'n1', tolerations: [{ key: 'other', operator: 'Exists' }], containers: [{ name: 'c', image: 'x:1' }] } });
    h.api.admission.add(defaultTolerationSeconds(2));
    // DefaultTolerationSeconds adds 2 s tolerations to this one:
    const p = await h.client.create<any>({ ...POD, metadata: { name: 'tolerant' }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'x:1' }] } });
    expect(p.spec.tolerations).toEqual(expect.arrayContaining([expect.objectContaining({ key: 'node.kubernetes.io/unreachable', tolerationSeconds: 2 })]));
    now += 1500; // past the grace period
    const n = await eventually(async () => {
      const n = await h.client.get({ ...NODE, name: 'n1' });
      return n.spec?.taints?.length === 2 ? n : undefined;
    });
    expect(n.status.conditions[0]).toMatchObject({ status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' });
    expect(n.spec.taints.map((t: any) => `${t.key}:${t.effect}`).sort()).toEqual(['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule']);
    await eventually(async () => (await h.client.get({ ...POD, namespace: 'default', name: 'intolerant' })).metadata.deletionTimestamp);
    expect((await h.client.get({ ...POD, namespace: 'default', name: 'tolerant' })).metadata.deletionTimestamp).toBeUndefined();
    now += 2500;
    await eventually(async () => (await h.client.get({ ...POD, namespace: 'default', name: 'tolerant' })).metadata.deletionTimestamp, 3000);
    await h.close();
  });

  it('pods of a removed node are garbage collected after the quarantine', async () => {
    let now = Date.now();
    const h = await harness([(ctx) => new NodeLifecycleController(ctx)], {}, () => new Date(now));
    await h.client.create({ ...NODE, metadata: { name: 'n2' } });
    await h.client.create({ ...POD, metadata: { name: 'p' }, spec: { nodeName: 'n2', containers: [{ name: 'c', image: 'x:1' }] } });
    now += 10_000;
    await h.client.delete({ ...NODE, name: 'n2' });
    await eventually(() => h.client.get({ ...POD, namespace: 'default', name: 'p' }).then(() => false, (e) => isApiError(e, 'NotFound')));
    await h.close();
  });

  it('tolerates() follows Kubernetes', () => {
    expect(tolerates({ operator: 'Exists' }, { key: 'a', effect: 'NoExecute' })).toBe(true);
    expect(tolerates({ key: 'a', operator: 'Equal', value: 'x', effect: 'NoSchedule' }, { key: 'a', value: 'x', effect: 'NoExecute' })).toBe(false);
    expect(tolerates({ key: 'a', value: 'x' }, { key: 'a', value: 'x', effect: 'NoSchedule' })).toBe(true);
  });
});
