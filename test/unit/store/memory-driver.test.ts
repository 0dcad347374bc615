import { describe, expect, it } from 'vitest';
import { isStoreError, openStore } from '../../../core/store/index.ts';
import { MemoryStore } from '../../../core/store/drivers/memory-driver.ts';
import { runStoreContract } from './store-contract.ts';

runStoreContract('memory', () => openStore('memory:'));

describe('memory driver: bounded history', () => {
  it('keeps at most historyLimit events; older watches get Compacted', async () => {
    const s = new MemoryStore({ historyLimit: 5 });
    for (let i = 1; i <= 12; i++) await s.create(`/k/${i}`, {});
    expect(s.compactedRevision()).toBe(7);
    expect(() => s.watch('/k/', 6, () => undefined)).toThrow(expect.objectContaining({ code: 'Compacted' }));
    const seen: number[] = [];
    s.watch('/k/', 7, (ev) => seen.push(ev.kv.modRevision));
    await new Promise((r) => setTimeout(r, 5));
    expect(seen).toEqual([8, 9, 10, 11, 12]);
  });

  it('drops events older than historyMaxAgeMs', async () => {
    let now = 1_000_000;
    const s = new MemoryStore({ historyMaxAgeMs: 60_000, now: () => now });
    await s.create('/a', {});
    await s.create('/b', {});
    now += 30_000;
    await s.create('/c', {});
    now += 40_000; // /a and /b are now 70 s old, /c 40 s
    expect(s.compactedRevision()).toBe(2);
    let err: unknown;
    try {
      s.watch('', 1, () => undefined);
    } catch (e) {
      err = e;
    }
    expect(isStoreError(err, 'Compacted')).toBe(true);
  });

  it('rejects values that are not JSON objects', async () => {
    const s = new MemoryStore();
    await expect(s.create('/a', [] as unknown as Record<string, unknown>)).rejects.toThrow(/must be a JSON object/);
    await expect(s.create('', {})).rejects.toThrow(/non-empty/);
  });
});
