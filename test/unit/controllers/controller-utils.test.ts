import { describe, it, expect } from 'vitest';
import type { KubeObject } from '../../../core/api/types.ts';
import {
  computeHash, ControllerExpectations, EXPECTATIONS_TIMEOUT_MS, equalIgnoreHash, isPodAvailable, podsToDelete, scaledValue,
  slowStartBatch,
} from '../../../core/controllers/controller-utils.ts';
import { podFromTemplate } from '../../../core/controllers/pod-control.ts';
import { resolveFenceposts } from '../../../core/controllers/deployment/util.ts';
import { detectRolloutFailure, FAILING_THRESHOLDS, podFailure } from '../../../core/controllers/deployment/auto-rollback.ts';

const NOW = new Date('2024-05-01T12:00:00Z');
const ago = (s: number) => new Date(NOW.getTime() - s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

function pod(name: string, o: { node?: string; phase?: string; ready?: boolean; readySince?: number; restarts?: number; age?: number; cost?: string } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      uid: `uid-${name}`,
      creationTimestamp: ago(o.age ?? 100),
      ...(o.cost !== undefined ? { annotations: { 'controller.kubernetes.io/pod-deletion-cost': o.cost } } : {}),
    },
    spec: { nodeName: o.node, containers: [{ name: 'c', image: 'x' }] },
    status: {
      phase: o.phase ?? 'Pending',
      conditions: o.ready !== undefined ? [{ type: 'Ready', status: o.ready ? 'True' : 'False', lastTransitionTime: ago(o.readySince ?? 50) }] : [],
      containerStatuses: [{ name: 'c', restartCount: o.restarts ?? 0 }],
    },
  };
}

describe('pod ranking for scale-down', () => {
  const names = (pods: KubeObject[]) => pods.map((p) => p.metadata.name);

  it('orders as Kubernetes ActivePods: unscheduled, pending, not ready, … newest', () => {
    const pods = [
      pod('old-ready', { node: 'n', phase: 'Running', ready: true, readySince: 5000, age: 6000 }),
      pod('unscheduled'),
      pod('running-not-ready', { node: 'n', phase: 'Running', ready: false }),
      pod('pending', { node: 'n' }),
      pod('unknown', { node: 'n', phase: 'Unknown' }),
      pod('restarty', { node: 'n', phase: 'Running', ready: true, readySince: 5000, restarts: 7, age: 6000 }),
      pod('just-ready', { node: 'n', phase: 'Running', ready: true, readySince: 2, age: 6000 }),
    ];
    expect(names(podsToDelete(pods, pods, 6, NOW))).toEqual(['unscheduled', 'pending', 'unknown', 'running-not-ready', 'just-ready', 'restarty']);
  });

  it('prefers pods doubled up on a node and honours pod-deletion-cost', () => {
    const a = pod('alone', { node: 'n1', phase: 'Running', ready: true });
    const b = pod('crowded', { node: 'n2', phase: 'Running', ready: true });
    const sibling = pod('sibling', { node: 'n2', phase: 'Running', ready: true });
    expect(names(podsToDelete([a, b], [a, b, sibling], 1, NOW))).toEqual(['crowded']);
    const cheap = pod('cheap', { node: 'n1', phase: 'Running', ready: true, cost: '-10' });
    expect(names(podsToDelete([a, b, cheap], [a, b, sibling, cheap], 1, NOW))).toEqual(['cheap']);
  });

  it('compares ages in powers of two: newer first, uid within one bucket', () => {
    const young = pod('young', { node: 'n', phase: 'Running', age: 10 });
    const old = pod('old', { node: 'n', phase: 'Running', age: 10_000 });
    expect(names(podsToDelete([old, young], [], 1, NOW))).toEqual(['young']);
    const twin = pod('a-twin', { node: 'n', phase: 'Running', age: 10_001 });
    expect(names(podsToDelete([old, twin], [], 1, NOW))).toEqual(['a-twin']); // same bucket: lower uid
  });

  it('minReadySeconds: available strictly after the window', () => {
    const p = pod('p', { phase: 'Running', ready: true, readySince: 10 });
    expect(isPodAvailable(p, 0, NOW)).toBe(true);
    expect(isPodAvailable(p, 10, NOW)).toBe(false);
    expect(isPodAvailable(p, 9, NOW)).toBe(true);
  });
});

describe('maxSurge / maxUnavailable', () => {
  it('rounds surge up and unavailable down', () => {
    expect(scaledValue('25%', 10, true)).toBe(3);
    expect(scaledValue('25%', 10, false)).toBe(2);
    expect(scaledValue(4, 10, true)).toBe(4);
    expect(() => scaledValue('abc', 10, true)).toThrow(/not an integer or a percentage/);
    expect(resolveFenceposts('25%', '25%', 10)).toEqual({ surge: 3, unavailable: 2 });
    expect(resolveFenceposts('25%', '25%', 1)).toEqual({ surge: 1, unavailable: 0 });
    expect(resolveFenceposts(0, '10%', 5)).toEqual({ surge: 0, unavailable: 1 }); // both 0 → unavailable 1
  });
});

describe('pod-template-hash', () => {
  const t = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.25' }] } };
  it('is stable, key-order independent, and moved by the collision count', () => {
    const h = computeHash(t);
    expect(h).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
    expect(computeHash({ spec: t.spec, metadata: t.metadata })).toBe(h);
    expect(computeHash(t, 1)).not.toBe(h);
    expect(computeHash({ ...t, spec: { containers: [{ name: 'web', image: 'nginx:1.26' }] } })).not.toBe(h);
  });
  it('templates compare equal ignoring the hash label and nil-vs-empty', () => {
    const withHash = { metadata: { labels: { app: 'web', 'pod-template-hash': 'abc' } }, spec: { ...t.spec, volumes: [] } };
    expect(equalIgnoreHash(t, withHash)).toBe(true);
    expect(equalIgnoreHash(t, { ...t, spec: { containers: [{ name: 'web', image: 'other' }] } })).toBe(false);
  });
});

describe('expectations and slow start', () => {
  it('waits for observed creates and tracked deletes, and expires', () => {
    let now = NOW.getTime();
    const e = new ControllerExpectations(() => new Date(now));
    e.expectCreations('k', 2);
    expect(e.satisfied('k')).toBe(false);
    e.creationObserved('k');
    e.creationObserved('k');
    expect(e.satisfied('k')).toBe(true);
    e.expectDeletions('k', ['ns/a', 'ns/b']);
    e.deletionObserved('k', 'ns/a');
    e.deletionObserved('k', 'ns/a'); // the same pod seen twice (graceful delete, then gone) counts once
    expect(e.satisfied('k')).toBe(false);
    now += EXPECTATIONS_TIMEOUT_MS + 1;
    expect(e.satisfied('k')).toBe(true);
  });

  it('creates in batches of 1, 2, 4 … and stops at the first failing batch', async () => {
    let calls = 0;
    const r = await slowStartBatch(10, 1, async () => {
      if (++calls > 4) throw new Error('quota');
    });
    expect(calls).toBe(7); // 1 + 2 + 4 (of which 3 failed)
    expect(r.successes).toBe(4);
    expect((r.error as Error).message).toBe('quota');
    calls = 0;
    expect(await slowStartBatch(5, 1, async () => void calls++)).toEqual({ successes: 5 });
  });
});

describe('pod from template', () => {
  it('carries labels, annotations, the controller reference and extra labels', () => {
    const owner = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'pi', namespace: 'ns', uid: 'u1' } } as KubeObject;
    const p = podFromTemplate({ metadata: { labels: { a: '1' }, annotations: { n: 'x' } }, spec: { containers: [] } }, owner, { labels: { 'batch.kubernetes.io/controller-uid': 'u1' } });
    expect(p.metadata).toEqual({
      generateName: 'pi-',
      namespace: 'ns',
      labels: { a: '1', 'batch.kubernetes.io/controller-uid': 'u1' },
      annotations: { n: 'x' },
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'pi', uid: 'u1', controller: true, blockOwnerDeletion: true }],
    });
  });
});

describe('rollout failure detection', () => {
  const d = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: {}, status: {} } as KubeObject;
  const rs = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web-abc' }, spec: {} } as KubeObject;
  const crashing = (name: string) => {
    const p = pod(name, { phase: 'Running', ready: false });
    p.status.containerStatuses = [{ name: 'c', restartCount: 1, state: { waiting: { reason: 'CrashLoopBackOff' } } }];
    return p;
  };
  const fine = (name: string) => pod(name, { phase: 'Running', ready: true });

  it('needs at least half of the new pods failing', () => {
    expect(detectRolloutFailure(d, rs, [crashing('a'), fine('b'), fine('c')], NOW).why).toBeUndefined();
    expect(detectRolloutFailure(d, rs, [crashing('a'), crashing('b'), fine('c')], NOW).why).toBe('2 new pods in CrashLoopBackOff');
    expect(detectRolloutFailure(d, rs, [crashing('a')], NOW).why).toBe('1 new pod in CrashLoopBackOff');
  });

  it('counts restarts and image pulls stuck past the window', () => {
    expect(podFailure(pod('r', { phase: 'Running', ready: true, restarts: FAILING_THRESHOLDS.restartCount }), NOW).category).toBe('restarted 3 or more times');
    const pulling = pod('i');
    pulling.status.startTime = ago(30);
    pulling.status.containerStatuses = [{ name: 'c', restartCount: 0, state: { waiting: { reason: 'ErrImagePull' } } }];
    expect(podFailure(pulling, NOW)).toEqual({ recheckMs: 30_000 });
    pulling.status.startTime = ago(61);
    expect(podFailure(pulling, NOW).category).toBe('in ErrImagePull for over 60s');
  });

  it('a deadline counts only for the new ReplicaSet it names', () => {
    const timedOut = (name: string) => ({
      ...d,
      spec: { progressDeadlineSeconds: 600 },
      status: { conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: `ReplicaSet "${name}" has timed out progressing.` }] },
    });
    expect(detectRolloutFailure(timedOut('web-abc'), rs, [], NOW).why).toBe('progress deadline of 600s exceeded');
    expect(detectRolloutFailure(timedOut('web-old'), rs, [], NOW).why).toBeUndefined();
  });
});
