import { describe, expect, it } from 'vitest';
import { FakeRuntime } from '../../../core/runtime/fake-runtime.ts';
import { Reaper } from '../../../core/agent/reaper.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function sandbox(rt: FakeRuntime, attempt: number): Promise<string> {
  return rt.runPodSandbox({ cluster: 'c', node: 'n', namespace: 'default', podName: 'p', podUid: 'u', attempt, hostname: 'p', network: 'net', portMappings: [], labels: {}, annotations: {} } as any);
}

describe('Reaper', () => {
  it('removes dead sandboxes once nothing has happened for quietMs, and waits while syncs run', async () => {
    const rt = new FakeRuntime();
    await rt.ensureNetwork('net', {});
    const a = await sandbox(rt, 0);
    const b = await sandbox(rt, 1);
    let busy = true;
    const r = new Reaper(rt, () => busy, { quietMs: 50 });
    r.removeSandboxes([a, b, a]);
    expect(r.pending).toBe(2);
    await sleep(150);
    expect(rt.sandboxes.size, 'syncs are running: nothing removed yet').toBe(2);
    busy = false;
    await sleep(2_300);
    expect(rt.sandboxes.size).toBe(0);
    expect(r.pending).toBe(0);
  });

  it('ignores what is already gone, and does nothing once stopped', async () => {
    const rt = new FakeRuntime();
    await rt.ensureNetwork('net', {});
    const a = await sandbox(rt, 0);
    const r = new Reaper(rt, () => false, { quietMs: 10 });
    r.removeSandboxes(['0123456789ab', a]);
    await r.flush();
    expect(rt.sandboxes.size).toBe(0);
    const b = await sandbox(rt, 1);
    r.stop();
    r.removeSandboxes([b]);
    await sleep(50);
    expect(rt.sandboxes.size).toBe(1);
  });

  it('does not wait for a quiet node forever: once the oldest has waited maxDeferMs, it removes anyway', async () => {
    const rt = new FakeRuntime();
    await rt.ensureNetwork('net', {});
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await sandbox(rt, i));
    const r = new Reaper(rt, () => true, { quietMs: 50, maxDeferMs: 300 });
    r.removeSandboxes(ids);
    await sleep(200);
    expect(rt.sandboxes.size, 'busy and not overdue yet').toBe(5);
    await sleep(2_500);
    expect(rt.sandboxes.size).toBe(0);
    expect(r.pending).toBe(0);
  });

  it('does not let a removal the engine never answers hold up the others', async () => {
    const rt = new FakeRuntime();
    await rt.ensureNetwork('net', {});
    const stuck = await sandbox(rt, 0);
    const others = [await sandbox(rt, 1), await sandbox(rt, 2), await sandbox(rt, 3)];
    const remove = rt.removePodSandbox.bind(rt);
    rt.removePodSandbox = (id: string) => (id === stuck ? new Promise<void>(() => {}) : remove(id));
    const r = new Reaper(rt, () => false, { quietMs: 10, concurrency: 1, removalTimeoutMs: 200 });
    r.removeSandboxes([stuck, ...others]);
    await sleep(2_000);
    expect(r.pending).toBe(0);
    expect([...rt.sandboxes.keys()]).toEqual([stuck]);
  });

  it('keeps working after a drain that found nothing to do (a timer that fired after the last removal)', async () => {
    const rt = new FakeRuntime();
    await rt.ensureNetwork('net', {});
    const r = new Reaper(rt, () => false, { quietMs: 10 });
    await r.flush(); // nothing pending: the drain ends at once
    const a = await sandbox(rt, 0);
    r.removeSandboxes([a]);
    await sleep(300);
    expect(r.pending).toBe(0);
    expect(rt.sandboxes.size).toBe(0);
    const b = await sandbox(rt, 1);
    r.removeSandboxes([b]);
    await r.flush();
    expect(rt.sandboxes.size).toBe(0);
  });
});
