import { mkdtemp, readFile, readdir, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeAtomic } from '../../../core/agent/atomic-writer.ts';
import { Backoff } from '../../../core/agent/backoff.ts';
import { UsageRing } from '../../../core/agent/metrics.ts';
import { getPhase } from '../../../core/agent/pod-status.ts';
import { PodWorkers } from '../../../core/agent/pod-workers.ts';
import { goDuration, microTime } from '../../../core/agent/util.ts';

describe('Backoff (kubelet flowcontrol semantics)', () => {
  it('does not delay the first failure, then doubles up to the max, and expires after 2 × max', () => {
    let now = 1_000_000;
    const b = new Backoff({ initialMs: 10_000, maxMs: 300_000 }, () => now);
    expect(b.isInBackOffSince('k', now)).toBe(false);
    b.next('k', now);
    expect(b.get('k')).toBe(10_000);
    expect(b.isInBackOffSince('k', now)).toBe(true);
    now += 10_001;
    expect(b.isInBackOffSince('k', now - 10_001)).toBe(false);
    for (const want of [20_000, 40_000, 80_000, 160_000, 300_000, 300_000]) {
      b.next('k', now);
      expect(b.get('k')).toBe(want);
    }
    now += 600_001;
    expect(b.isInBackOffSince('k', now)).toBe(false);
    b.next('k', now);
    expect(b.get('k')).toBe(10_000);
  });
});

describe('PodWorkers', () => {
  it('never runs one pod twice at once and collapses a burst into one more run', async () => {
    let running = 0;
    let max = 0;
    let runs = 0;
    const w = new PodWorkers(async () => {
      running++;
      runs++;
      max = Math.max(max, running);
      await new Promise((r) => setTimeout(r, 20));
      running--;
    });
    w.enqueue('a');
    for (let i = 0; i < 10; i++) w.enqueue('a');
    await new Promise((r) => setTimeout(r, 5));
    await w.whenIdle();
    expect(max).toBe(1);
    expect(runs).toBe(2);
    await w.stop();
  });

  it('runs at most maxConcurrent pods at once, the others in arrival order', async () => {
    let running = 0;
    let max = 0;
    const order: string[] = [];
    const w = new PodWorkers(
      async (uid) => {
        order.push(uid);
        running++;
        max = Math.max(max, running);
        await new Promise((r) => setTimeout(r, 10));
        running--;
      },
      { maxConcurrent: 3 },
    );
    for (let i = 0; i < 10; i++) w.enqueue(`p${i}`);
    await w.whenIdle();
    expect(max).toBe(3);
    expect(order).toEqual(Array.from({ length: 10 }, (_, i) => `p${i}`));
    await w.stop();
  });

  it('keeps the earliest delayed request and retries failures with backoff', async () => {
    const at: number[] = [];
    let fail = true;
    const start = Date.now();
    const w = new PodWorkers(
      async () => {
        at.push(Date.now() - start);
        if (fail) {
          fail = false;
          throw new Error('boom');
        }
      },
      { errorBackoffMs: 30 },
    );
    w.enqueue('a', 200);
    w.enqueue('a', 20);
    await new Promise((r) => setTimeout(r, 120));
    expect(at.length).toBe(2);
    expect(at[0]).toBeLessThan(100);
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(25);
    await w.stop();
  });
});

describe('pod phase (kubelet getPhase)', () => {
  const pod = (restartPolicy: string, init = 0) =>
    ({ spec: { restartPolicy, containers: [{ name: 'c' }], initContainers: Array.from({ length: init }, (_, i) => ({ name: `i${i}` })) } }) as any;
  const run = { name: 'c', state: { running: {} } } as any;
  const done = (code: number) => ({ name: 'c', state: { terminated: { exitCode: code } } }) as any;
  const waitingAfter = (code: number) => ({ name: 'c', state: { waiting: {} }, lastState: { terminated: { exitCode: code } } }) as any;
  it('follows the kubelet', () => {
    expect(getPhase(pod('Always'), [], [run])).toBe('Running');
    expect(getPhase(pod('Always'), [], [{ name: 'c', state: { waiting: {} } } as any])).toBe('Pending');
    expect(getPhase(pod('Always'), [], [waitingAfter(1)])).toBe('Running');
    expect(getPhase(pod('Never'), [], [done(0)])).toBe('Succeeded');
    expect(getPhase(pod('Never'), [], [done(1)])).toBe('Failed');
    expect(getPhase(pod('OnFailure'), [], [done(1)])).toBe('Running');
    expect(getPhase(pod('OnFailure'), [], [done(0)])).toBe('Succeeded');
    expect(getPhase(pod('Never', 1), [{ name: 'i0', state: { terminated: { exitCode: 2 } } } as any], [{ name: 'c', state: { waiting: {} } } as any])).toBe('Failed');
    expect(getPhase(pod('Always', 1), [{ name: 'i0', state: { running: {} } } as any], [{ name: 'c', state: { waiting: {} } } as any])).toBe('Pending');
  });
});

describe('formats', () => {
  it('Go durations and MicroTime', () => {
    expect(goDuration(200)).toBe('200ms');
    expect(goDuration(10_000)).toBe('10s');
    expect(goDuration(80_000)).toBe('1m20s');
    expect(goDuration(300_000)).toBe('5m0s');
    expect(goDuration(1500)).toBe('1.5s');
    expect(goDuration(3_600_000)).toBe('1h0m0s');
    expect(microTime(Date.UTC(2024, 0, 2, 3, 4, 5, 678))).toBe('2024-01-02T03:04:05.678000Z');
  });

  it('a usage ring keeps the newest samples in order', () => {
    const r = new UsageRing(3);
    for (let i = 1; i <= 5; i++) r.push({ timestamp: i, cpuNanoCores: i, memoryWorkingSetBytes: i });
    expect(r.toArray().map((s) => s.timestamp)).toEqual([3, 4, 5]);
    expect(r.last()?.timestamp).toBe(5);
  });
});

describe('atomic writer', () => {
  it('swaps ..data in one step and removes what is no longer in the payload', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wh-atomic-'));
    try {
      const f = (s: string) => ({ data: Buffer.from(s), mode: 0o644 });
      expect(await writeAtomic(dir, new Map([['a', f('1')], ['sub/b', f('2')]]))).toBe(true);
      expect(await readFile(join(dir, 'a'), 'utf8')).toBe('1');
      expect(await readFile(join(dir, 'sub/b'), 'utf8')).toBe('2');
      const first = await readlink(join(dir, '..data'));
      expect(await writeAtomic(dir, new Map([['a', f('1')], ['sub/b', f('2')]]))).toBe(false);
      expect(await writeAtomic(dir, new Map([['a', f('3')]]))).toBe(true);
      expect(await readlink(join(dir, '..data'))).not.toBe(first);
      expect((await readdir(dir)).sort()).toEqual(['..data', await readlink(join(dir, '..data')), 'a'].sort());
      expect(await readFile(join(dir, 'a'), 'utf8')).toBe('3');
      await expect(writeAtomic(dir, new Map([['../escape', f('x')]]))).rejects.toThrow(/invalid path/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
