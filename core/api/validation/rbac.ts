/** rbac.authorization.k8s.io/v1: Role, ClusterRole, RoleBinding, ClusterRoleBinding. */
import { Inv, NotSupported, Req } from '../errors.ts';
import type { KubeObject } from '../types.ts';
import { arr, filled, isDNS1123Subdomain, isValidPathSegmentName, obj, ReqD, same, validateLabelSelector, type Errs } from './common.ts';

const RBAC_GROUP = 'rbac.authorization.k8s.io';

/** ValidatePolicyRule. */
function validateRule(rule: any, namespaced: boolean, path: string): Errs {
  const errs: Errs = [];
  if (arr(rule?.verbs).length === 0) errs.push(ReqD(`${path}.verbs`, 'verbs must contain at least one value'));
  const urls = arr(rule?.nonResourceURLs);
  if (urls.length > 0) {
    if (namespaced) errs.push(Inv(`${path}.nonResourceURLs`, urls, 'namespaced rules cannot apply to non-resource URLs'));
    if (arr(rule.apiGroups).length || arr(rule.resources).length || arr(rule.resourceNames).length) {
      errs.push(Inv(`${path}.nonResourceURLs`, urls, 'rules cannot apply to both regular resources and non-resource URLs'));
    }
    return errs;
  }
  if (arr(rule?.apiGroups).length === 0) errs.push(ReqD(`${path}.apiGroups`, 'resource rules must supply at least one api group'));
  if (arr(rule?.resources).length === 0) errs.push(ReqD(`${path}.resources`, 'resource rules must supply at least one resource'));
  return errs;
}

export function validateRole(role: KubeObject): Errs {
  return arr(role.rules).flatMap((r, i) => validateRule(r, true, `rules[${i}]`));
}

export function validateClusterRole(role: KubeObject): Errs {
  const errs = arr(role.rules).flatMap((r, i) => validateRule(r, false, `rules[${i}]`));
  const agg = obj(role.aggregationRule);
  if (agg) {
    const sels = arr(agg.clusterRoleSelectors);
    if (sels.length === 0) {
      errs.push(ReqD('aggregationRule.clusterRoleSelectors', 'at least one clusterRoleSelector required if aggregationRule is non-nil'));
    }
    sels.forEach((s, i) => errs.push(...validateLabelSelector(s, `aggregationRule.clusterRoleSelectors[${i}]`)));
  }
  return errs;
}

function validateBinding(b: KubeObject, namespaced: boolean): Errs {
  const errs: Errs = [];
  const ref = obj(b.roleRef) ?? {};
  if (ref.apiGroup !== RBAC_GROUP) errs.push(NotSupported('roleRef.apiGroup', ref.apiGroup ?? '', [RBAC_GROUP]));
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (!kinds.includes(ref.kind)) errs.push(NotSupported('roleRef.kind', ref.kind ?? '', kinds));
  if (!filled(ref.name)) errs.push(Req('roleRef.name'));
  else for (const m of isValidPathSegmentName(ref.name)) errs.push(Inv('roleRef.name', ref.name, m));
  arr(b.subjects).forEach((s: any, i: number) => {
    const p = `subjects[${i}]`;
    if (!filled(s?.name)) errs.push(Req(`${p}.name`));
    switch (s?.kind) {
      case 'ServiceAccount':
        if (filled(s.name)) for (const m of isDNS1123Subdomain(s.name)) errs.push(Inv(`${p}.name`, s.name, m));
        if (filled(s.apiGroup)) errs.push(NotSupported(`${p}.apiGroup`, s.apiGroup, ['']));
        if (!namespaced && !filled(s.namespace)) errs.push(Req(`${p}.namespace`));
        break;
      case 'User':
      case 'Group':
        if (s.apiGroup !== RBAC_GROUP) errs.push(NotSupported(`${p}.apiGroup`, s.apiGroup ?? '', [RBAC_GROUP]));
        break;
      default:
        errs.push(NotSupported(`${p}.kind`, s?.kind ?? '', ['ServiceAccount', 'User', 'Group']));
    }
  });
  return errs;
}

export const validateRoleBinding = (b: KubeObject): Errs => validateBinding(b, true);
export const validateClusterRoleBinding = (b: KubeObject): Errs => validateBinding(b, false);

/** A binding's roleRef never changes: delete and recreate the binding instead. */
export function validateBindingUpdate(n: KubeObject, o: KubeObject): Errs {
  return same(n.roleRef, o.roleRef) ? [] : [Inv('roleRef', n.roleRef ?? null, 'cannot change roleRef')];
}
