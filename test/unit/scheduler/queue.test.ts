import { afterEach, describe, expect, it } from 'vitest';
import { SchedulingQueue } from '../../../core/scheduler/queue.ts';
import { SchedulerCache } from '../../../core/scheduler/cache.ts';
import { pod } from './helpers.ts';

const cache = new SchedulerCache();
const info = (name: string, priority = 0) => cache.podInfo(pod(name, { spec: { priority } }));

let q: SchedulingQueue | undefined;
afterEach(() => q?.close());

describe('SchedulingQueue', () => {
  it('pops by priority, then first come first served', () => {
    let t = 0;
    q = new SchedulingQueue({ now: () => ++t });
    q.add(info('low-1', 0));
    q.add(info('high', 1000));
    q.add(info('low-2', 0));
    q.add(info('mid', 10));
    expect([q.pop(), q.pop(), q.pop(), q.pop(), q.pop()].map((x) => x?.pi.name)).toEqual(['high', 'mid', 'low-1', 'low-2', undefined]);
  });

  it('backs off 1 s doubling to 10 s per attempt', () => {
    q = new SchedulingQueue();
    expect([1, 2, 3, 4, 5, 6].map((n) => q!.backoffDuration(n))).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
  });

  it('keeps unschedulable pods until an event one of their rejecting plugins cares about', async () => {
    const events: string[] = [];
    q = new SchedulingQueue({
      initialBackoffMs: 20,
      maybeSchedulable: (p, ev) => {
        events.push(ev);
        return p.unschedulablePlugins.has('NodeResourcesFit') && ev === 'NodeAdd';
      },
    });
    q.add(info('big'));
    const popped = q.pop()!;
    q.addUnschedulable(popped, new Set(['NodeResourcesFit']));
    expect(q.lengths).toEqual({ active: 0, backoff: 0, unschedulable: 1 });
    q.moveAllToActiveOrBackoff('NodeLabelUpdate');
    expect(q.lengths.unschedulable).toBe(1);
    q.moveAllToActiveOrBackoff('NodeAdd');
    // still inside its backoff: it waits there, then becomes active without polling
    expect(q.lengths).toEqual({ active: 0, backoff: 1, unschedulable: 0 });
    await q.wait();
    expect(q.pop()?.pi.name).toBe('big');
    expect(events).toEqual(['NodeLabelUpdate', 'NodeAdd']);
  });

  it('sends pods that failed for no plugin in particular (errors) to the backoff queue', async () => {
    q = new SchedulingQueue({ initialBackoffMs: 10 });
    q.add(info('p'));
    q.addUnschedulable(q.pop()!, new Set());
    expect(q.lengths).toEqual({ active: 0, backoff: 1, unschedulable: 0 });
    await q.wait();
    expect(q.pop()?.attempts).toBe(2);
  });

  it('retries pods left unschedulable for too long (leftover flush)', async () => {
    q = new SchedulingQueue({ initialBackoffMs: 1, maxUnschedulableMs: 30, flushIntervalMs: 10, maybeSchedulable: () => false });
    q.add(info('stuck-2'));
    q.addUnschedulable(q.pop()!, new Set(['NodeAffinity']));
    q.moveAllToActiveOrBackoff('PvcAdd');
    expect(q.lengths.unschedulable).toBe(1);
    const started = Date.now();
    await q.wait();
    expect(Date.now() - started).toBeGreaterThanOrEqual(20);
    expect(q.pop()?.pi.name).toBe('stuck-2');
  });

  it('forgets deleted pods and tracks nominations', () => {
    q = new SchedulingQueue();
    const p = info('p', 5);
    q.add(p);
    q.nominator.add(p, 'node-1');
    expect(q.nominator.podsOn('node-1')?.map((x) => x.name)).toEqual(['p']);
    q.delete(p.key);
    expect(q.pop()).toBeUndefined();
    expect(q.nominator.podsOn('node-1')).toBeUndefined();
  });
});
