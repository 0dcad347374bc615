import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../../core/api/types.ts';
import { validateObject, validateUpdate } from '../../../../core/api/validation/index.ts';
import { causes, expectOne } from './helpers.ts';

const pdb = (spec: Record<string, unknown>, name = 'web'): KubeObject => ({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name, namespace: 'default' }, spec });
const sel = { matchLabels: { app: 'web' } };

describe('PodDisruptionBudget', () => {
  it('accepts ints and percents up to 100%, either bound or none, any selector', () => {
    for (const spec of [
      { minAvailable: 2, selector: sel },
      { minAvailable: '100%', selector: sel },
      { maxUnavailable: 0, selector: sel },
      { maxUnavailable: '25%', selector: {} },
      { selector: sel, unhealthyPodEvictionPolicy: 'AlwaysAllow' },
      { minAvailable: 1, unhealthyPodEvictionPolicy: 'IfHealthyBudget' },
    ]) {
      expect(validateObject(pdb(spec)), JSON.stringify(spec)).toEqual([]);
    }
  });

  it('minAvailable and maxUnavailable are exclusive', () => {
    const e = expectOne(validateObject(pdb({ minAvailable: 1, maxUnavailable: 1, selector: sel })), 'spec', 'Invalid');
    expect(e.message).toMatch(/: minAvailable and maxUnavailable cannot be both set$/);
  });

  it('int-or-percent bounds, the eviction policy and the selector are checked', () => {
    expect(causes(validateObject(pdb({ minAvailable: -1 })))).toEqual([['spec.minAvailable', 'Invalid']]);
    expect(expectOne(validateObject(pdb({ maxUnavailable: '150%' })), 'spec.maxUnavailable', 'Invalid').message).toMatch(/must not be greater than 100%/);
    expect(expectOne(validateObject(pdb({ maxUnavailable: 'half' })), 'spec.maxUnavailable', 'Invalid').message).toMatch(/a valid percent string/);
    expect(expectOne(validateObject(pdb({ unhealthyPodEvictionPolicy: 'Never' })), 'spec.unhealthyPodEvictionPolicy', 'NotSupported').message).toBe(
      'Unsupported value: "Never": supported values: "AlwaysAllow", "IfHealthyBudget"',
    );
    expectOne(validateObject(pdb({ selector: { matchExpressions: [{ key: 'app', operator: 'In' }] } })), 'spec.selector.matchExpressions[0].values', 'Required');
  });

  it('the spec may change after creation', () => {
    const old = { ...pdb({ minAvailable: 1, selector: sel }), metadata: { name: 'web', namespace: 'default', uid: 'u', creationTimestamp: '2024-01-01T00:00:00Z' } };
    expect(validateUpdate({ ...old, spec: { maxUnavailable: '10%', selector: { matchLabels: { app: 'api' } } } }, old)).toEqual([]);
  });
});
