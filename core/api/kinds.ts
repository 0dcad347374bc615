/**
 * The kind registry: group, version, plural, scope. Every other layer (store keys, REST paths,
 * discovery, defaulting, validation, YAML import) looks kinds up here.
 */

export interface KindInfo {
  /** `Deployment` */
  kind: string;
  /** '' for the core group, else `apps`, `batch` … */
  group: string;
  version: string;
  /** `deployments` */
  plural: string;
  /** `deployment` */
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  /** Subresources the API serves, e.g. `status`, `scale`. */
  subresources: string[];
}

const ALL = ['all'];

function k(
  kind: string,
  group: string,
  version: string,
  plural: string,
  namespaced: boolean,
  shortNames: string[] = [],
  categories: string[] = [],
  subresources: string[] = [],
): KindInfo {
  return { kind, group, version, plural, singular: kind.toLowerCase(), namespaced, shortNames, categories, subresources };
}

export const KINDS: readonly KindInfo[] = [
  k('Namespace', '', 'v1', 'namespaces', false, ['ns'], [], ['status']),
  k('Node', '', 'v1', 'nodes', false, ['no'], [], ['status']),
  k('Pod', '', 'v1', 'pods', true, ['po'], ALL, ['status', 'log', 'exec', 'attach', 'portforward', 'eviction', 'binding']),
  k('Service', '', 'v1', 'services', true, ['svc'], ALL, ['status', 'proxy']),
  k('Endpoints', '', 'v1', 'endpoints', true, ['ep']),
  k('ConfigMap', '', 'v1', 'configmaps', true, ['cm']),
  k('Secret', '', 'v1', 'secrets', true),
  k('PersistentVolumeClaim', '', 'v1', 'persistentvolumeclaims', true, ['pvc'], [], ['status']),
  k('PersistentVolume', '', 'v1', 'persistentvolumes', false, ['pv'], [], ['status']),
  k('ServiceAccount', '', 'v1', 'serviceaccounts', true, ['sa'], [], ['token']),
  k('ResourceQuota', '', 'v1', 'resourcequotas', true, ['quota'], [], ['status']),
  k('LimitRange', '', 'v1', 'limitranges', true, ['limits']),
  k('Event', '', 'v1', 'events', true, ['ev']),
  k('ReplicaSet', 'apps', 'v1', 'replicasets', true, ['rs'], ALL, ['status', 'scale']),
  k('Deployment', 'apps', 'v1', 'deployments', true, ['deploy'], ALL, ['status', 'scale']),
  k('StatefulSet', 'apps', 'v1', 'statefulsets', true, ['sts'], ALL, ['status', 'scale']),
  k('DaemonSet', 'apps', 'v1', 'daemonsets', true, ['ds'], ALL, ['status']),
  k('ControllerRevision', 'apps', 'v1', 'controllerrevisions', true),
  k('Job', 'batch', 'v1', 'jobs', true, [], ALL, ['status']),
  k('CronJob', 'batch', 'v1', 'cronjobs', true, ['cj'], ALL, ['status']),
  k('HorizontalPodAutoscaler', 'autoscaling', 'v2', 'horizontalpodautoscalers', true, ['hpa'], ALL, ['status']),
  k('PodDisruptionBudget', 'policy', 'v1', 'poddisruptionbudgets', true, ['pdb'], [], ['status']),
  k('Role', 'rbac.authorization.k8s.io', 'v1', 'roles', true),
  k('RoleBinding', 'rbac.authorization.k8s.io', 'v1', 'rolebindings', true),
  k('ClusterRole', 'rbac.authorization.k8s.io', 'v1', 'clusterroles', false),
  k('ClusterRoleBinding', 'rbac.authorization.k8s.io', 'v1', 'clusterrolebindings', false),
  k('PriorityClass', 'scheduling.k8s.io', 'v1', 'priorityclasses', false, ['pc']),
  k('Lease', 'coordination.k8s.io', 'v1', 'leases', true),
];

/** Older apiVersions that users' YAML still carries and that convert losslessly enough to ours. */
const ALIASES: Record<string, string> = {
  'autoscaling/v1': 'autoscaling/v2',
  'events.k8s.io/v1': 'v1',
};

const byGVK = new Map<string, KindInfo>();
const byKind = new Map<string, KindInfo>();
const byResource = new Map<string, KindInfo>();
for (const info of KINDS) {
  byGVK.set(`${apiVersionOf(info)}/${info.kind}`, info);
  byKind.set(info.kind, info);
  byResource.set(`${info.group}/${info.plural}`, info);
}

export function apiVersionOf(info: Pick<KindInfo, 'group' | 'version'>): string {
  return info.group ? `${info.group}/${info.version}` : info.version;
}

/** The registry entry for `apiVersion` + `kind`, or undefined when not served. */
export function lookupKind(apiVersion: string, kind: string): KindInfo | undefined {
  return byGVK.get(`${apiVersion}/${kind}`) ?? byGVK.get(`${ALIASES[apiVersion] ?? ''}/${kind}`);
}

/** The entry for a kind name alone (each kind here is served in one version). */
export function kindByName(kind: string): KindInfo | undefined {
  return byKind.get(kind);
}

/** The entry for a REST resource, e.g. (`apps`, `deployments`). */
export function kindByResource(group: string, plural: string): KindInfo | undefined {
  return byResource.get(`${group}/${plural}`);
}

/** What kubectl accepts: plural, singular, short name or kind, any case. */
export function resolveResourceName(name: string): KindInfo | undefined {
  const n = name.toLowerCase();
  return KINDS.find((i) => i.plural === n || i.singular === n || i.shortNames.includes(n));
}

/** Why an apiVersion/kind pair is not served, for error messages. */
export function explainUnknownKind(apiVersion: string | undefined, kind: string | undefined): string {
  if (!kind) return 'the object has no "kind"';
  if (!apiVersion) return `${kind} has no "apiVersion"`;
  const known = byKind.get(kind);
  if (known) return `apiVersion "${apiVersion}" is not supported for kind ${kind} (use "${apiVersionOf(known)}")`;
  return `kind "${kind}" (apiVersion "${apiVersion}") is not supported by Wheelhouse`;
}

/**
 * Store key of an object: `/registry/<group>/<plural>/<namespace>/<name>`, cluster-scoped
 * objects without the namespace segment. Group '' is written `core`.
 */
export function storageKey(info: KindInfo, namespace: string | undefined, name: string): string {
  return `${storagePrefix(info, namespace)}${name}`;
}

/** Prefix for listing/watching one kind, optionally within a namespace. Ends with `/`. */
export function storagePrefix(info: KindInfo, namespace?: string): string {
  const base = `/registry/${info.group || 'core'}/${info.plural}/`;
  return info.namespaced && namespace ? `${base}${namespace}/` : base;
}
