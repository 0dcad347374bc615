import { describe, it, expect } from 'vitest';
import { WorkQueue } from '../../../core/controllers/workqueue.ts';

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

describe('WorkQueue', () => {
  it('collapses a burst of adds for one key into one run', async () => {
    const q = new WorkQueue({ name: 't' });
    const runs: string[] = [];
    for (let i = 0; i < 10; i++) q.add('a');
    q.add('b');
    void q.run(2, async (k) => {
      runs.push(k);
    });
    await tick();
    await q.idle();
    expect(runs.sort()).toEqual(['a', 'b']);
    q.shutdown();
  });

  it('never runs one key twice at once; an add during a run re-runs it after', async () => {
    const q = new WorkQueue({ name: 't' });
    let running = 0;
    let maxConcurrent = 0;
    let runs = 0;
    void q.run(4, async () => {
      running++;
      maxConcurrent = Math.max(maxConcurrent, running);
      runs++;
      if (runs === 1) q.add('k'); // changed while processing
      await tick(10);
      running--;
    });
    q.add('k');
    await tick(50);
    await q.idle();
    expect(maxConcurrent).toBe(1);
    expect(runs).toBe(2);
    q.shutdown();
  });

  it('retries a failing key with growing backoff and forgets after success', async () => {
    const q = new WorkQueue({ name: 't', baseDelayMs: 5 });
    const times: number[] = [];
    let fails = 3;
    void q.run(1, async () => {
      times.push(Date.now());
      if (fails-- > 0) throw new Error('boom');
    });
    q.add('k');
    for (let i = 0; i < 100 && times.length < 4; i++) await tick(10);
    expect(times).toHaveLength(4);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(gaps[2]!).toBeGreaterThanOrEqual(gaps[0]!);
    expect(q.numRequeues('k')).toBe(0);
    q.shutdown();
  });

  it('addAfter keeps the earlier due time', async () => {
    const q = new WorkQueue({ name: 't' });
    const seen: number[] = [];
    const start = Date.now();
    void q.run(1, async () => {
      seen.push(Date.now() - start);
    });
    q.addAfter('k', 30);
    q.addAfter('k', 5000); // must not push the first one back
    await tick(80);
    expect(seen).toHaveLength(1);
    q.shutdown();
  });

  it('addAfter delays; shutdown ends the workers', async () => {
    const q = new WorkQueue({ name: 't' });
    const seen: string[] = [];
    const done = q.run(1, async (k) => {
      seen.push(k);
    });
    q.addAfter('later', 30);
    await tick(10);
    expect(seen).toEqual([]);
    await tick(40);
    expect(seen).toEqual(['later']);
    q.shutdown();
    await done;
  });
});
