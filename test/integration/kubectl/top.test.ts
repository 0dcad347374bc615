import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireKubectl, startHarness, type Harness } from './helpers.ts';
import type { MetricsSource } from '../../../core/server/http/metrics-api.ts';

const run = requireKubectl();

const metrics: MetricsSource = {
  podUsage: (ns, name) =>
    ns === 'default' && name === 'busy'
      ? { cpuNanoCores: 250_000_000, memoryBytes: 64 * 1024 * 1024, timestamp: new Date(), containers: [{ name: 'main', cpuNanoCores: 250_000_000, memoryBytes: 64 * 1024 * 1024 }] }
      : undefined,
  nodeUsage: (name) => (name === 'node-1' ? { cpuNanoCores: 1_000_000_000, memoryBytes: 2 * 1024 ** 3, timestamp: new Date() } : undefined),
};

describe.runIf(run)('kubectl top (metrics.k8s.io/v1beta1)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ metrics });
    await h.api.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' }, status: { allocatable: { cpu: '4', memory: '8Gi' }, capacity: { cpu: '4', memory: '8Gi' } } });
    await h.api.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'busy', namespace: 'default' }, spec: { containers: [{ name: 'main', image: 'busybox' }] } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('shows pod and node usage', async () => {
    const pods = await h.kubectl(['top', 'pod']);
    expect(pods.stderr).toBe('');
    expect(pods.stdout).toMatch(/^NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)\s*\nbusy\s+250m\s+64Mi\s*$/);
    const nodes = await h.kubectl(['top', 'node']);
    expect(nodes.stdout).toMatch(/^node-1\s+1000m\s+25%\s+2048Mi\s+25%\s*$/m);
  });
});
