/**
 * The review resources that are answered, not stored: SelfSubjectAccessReview and
 * SelfSubjectRulesReview (`kubectl auth can-i [--list]`), SubjectAccessReview and
 * LocalSubjectAccessReview, SelfSubjectReview (`kubectl auth whoami`) and TokenReview.
 */
import { ApiError, badRequest } from '../../api/errors.ts';
import type { UserInfo } from '../admission/chain.ts';
import type { TokenAuthenticator } from './auth.ts';
import type { Attributes, PolicyRule, RbacAuthorizer } from './rbac.ts';

type Body = Record<string, any>;

function attributesOf(spec: Body, user: UserInfo): Attributes {
  const ra = spec?.resourceAttributes;
  const nra = spec?.nonResourceAttributes;
  if (ra) {
    return {
      user,
      verb: ra.verb ?? '',
      isResource: true,
      apiGroup: ra.group ?? '',
      resource: ra.resource ?? '',
      subresource: ra.subresource ?? '',
      namespace: ra.namespace ?? '',
      name: ra.name ?? '',
    };
  }
  if (nra) return { user, verb: nra.verb ?? '', isResource: false, path: nra.path ?? '' };
  throw new ApiError('Invalid', 'spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified');
}

function review(body: Body, kind: string, user: UserInfo, rbac: RbacAuthorizer): Body {
  const allowed = rbac.allowed(attributesOf(body.spec, user));
  return {
    kind,
    apiVersion: 'authorization.k8s.io/v1',
    metadata: { creationTimestamp: null, ...(body.metadata?.namespace ? { namespace: body.metadata.namespace } : {}) },
    spec: body.spec,
    status: { allowed, ...(allowed ? {} : { reason: '' }) },
  };
}

function rulesReview(body: Body, user: UserInfo, rbac: RbacAuthorizer): Body {
  const ns = body.spec?.namespace;
  if (ns === undefined || ns === null) throw badRequest('no namespace on request');
  const rules: PolicyRule[] = rbac.rules(user, ns || undefined);
  const resourceRules = rules
    .filter((r) => !r.nonResourceURLs?.length)
    .map((r) => ({ verbs: r.verbs, apiGroups: r.apiGroups ?? [], resources: r.resources ?? [], ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}) }));
  const nonResourceRules = rules.filter((r) => r.nonResourceURLs?.length).map((r) => ({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs }));
  return {
    kind: 'SelfSubjectRulesReview',
    apiVersion: 'authorization.k8s.io/v1',
    metadata: { creationTimestamp: null },
    spec: body.spec,
    status: { resourceRules, nonResourceRules, incomplete: false },
  };
}

function userInfoOf(u: UserInfo): Body {
  return { username: u.username, ...(u.uid ? { uid: u.uid } : {}), groups: u.groups };
}

export interface ReviewContext {
  rbac: RbacAuthorizer;
  auth: TokenAuthenticator;
}

/** Answers POST /apis/{authorization,authentication}.k8s.io/v1/…reviews. undefined: not a review resource. */
export async function serveReview(ctx: ReviewContext, group: string, resource: string, namespace: string, body: Body, user: UserInfo): Promise<Body | undefined> {
  if (group === 'authorization.k8s.io') {
    switch (resource) {
      case 'selfsubjectaccessreviews':
        return review(body, 'SelfSubjectAccessReview', user, ctx.rbac);
      case 'selfsubjectrulesreviews':
        return rulesReview(body, user, ctx.rbac);
      case 'subjectaccessreviews':
      case 'localsubjectaccessreviews': {
        const s = body.spec ?? {};
        const subject: UserInfo = { username: s.user ?? '', groups: s.groups ?? [], ...(s.uid ? { uid: s.uid } : {}) };
        if (resource === 'localsubjectaccessreviews') {
          const ns = s.resourceAttributes?.namespace;
          if (ns !== namespace) throw new ApiError('BadRequest', `spec.resourceAttributes.namespace must match namespace: ${namespace}`);
        }
        return review(body, resource === 'subjectaccessreviews' ? 'SubjectAccessReview' : 'LocalSubjectAccessReview', subject, ctx.rbac);
      }
    }
  }
  if (group === 'authentication.k8s.io') {
    if (resource === 'selfsubjectreviews') {
      return { kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1', metadata: { creationTimestamp: null }, status: { userInfo: userInfoOf(user) } };
    }
    if (resource === 'tokenreviews') {
      let status: Body;
      try {
        const u = await ctx.auth.authenticate(`Bearer ${body.spec?.token ?? ''}`);
        status = { authenticated: true, user: userInfoOf(u), audiences: body.spec?.audiences ?? [] };
      } catch {
        status = { authenticated: false, error: 'invalid bearer token' };
      }
      return { kind: 'TokenReview', apiVersion: 'authentication.k8s.io/v1', metadata: { creationTimestamp: null }, spec: body.spec, status };
    }
  }
  return undefined;
}
