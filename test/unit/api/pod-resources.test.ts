/** A pod's effective requests and limits with sidecars, as Kubernetes' resource helpers compute them. */
import { describe, expect, it } from 'vitest';
import { podLimits, podRequests } from '../../../core/api/pod-resources.ts';
import { parseQuantity } from '../../../core/api/quantity.ts';
import type { KubeObject } from '../../../core/api/types.ts';
import { podRequests as schedulerRequests } from '../../../core/scheduler/resources.ts';
import { podRequests as rendererRequests } from '../../../renderer/src/lib/pods.ts';

const c = (name: string, cpu: string, memory: string, extra: Record<string, unknown> = {}) => ({
  name,
  image: 'x',
  resources: { requests: { cpu, memory }, limits: { cpu, memory } },
  ...extra,
});
const side = (name: string, cpu: string, memory: string) => c(name, cpu, memory, { restartPolicy: 'Always' });
const pod = (initContainers: unknown[], containers: unknown[], extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'default' },
  spec: { initContainers, containers, ...extra },
});
const milli = (v: string | undefined) => Math.round(parseQuantity(v ?? '0').toNumber() * 1000);
const bytes = (v: string | undefined) => parseQuantity(v ?? '0').toNumber();

/** cpu in millicores and memory in Mi, from all three implementations (they must agree). */
function effective(p: KubeObject): { cpu: number; memMi: number } {
  const api = podRequests(p);
  const sched = schedulerRequests(p);
  const ui = rendererRequests(p, (q) => (q === undefined ? 0 : parseQuantity(q).toNumber()));
  const out = { cpu: milli(api.cpu), memMi: bytes(api.memory) / 2 ** 20 };
  expect({ cpu: sched.milliCpu, memMi: sched.memory / 2 ** 20 }).toEqual(out);
  expect({ cpu: Math.round(ui.cpu * 1000), memMi: ui.memory / 2 ** 20 }).toEqual(out);
  return out;
}

describe('pod effective requests with sidecar containers', () => {
  it('sidecars add to the containers: sum(containers) + sum(sidecars)', () => {
    expect(effective(pod([side('proxy', '100m', '64Mi'), side('logs', '50m', '32Mi')], [c('app', '300m', '128Mi')]))).toEqual({ cpu: 450, memMi: 224 });
  });

  it('an init container counts with the sidecars started before it, not those after', () => {
    // init 200m + sidecar a 50m = 250m < 350m (app 300m + sidecar 50m)
    expect(effective(pod([c('one', '100m', '10Mi'), side('a', '50m', '10Mi'), c('two', '200m', '10Mi')], [c('app', '300m', '10Mi')])).cpu).toBe(350);
    // init 400m + sidecar a 50m = 450m > 350m
    expect(effective(pod([c('one', '100m', '10Mi'), side('a', '50m', '10Mi'), c('two', '400m', '10Mi')], [c('app', '300m', '10Mi')])).cpu).toBe(450);
    // an init container before the sidecar runs alone: 500m, more than 100m + 100m
    expect(effective(pod([c('first', '500m', '1Gi'), side('a', '100m', '64Mi')], [c('app', '100m', '64Mi')]))).toEqual({ cpu: 500, memMi: 1024 });
    // two sidecars before it: 100m + 100m + 300m = 500m; after: main 100m + 200m = 300m
    expect(effective(pod([side('a', '100m', '1Mi'), side('b', '100m', '1Mi'), c('late', '300m', '1Mi')], [c('app', '100m', '1Mi')])).cpu).toBe(500);
  });

  it('limits follow the same formula, and overhead adds to both', () => {
    const p = pod([side('a', '100m', '64Mi'), c('init', '1', '64Mi')], [c('app', '200m', '64Mi')], { overhead: { cpu: '10m' } });
    expect(milli(podLimits(p).cpu)).toBe(1110);
    expect(milli(podRequests(p).cpu)).toBe(1110);
    expect(bytes(podLimits(p).memory) / 2 ** 20).toBe(128);
  });

  it("the scheduler's non-zero defaults count a sidecar without requests as 100m / 200Mi", () => {
    const p = pod([{ name: 'a', image: 'x', restartPolicy: 'Always' }], [c('app', '300m', '100Mi')]);
    const r = schedulerRequests(p, true);
    expect(r.milliCpu).toBe(400);
    expect(r.memory).toBe(300 * 2 ** 20);
  });
});
