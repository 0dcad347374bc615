import { describe, expect, it } from 'vitest';
import { applyDefaults } from '../../../../core/api/defaults.ts';
import type { KubeObject } from '../../../../core/api/types.ts';
import { validateObject, validateUpdate } from '../../../../core/api/validation/index.ts';
import { causes, expectOne } from './helpers.ts';

const cluster = (apiVersion: string, kind: string, body: Record<string, unknown>, name = 'x'): KubeObject => ({ apiVersion, kind, metadata: { name }, ...body });
const ns = (apiVersion: string, kind: string, body: Record<string, unknown>, name = 'x'): KubeObject => ({ apiVersion, kind, metadata: { name, namespace: 'default' }, ...body });
const RBAC = 'rbac.authorization.k8s.io/v1';

describe('Namespace and Node', () => {
  it('namespace finalizers are standard or qualified', () => {
    expect(validateObject(applyDefaults(cluster('v1', 'Namespace', {}, 'team-a')))).toEqual([]);
    expect(causes(validateObject(cluster('v1', 'Namespace', { spec: { finalizers: ['cleanup'] } }, 'a')))).toEqual([['spec.finalizers[0]', 'Invalid']]);
  });

  it('node taints, pod CIDR, capacity', () => {
    const node = cluster('v1', 'Node', {
      spec: { podCIDR: '10.244.1.0/24', taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] },
      status: { capacity: { cpu: '8', memory: '16Gi', pods: '110' } },
    }, 'desktop-1');
    expect(validateObject(node)).toEqual([]);
    const bad = cluster('v1', 'Node', {
      spec: { podCIDR: '10.244.1.0', taints: [{ key: 'a', effect: 'Sometimes' }, { effect: 'NoSchedule' }, { key: 'a', effect: 'Sometimes' }] },
      status: { capacity: { cpu: 'eight' } },
    }, 'n');
    expect(causes(validateObject(bad))).toEqual([
      ['spec.taints[0].effect', 'NotSupported'],
      ['spec.taints[1].key', 'Required'],
      ['spec.taints[2].effect', 'NotSupported'],
      ['spec.taints[2]', 'Invalid'],
      ['spec.podCIDR', 'Invalid'],
      ['status.capacity[cpu]', 'Invalid'],
    ]);
    const old = cluster('v1', 'Node', { spec: { podCIDR: '10.244.1.0/24' } }, 'n');
    expect(causes(validateUpdate(cluster('v1', 'Node', { spec: { podCIDR: '10.244.2.0/24' } }, 'n'), old))).toEqual([['spec.podCIDR', 'Forbidden']]);
  });
});

describe('RBAC', () => {
  it('rules need verbs, and api groups and resources (or non-resource URLs on cluster roles)', () => {
    const good = { rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }] };
    expect(validateObject(ns(RBAC, 'Role', good))).toEqual([]);
    expect(validateObject(cluster(RBAC, 'ClusterRole', { rules: [{ nonResourceURLs: ['/healthz'], verbs: ['get'] }] }))).toEqual([]);
    const errs = validateObject(ns(RBAC, 'Role', { rules: [{ resources: ['pods'] }, { nonResourceURLs: ['/metrics'], verbs: ['get'] }] }));
    expect(causes(errs)).toEqual([
      ['rules[0].verbs', 'Required'],
      ['rules[0].apiGroups', 'Required'],
      ['rules[1].nonResourceURLs', 'Invalid'],
    ]);
    expect(errs[0]!.message).toBe('Required value: verbs must contain at least one value');
    expect(causes(validateObject(cluster(RBAC, 'ClusterRole', { aggregationRule: {} })))).toEqual([['aggregationRule.clusterRoleSelectors', 'Required']]);
  });

  it('bindings reference a role and list valid subjects; roleRef never changes', () => {
    const rb = (roleRef: unknown, subjects: unknown) => ns(RBAC, 'RoleBinding', { roleRef, subjects });
    const ref = { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' };
    expect(validateObject(rb(ref, [{ kind: 'ServiceAccount', name: 'default' }, { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'me@example.com' }]))).toEqual([]);
    expect(causes(validateObject(rb({ kind: 'Policy' }, [{ kind: 'Robot', name: 'r' }, { kind: 'User', name: 'u' }])))).toEqual([
      ['roleRef.apiGroup', 'NotSupported'],
      ['roleRef.kind', 'NotSupported'],
      ['roleRef.name', 'Required'],
      ['subjects[0].kind', 'NotSupported'],
      ['subjects[1].apiGroup', 'NotSupported'],
    ]);
    const crb = cluster(RBAC, 'ClusterRoleBinding', { roleRef: { ...ref, kind: 'ClusterRole' }, subjects: [{ kind: 'ServiceAccount', name: 'sa' }] });
    expect(causes(validateObject(crb))).toEqual([['subjects[0].namespace', 'Required']]);
    expect(causes(validateUpdate(rb({ ...ref, name: 'writer' }, []), rb(ref, [])))).toEqual([['roleRef', 'Invalid']]);
  });
});

describe('PriorityClass', () => {
  const pc = (value: number, name = 'high', extra: Record<string, unknown> = {}) => cluster('scheduling.k8s.io/v1', 'PriorityClass', { value, ...extra }, name);

  it('user classes are at most 1e9; system- names are reserved', () => {
    expect(validateObject(pc(1_000_000_000))).toEqual([]);
    expect(expectOne(validateObject(pc(1_000_000_001)), 'value', 'Forbidden').message).toBe('Forbidden: maximum allowed value of a user defined priority is 1000000000');
    expect(validateObject(pc(2_000_000_000, 'system-cluster-critical'))).toEqual([]);
    expectOne(validateObject(pc(5, 'system-mine')), 'metadata.name', 'Forbidden');
    expect(causes(validateObject(pc(5, 'p', { preemptionPolicy: 'Always' })))).toEqual([['preemptionPolicy', 'NotSupported']]);
  });

  it('value never changes', () => {
    expect(causes(validateUpdate(pc(10), pc(5)))).toEqual([['value', 'Forbidden']]);
  });
});

describe('ResourceQuota and LimitRange', () => {
  it('quota names and quantities', () => {
    const q = (hard: Record<string, unknown>, extra: Record<string, unknown> = {}) => ns('v1', 'ResourceQuota', { spec: { hard, ...extra } });
    expect(validateObject(q({ pods: '10', 'requests.cpu': '4', 'limits.memory': '8Gi', 'count/deployments.apps': '5', 'requests.nvidia.com/gpu': '1' }))).toEqual([]);
    expect(causes(validateObject(q({ pods: '1.5', cpu: '-1', gpus: '2', memory: 'lots' }, { scopes: ['Terminating', 'NotTerminating', 'Sometimes'] })))).toEqual([
      ['spec.hard[cpu]', 'Invalid'],
      ['spec.hard[gpus]', 'Invalid'],
      ['spec.hard[memory]', 'Invalid'],
      ['spec.hard[pods]', 'Invalid'],
      ['spec.scopes[2]', 'NotSupported'],
      ['spec.scopes', 'Invalid'],
    ]);
  });

  it('limit ranges: min ≤ defaultRequest ≤ default ≤ max', () => {
    const lr = (limits: unknown) => ns('v1', 'LimitRange', { spec: { limits } });
    expect(validateObject(lr([{ type: 'Container', min: { cpu: '100m' }, defaultRequest: { cpu: '200m' }, default: { cpu: '500m' }, max: { cpu: '1' } }]))).toEqual([]);
    const errs = validateObject(lr([
      { type: 'Container', min: { cpu: '2' }, max: { cpu: '1' }, default: { memory: '1Gi' }, defaultRequest: { memory: '2Gi' }, maxLimitRequestRatio: { cpu: '0.5' } },
      { type: 'Pod', default: { cpu: '1' } },
      { type: 'Node' },
    ]));
    expect(causes(errs)).toEqual([
      ['spec.limits[0].min[cpu]', 'Invalid'],
      ['spec.limits[0].maxLimitRequestRatio[cpu]', 'Invalid'],
      ['spec.limits[0].defaultRequest[memory]', 'Invalid'],
      ['spec.limits[1].default', 'Forbidden'],
      ['spec.limits[2].type', 'NotSupported'],
    ]);
    expect(errs[0]!.message).toBe('Invalid value: "2": min value 2 is greater than max value 1');
    expect(errs[2]!.message).toBe('Invalid value: "2Gi": default request value 2Gi is greater than default limit value 1Gi');
  });
});

describe('HorizontalPodAutoscaler', () => {
  const hpa = (spec: Record<string, unknown>) => ns('autoscaling/v2', 'HorizontalPodAutoscaler', { spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 5, ...spec } });

  it('a valid one passes, defaulted or not', () => {
    expect(validateObject(hpa({}))).toEqual([]);
    expect(validateObject(applyDefaults(hpa({ behavior: {} })))).toEqual([]);
  });

  it('target, replica bounds and metrics', () => {
    const errs = validateObject(hpa({
      scaleTargetRef: { kind: 'Deployment' },
      minReplicas: 6,
      metrics: [
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 0 } } },
        { type: 'Pods' },
        { type: 'Magic' },
        { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '500Mi' } }, pods: {} },
      ],
    }));
    expect(causes(errs)).toEqual([
      ['spec.scaleTargetRef.name', 'Required'],
      ['spec.maxReplicas', 'Invalid'],
      ['spec.metrics[0].resource.target.averageUtilization', 'Invalid'],
      ['spec.metrics[1].pods', 'Required'],
      ['spec.metrics[2].type', 'NotSupported'],
      ['spec.metrics[3].pods', 'Forbidden'],
    ]);
    expect(errs[1]!.message).toBe('Invalid value: 5: must be greater than or equal to `minReplicas`');
    expect(causes(validateObject(hpa({ minReplicas: 0, maxReplicas: 0 })))).toEqual([['spec.minReplicas', 'Invalid'], ['spec.maxReplicas', 'Invalid']]);
  });
});

describe('Lease, Event, ServiceAccount', () => {
  it('basic shape checks', () => {
    expect(validateObject(ns('coordination.k8s.io/v1', 'Lease', { spec: { holderIdentity: 'a', leaseDurationSeconds: 15 } }))).toEqual([]);
    expect(causes(validateObject(ns('coordination.k8s.io/v1', 'Lease', { spec: { leaseDurationSeconds: 0 } })))).toEqual([['spec.leaseDurationSeconds', 'Invalid']]);
    expect(validateObject(ns('v1', 'Event', { involvedObject: { kind: 'Pod', name: 'p', namespace: 'default' }, reason: 'Started', type: 'Normal' }, 'p.17a'))).toEqual([]);
    expect(causes(validateObject(ns('v1', 'Event', { involvedObject: { kind: 'Pod', name: 'p', namespace: 'other' }, type: 'Info' }, 'p.1')))).toEqual([
      ['involvedObject.namespace', 'Invalid'],
      ['type', 'NotSupported'],
    ]);
    expect(validateObject(ns('v1', 'ServiceAccount', { imagePullSecrets: [{ name: 'regcred' }] }, 'default'))).toEqual([]);
  });
});
