import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeAgent } from '../../../core/agent/node-agent.ts';
import { DockerRuntime } from '../../../core/runtime/docker/docker-runtime.ts';
import { BUSYBOX, setup, type Env } from './helpers.ts';

describe('node agent on Docker: images and the Node', () => {
  let env: Env;
  beforeAll(async () => {
    env = await setup('imgnode', {
      leaseRenewIntervalMs: 200,
      capacity: { cpu: '2', memory: '4Gi', pods: '30', 'nvidia.com/gpu': '2' },
      labels: { 'wheelhouse.dev/pool': 'desk' },
      taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }],
    });
  });
  afterAll(() => env?.close());

  it('ends a pod with a missing image in ImagePullBackOff with the engine message', async () => {
    await env.createPod('noimg', { containers: [{ name: 'c', image: 'wheelhouse-test/does-not-exist:1', imagePullPolicy: 'IfNotPresent' }] });
    const err = await env.waitPod('noimg', (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ErrImagePull', 'ErrImagePull');
    const engineMessage = err.status.containerStatuses[0].state.waiting.message as string;
    expect(engineMessage.length).toBeGreaterThan(10);
    const p = await env.waitPod('noimg', (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff', 'ImagePullBackOff');
    expect(p.status.containerStatuses[0].state.waiting.message).toBe(`Back-off pulling image "wheelhouse-test/does-not-exist:1": ErrImagePull: ${engineMessage}`);
    expect(p.status.phase).toBe('Pending');
    const events = (await env.events('noimg')).map((e) => `${e.reason}: ${e.message}`);
    expect(events).toContain(`Failed: Failed to pull image "wheelhouse-test/does-not-exist:1": ${engineMessage}`);
    expect(events).toContain('Pulling: Pulling image "wheelhouse-test/does-not-exist:1"');

    await env.createPod('never', { containers: [{ name: 'c', image: 'wheelhouse-test/does-not-exist:1', imagePullPolicy: 'Never' }] });
    const n = await env.waitPod('never', (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ErrImageNeverPull', 'ErrImageNeverPull');
    expect(n.status.containerStatuses[0].state.waiting.message).toBe('Container image "wheelhouse-test/does-not-exist:1" is not present with pull policy of Never');
  });

  it('registers the Node with labels, taints, capacity, nodeInfo and images, and renews its Lease', async () => {
    const node: any = await env.client.get({ apiVersion: 'v1', kind: 'Node', name: 'node-1' });
    expect(node.metadata.labels).toMatchObject({ 'kubernetes.io/hostname': 'node-1', 'kubernetes.io/os': 'linux', 'wheelhouse.dev/pool': 'desk' });
    expect(node.metadata.labels['kubernetes.io/arch']).toMatch(/^(amd64|arm64)$/);
    expect(node.spec.taints).toEqual([{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }]);
    expect(node.status.capacity).toEqual({ cpu: '2', memory: '4Gi', pods: '30', 'nvidia.com/gpu': '2' });
    expect(node.status.nodeInfo.containerRuntimeVersion).toMatch(/^docker:\/\/\d+\.\d+/);
    expect(node.status.nodeInfo.kubeletVersion).toBe('v1.30.0-wheelhouse');
    expect(node.status.conditions.find((c: any) => c.type === 'Ready')).toMatchObject({ status: 'True', reason: 'KubeletReady' });
    expect(node.status.images.some((i: any) => i.names.includes(BUSYBOX) && i.sizeBytes > 0)).toBe(true);
    const lease = () => env.client.get<any>({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace: 'kube-node-lease', name: 'node-1' });
    const t1 = (await lease()).spec.renewTime;
    await new Promise((r) => setTimeout(r, 500));
    expect((await lease()).spec.renewTime > t1).toBe(true);
  });

  it('reports Ready=False with the reason when the Docker engine cannot be reached', async () => {
    const unreachable = new DockerRuntime({ host: 'unix:///tmp/wheelhouse-no-such-docker.sock' });
    const agent = new NodeAgent({ client: env.client, runtime: unreachable, nodeName: 'node-down', cluster: env.cluster, dataDir: env.dataDir, metrics: false });
    try {
      await agent.start();
      const node: any = await env.client.get({ apiVersion: 'v1', kind: 'Node', name: 'node-down' });
      const ready = node.status.conditions.find((c: any) => c.type === 'Ready');
      expect(ready).toMatchObject({ status: 'False', reason: 'KubeletNotReady' });
      expect(ready.message).toMatch(/^container runtime is down: cannot reach the Docker engine at unix:\/\/\/tmp\/wheelhouse-no-such-docker\.sock/);
    } finally {
      await agent.stop();
      await unreachable.close();
    }
  });
});
