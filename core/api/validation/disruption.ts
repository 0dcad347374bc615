/**
 * policy/v1 PodDisruptionBudget, as k8s.io/kubernetes/pkg/apis/policy/validation: minAvailable
 * and maxUnavailable are exclusive, each a non-negative int or a percent of at most 100%; the
 * selector is a well-formed label selector (optional: a null selector selects no pod);
 * unhealthyPodEvictionPolicy is IfHealthyBudget or AlwaysAllow (unset behaves as IfHealthyBudget).
 * The spec may change after creation (Kubernetes ≥ 1.15).
 */
import { Inv } from '../errors.ts';
import type { KubeObject } from '../types.ts';
import { has, intOrPercent, obj, oneOf, validateLabelSelector, type Errs } from './common.ts';

export const UNHEALTHY_POD_EVICTION_POLICIES = ['AlwaysAllow', 'IfHealthyBudget'] as const;

export function validatePodDisruptionBudget(pdb: KubeObject): Errs {
  const spec = obj(pdb.spec) ?? {};
  const errs: Errs = [];
  if (has(spec.minAvailable) && has(spec.maxUnavailable)) {
    errs.push(Inv('spec', spec, 'minAvailable and maxUnavailable cannot be both set'));
  }
  errs.push(
    ...intOrPercent('spec.minAvailable', spec.minAvailable, true),
    ...intOrPercent('spec.maxUnavailable', spec.maxUnavailable, true),
    ...validateLabelSelector(spec.selector, 'spec.selector'),
    ...oneOf('spec.unhealthyPodEvictionPolicy', spec.unhealthyPodEvictionPolicy, UNHEALTHY_POD_EVICTION_POLICIES),
  );
  return errs;
}
