/**
 * Authorization by RBAC, as kube-apiserver's RBAC authorizer: a request is allowed when a
 * ClusterRoleBinding, or a RoleBinding in the request's namespace, binds the user (by name, group
 * or ServiceAccount) to a role with a rule that covers it. Rules match verbs, API groups,
 * resources (`pods`, `pods/log`, `*`, `*∕scale`), resourceNames, and nonResourceURLs (`/healthz`,
 * `/apis/*`). `system:masters` is allowed everything without looking (as in Kubernetes).
 *
 * The roles and bindings are kept in memory and followed by a watch, so an authorization costs
 * no store read.
 */
import { ApiError } from '../../api/errors.ts';
import type { KubeObject } from '../../api/types.ts';
import type { ApiServer } from '../api-server.ts';
import type { UserInfo } from '../admission/chain.ts';
import type { ServerWatch } from '../watch.ts';
import { log } from '../../log.ts';

export interface Attributes {
  user: UserInfo;
  verb: string;
  /** Resource requests. */
  isResource: boolean;
  apiGroup?: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** Non-resource requests. */
  path?: string;
}

export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

interface Binding {
  namespace?: string;
  roleRef: { kind: string; name: string };
  subjects: Array<{ kind: string; name: string; namespace?: string }>;
}

const RBAC = 'rbac.authorization.k8s.io/v1';
const KINDS = ['ClusterRole', 'Role', 'ClusterRoleBinding', 'RoleBinding'] as const;

export class RbacAuthorizer {
  private readonly clusterRoles = new Map<string, PolicyRule[]>();
  private readonly roles = new Map<string, PolicyRule[]>();
  private readonly clusterBindings = new Map<string, Binding>();
  /** namespace → name → binding */
  private readonly bindings = new Map<string, Map<string, Binding>>();
  private watches: ServerWatch[] = [];

  constructor(private readonly api: ApiServer) {}

  /** Loads every role and binding, then follows changes. */
  async start(): Promise<void> {
    for (const kind of KINDS) {
      const list = await this.api.list({ apiVersion: RBAC, kind });
      for (const obj of list.items) this.put(obj);
      const w = this.api.watch({ apiVersion: RBAC, kind }, { resourceVersion: list.metadata.resourceVersion }, (ev) => {
        if (ev.type === 'ADDED' || ev.type === 'MODIFIED') this.put(ev.object);
        else if (ev.type === 'DELETED') this.remove(ev.object);
        else if (ev.type === 'ERROR') {
          log.warn('rbac watch ended; reloading', { kind });
          void this.restart();
        }
      });
      this.watches.push(w);
    }
  }

  stop(): void {
    for (const w of this.watches) w.close();
    this.watches = [];
  }

  private async restart(): Promise<void> {
    this.stop();
    this.clusterRoles.clear();
    this.roles.clear();
    this.clusterBindings.clear();
    this.bindings.clear();
    await this.start();
  }

  private put(obj: KubeObject): void {
    const m = obj.metadata;
    switch (obj.kind) {
      case 'ClusterRole':
        this.clusterRoles.set(m.name!, (obj.rules as PolicyRule[]) ?? []);
        break;
      case 'Role':
        this.roles.set(`${m.namespace}/${m.name}`, (obj.rules as PolicyRule[]) ?? []);
        break;
      case 'ClusterRoleBinding':
        this.clusterBindings.set(m.name!, { roleRef: obj.roleRef as Binding['roleRef'], subjects: (obj.subjects as Binding['subjects']) ?? [] });
        break;
      case 'RoleBinding': {
        let byName = this.bindings.get(m.namespace!);
        if (!byName) this.bindings.set(m.namespace!, (byName = new Map()));
        byName.set(m.name!, { namespace: m.namespace, roleRef: obj.roleRef as Binding['roleRef'], subjects: (obj.subjects as Binding['subjects']) ?? [] });
        break;
      }
    }
  }

  private remove(obj: KubeObject): void {
    const m = obj.metadata;
    if (obj.kind === 'ClusterRole') this.clusterRoles.delete(m.name!);
    else if (obj.kind === 'Role') this.roles.delete(`${m.namespace}/${m.name}`);
    else if (obj.kind === 'ClusterRoleBinding') this.clusterBindings.delete(m.name!);
    else if (obj.kind === 'RoleBinding') this.bindings.get(m.namespace!)?.delete(m.name!);
  }

  /** Whether the request is allowed. */
  allowed(a: Attributes): boolean {
    if (a.user.groups.includes('system:masters')) return true;
    for (const rules of this.rulesFor(a.user, a.namespace)) {
      if (rules.some((r) => ruleAllows(r, a))) return true;
    }
    return false;
  }

  /** Throws 403 Forbidden, worded as Kubernetes words it, unless the request is allowed. */
  authorize(a: Attributes): void {
    if (!this.allowed(a)) throw forbidden(a);
  }

  /** Every rule that applies to the user in a namespace ('' : cluster-wide rules only). */
  rules(user: UserInfo, namespace: string | undefined): PolicyRule[] {
    if (user.groups.includes('system:masters')) {
      return [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, { verbs: ['*'], nonResourceURLs: ['*'] }];
    }
    return [...this.rulesFor(user, namespace)].flat();
  }

  private *rulesFor(user: UserInfo, namespace: string | undefined): Iterable<PolicyRule[]> {
    for (const b of this.clusterBindings.values()) {
      if (b.roleRef?.kind === 'ClusterRole' && b.subjects.some((s) => subjectMatches(s, user, undefined))) {
        yield this.clusterRoles.get(b.roleRef.name) ?? [];
      }
    }
    if (!namespace) return;
    for (const b of this.bindings.get(namespace)?.values() ?? []) {
      if (!b.subjects.some((s) => subjectMatches(s, user, namespace))) continue;
      if (b.roleRef?.kind === 'ClusterRole') yield this.clusterRoles.get(b.roleRef.name) ?? [];
      else if (b.roleRef?.kind === 'Role') yield this.roles.get(`${namespace}/${b.roleRef.name}`) ?? [];
    }
  }
}

function subjectMatches(s: { kind: string; name: string; namespace?: string }, user: UserInfo, bindingNs: string | undefined): boolean {
  switch (s.kind) {
    case 'User':
      return s.name === user.username;
    case 'Group':
      return user.groups.includes(s.name);
    case 'ServiceAccount': {
      const ns = s.namespace || bindingNs;
      return !!ns && user.username === `system:serviceaccount:${ns}:${s.name}`;
    }
    default:
      return false;
  }
}

export function ruleAllows(r: PolicyRule, a: Attributes): boolean {
  if (!r.verbs?.some((v) => v === '*' || v === a.verb)) return false;
  if (!a.isResource) {
    const path = a.path ?? '';
    return !!r.nonResourceURLs?.some((u) => u === '*' || u === path || (u.endsWith('*') && path.startsWith(u.slice(0, -1))));
  }
  if (!r.apiGroups?.some((g) => g === '*' || g === (a.apiGroup ?? ''))) return false;
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource!;
  const resOk = r.resources?.some((x) => x === '*' || x === combined || (!!a.subresource && x === `*/${a.subresource}`));
  if (!resOk) return false;
  if (r.resourceNames?.length) return !!a.name && r.resourceNames.includes(a.name);
  return true;
}

/**
 * `pods is forbidden: User "system:serviceaccount:dev:app" cannot list resource "pods" in API
 * group "" in the namespace "prod"` — kube-apiserver's wording.
 */
export function forbidden(a: Attributes): ApiError {
  const who = `User "${a.user.username}"`;
  if (!a.isResource) {
    return new ApiError('Forbidden', `forbidden: ${who} cannot ${a.verb} path "${a.path}"`);
  }
  const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource!;
  const where = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  const reason = `${who} cannot ${a.verb} resource "${res}" in API group "${a.apiGroup ?? ''}" ${where}`;
  const qualified = a.apiGroup ? `${a.resource}.${a.apiGroup}` : a.resource!;
  const subject = a.name ? `${qualified} "${a.name}"` : qualified;
  return new ApiError('Forbidden', `${subject} is forbidden: ${reason}`, {
    ...(a.name ? { name: a.name } : {}),
    group: a.apiGroup ?? '',
    kind: a.resource,
  });
}
