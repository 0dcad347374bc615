/**
 * The pieces behind pushed state: batches collapse changes per object and keep their pace; HPA
 * points and summed usage series are what the charts plot.
 */
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../core/api/types.ts';
import { Batcher } from '../../../core/desktop/batcher.ts';
import { hpaPoint } from '../../../core/desktop/hpa-history.ts';
import { sumSeries } from '../../../core/desktop/metrics.ts';

const pod = (name: string, v: string): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', resourceVersion: v } });

describe('Batcher', () => {
  it('collapses several changes of one object into its latest state, deletes included', async () => {
    const sent: Array<{ e: string; p: any }> = [];
    const b = new Batcher((e, p) => sent.push({ e, p }), 50);
    b.watchUpsert('w', pod('a', '1'));
    b.watchUpsert('w', pod('a', '2'));
    b.watchUpsert('w', pod('b', '3'));
    b.watchDelete('w', pod('b', '4'));
    b.logLines('l', [{ pod: 'a', container: 'c', stream: 'stdout', line: 'x' }]);
    await new Promise((r) => setTimeout(r, 20));
    expect(sent.map((s) => s.e)).toEqual(['watch.batch', 'logs.batch']);
    const change = sent[0]!.p.changes[0];
    expect(change.upserts.map((o: KubeObject) => o.metadata.resourceVersion)).toEqual(['2']);
    expect(change.deletes).toEqual([{ namespace: 'default', name: 'b' }]);
    b.close();
  });

  it('sends the first change at once and then at most one batch per interval', async () => {
    const at: number[] = [];
    const b = new Batcher(() => at.push(Date.now()), 100);
    const start = Date.now();
    const end = start + 450;
    let i = 0;
    while (Date.now() < end) {
      b.watchUpsert('w', pod(`p${i++ % 10}`, String(i)));
      await new Promise((r) => setTimeout(r, 2));
    }
    await new Promise((r) => setTimeout(r, 150));
    expect(at[0]! - start).toBeLessThan(50);
    for (let k = 1; k < at.length; k++) expect(at[k]! - at[k - 1]!).toBeGreaterThanOrEqual(99);
    expect(at.length).toBeLessThanOrEqual(6);
    b.close();
  });

  it('a reset replaces what was pending for the watch', async () => {
    const sent: any[] = [];
    const b = new Batcher((_e, p) => sent.push(p), 10);
    b.watchUpsert('w', pod('old', '1'));
    b.watchReset('w', [pod('fresh', '2')]);
    b.flush();
    expect(sent[0].changes[0]).toMatchObject({ watchId: 'w', reset: [{ metadata: { name: 'fresh' } }], upserts: [], deletes: [] });
    b.close();
  });
});

describe('chart data', () => {
  it('turns an HPA into replicas and metric-vs-target points', () => {
    const p = hpaPoint(
      {
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: { name: 'web', namespace: 'default' },
        spec: {
          minReplicas: 2,
          maxReplicas: 10,
          metrics: [
            { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } },
            { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '64Mi' } } },
          ],
        },
        status: {
          currentReplicas: 3,
          desiredReplicas: 4,
          currentMetrics: [
            { type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 85 } } },
            { type: 'Resource', resource: { name: 'memory', current: { averageValue: '32Mi' } } },
          ],
        },
      },
      1000,
    );
    expect(p).toEqual({
      t: 1000,
      currentReplicas: 3,
      desiredReplicas: 4,
      minReplicas: 2,
      maxReplicas: 10,
      metrics: [
        { name: 'cpu', target: 60, current: 85, unit: '%' },
        { name: 'memory', target: 64 * 1024 * 1024, current: 32 * 1024 * 1024, unit: 'bytes' },
      ],
    });
  });

  it('sums usage series of several pods on the sampling grid', () => {
    const a = [{ t: 10_001, cpu: 0.1, memory: 100 }, { t: 15_002, cpu: 0.2, memory: 200 }];
    const b = [{ t: 9_998, cpu: 0.3, memory: 300 }, { t: 20_000, cpu: 0.5, memory: 500 }];
    expect(sumSeries([a, b], 5_000)).toEqual([
      { t: 10_000, cpu: 0.4, memory: 400 },
      { t: 15_000, cpu: 0.2, memory: 200 },
      { t: 20_000, cpu: 0.5, memory: 500 },
    ]);
  });
});
