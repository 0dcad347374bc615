import { describe, expect, it } from 'vitest';
import { SchedulerCache } from '../../../core/scheduler/cache.ts';
import { CycleState, type PluginModule } from '../../../core/scheduler/framework.ts';
import { defaultProfile } from '../../../core/scheduler/profile.ts';
import { Framework, numFeasibleNodesToFind } from '../../../core/scheduler/runtime.ts';
import { node, pod } from './helpers.ts';

describe('percentageOfNodesToScore', () => {
  it('is adaptive as in kube-scheduler: 50% - nodes/125, at least 5%, at least 100 nodes', () => {
    expect(numFeasibleNodesToFind(0, 50)).toBe(50);
    expect(numFeasibleNodesToFind(0, 150)).toBe(100); // 49% of 150 = 73 → at least 100
    expect(numFeasibleNodesToFind(0, 1000)).toBe(420); // 42%
    expect(numFeasibleNodesToFind(0, 5000)).toBe(500); // 10%
    expect(numFeasibleNodesToFind(0, 6000)).toBe(300); // 2% → 5%
    expect(numFeasibleNodesToFind(30, 1000)).toBe(300);
    expect(numFeasibleNodesToFind(100, 1000)).toBe(1000);
  });

  it('starts each cycle where the previous one stopped (round robin over nodes)', () => {
    const cache = new SchedulerCache();
    for (let i = 0; i < 300; i++) cache.addNode(node(`n${i}`));
    const seen: string[][] = [];
    const spy: PluginModule = {
      name: 'Spy',
      create: () => ({
        name: 'Spy',
        filter: (_s, _p, n) => {
          seen[seen.length - 1]!.push(n.name);
          return null;
        },
      }),
    };
    const profile = defaultProfile();
    profile.plugins = [{ plugin: spy }, ...profile.plugins];
    const fw = new Framework(profile, { cache, listers: { pvc: () => undefined, pv: () => undefined, namespaceLabels: () => undefined, services: () => [], controller: () => undefined } });
    const want = numFeasibleNodesToFind(0, 300); // 48% → 144
    for (let i = 0; i < 3; i++) {
      seen.push([]);
      const r = fw.schedule(new CycleState(), cache.podInfo(pod(`p${i}`)), cache.nodeList(), undefined);
      expect(r.ok).toBe(true);
    }
    expect(seen.map((s) => s.length)).toEqual([want, want, want]);
    expect(seen[0]![0]).toBe('n0');
    expect(seen[1]![0]).toBe(`n${want}`);
    expect(seen[2]![0]).toBe(`n${(2 * want) % 300}`);
  });
});
