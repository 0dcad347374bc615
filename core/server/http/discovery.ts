/**
 * API discovery, as kube-apiserver serves it:
 *
 *  - /api (APIVersions), /apis (APIGroupList), /apis/{group} (APIGroup), and
 *    /api/v1, /apis/{group}/{version} (APIResourceList) — the "legacy" documents;
 *  - the aggregated documents (apidiscovery.k8s.io v2 and v2beta1, `APIGroupDiscoveryList`) that
 *    kubectl ≥ 1.26 asks /api and /apis for first, saving one request per group version.
 *
 * The resources come from the kind registry plus the virtual ones this layer serves itself
 * (access reviews, token requests, metrics.k8s.io).
 */
import { KINDS } from '../../api/kinds.ts';

export interface SubresourceDef {
  name: string;
  kind: string;
  group: string;
  version: string;
  verbs: string[];
}

export interface ResourceDef {
  group: string;
  version: string;
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
  shortNames: string[];
  categories: string[];
  subresources: SubresourceDef[];
}

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function subresourceDef(group: string, version: string, kind: string, sub: string): SubresourceDef | undefined {
  const same = (verbs: string[]) => ({ name: sub, kind, group, version, verbs });
  switch (sub) {
    case 'status':
      return same(['get', 'patch', 'update']);
    case 'scale':
      return { name: sub, kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: ['get', 'patch', 'update'] };
    case 'log':
      return same(['get']);
    case 'exec':
    case 'attach':
    case 'portforward':
      return { name: sub, kind: sub === 'portforward' ? 'PodPortForwardOptions' : sub === 'exec' ? 'PodExecOptions' : 'PodAttachOptions', group, version, verbs: ['create', 'get'] };
    case 'eviction':
      return { name: sub, kind: 'Eviction', group: 'policy', version: 'v1', verbs: ['create'] };
    case 'binding':
      return { name: sub, kind: 'Binding', group, version, verbs: ['create'] };
    case 'token':
      return { name: sub, kind: 'TokenRequest', group: 'authentication.k8s.io', version: 'v1', verbs: ['create'] };
    case 'proxy':
      return undefined; // not served
    default:
      return undefined;
  }
}

function virtual(group: string, version: string, plural: string, kind: string, namespaced: boolean, verbs: string[]): ResourceDef {
  return { group, version, plural, singular: kind.toLowerCase(), kind, namespaced, verbs, shortNames: [], categories: [], subresources: [] };
}

let cached: ResourceDef[] | undefined;

/** Every resource served, in a stable order. */
export function servedResources(): ResourceDef[] {
  if (cached) return cached;
  const out: ResourceDef[] = KINDS.map((k) => ({
    group: k.group,
    version: k.version,
    plural: k.plural,
    singular: k.singular,
    kind: k.kind,
    namespaced: k.namespaced,
    verbs: ALL_VERBS,
    shortNames: k.shortNames,
    categories: k.categories,
    subresources: k.subresources.map((s) => subresourceDef(k.group, k.version, k.kind, s)).filter((s): s is SubresourceDef => !!s),
  }));
  const ns = out.find((r) => r.plural === 'namespaces');
  ns?.subresources.push({ name: 'finalize', kind: 'Namespace', group: '', version: 'v1', verbs: ['update'] });
  out.push(
    virtual('authorization.k8s.io', 'v1', 'selfsubjectaccessreviews', 'SelfSubjectAccessReview', false, ['create']),
    virtual('authorization.k8s.io', 'v1', 'selfsubjectrulesreviews', 'SelfSubjectRulesReview', false, ['create']),
    virtual('authorization.k8s.io', 'v1', 'subjectaccessreviews', 'SubjectAccessReview', false, ['create']),
    virtual('authorization.k8s.io', 'v1', 'localsubjectaccessreviews', 'LocalSubjectAccessReview', true, ['create']),
    virtual('authentication.k8s.io', 'v1', 'selfsubjectreviews', 'SelfSubjectReview', false, ['create']),
    virtual('authentication.k8s.io', 'v1', 'tokenreviews', 'TokenReview', false, ['create']),
    virtual('metrics.k8s.io', 'v1beta1', 'pods', 'PodMetrics', true, ['get', 'list']),
    virtual('metrics.k8s.io', 'v1beta1', 'nodes', 'NodeMetrics', false, ['get', 'list']),
  );
  cached = out;
  return out;
}

/** Group versions in discovery order: core first, then the groups as the registry lists them. */
export function groupVersions(): Array<{ group: string; version: string }> {
  const seen = new Set<string>();
  const out: Array<{ group: string; version: string }> = [];
  for (const r of servedResources()) {
    const key = `${r.group}/${r.version}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ group: r.group, version: r.version });
  }
  // policy/v1 (PodDisruptionBudgets, and the Eviction kind of pods/eviction): kubectl drain looks
  // for the group before it evicts.
  if (!seen.has('policy/v1')) out.push({ group: 'policy', version: 'v1' });
  return out;
}

export function resourcesOf(group: string, version: string): ResourceDef[] | undefined {
  if (!groupVersions().some((gv) => gv.group === group && gv.version === version)) return undefined;
  return servedResources().filter((r) => r.group === group && r.version === version);
}

export function findResource(group: string, version: string, plural: string): ResourceDef | undefined {
  return servedResources().find((r) => r.group === group && r.version === version && r.plural === plural);
}

const gvString = (group: string, version: string) => (group ? `${group}/${version}` : version);

export function apiVersions(serverAddress: string) {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function apiGroup(name: string) {
  const versions = groupVersions()
    .filter((gv) => gv.group === name)
    .map((gv) => ({ groupVersion: gvString(gv.group, gv.version), version: gv.version }));
  return { name, versions, preferredVersion: versions[0] };
}

export function apiGroupList() {
  const names = [...new Set(groupVersions().map((gv) => gv.group).filter(Boolean))];
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: names.map(apiGroup) };
}

export function apiGroupDoc(name: string) {
  if (!groupVersions().some((gv) => gv.group === name)) return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(name) };
}

export function apiResourceList(group: string, version: string) {
  const resources = resourcesOf(group, version);
  if (!resources) return undefined;
  const list: unknown[] = [];
  for (const r of resources) {
    list.push({
      name: r.plural,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: r.verbs,
      ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
      ...(r.categories.length ? { categories: r.categories } : {}),
    });
    for (const s of r.subresources) {
      list.push({
        name: `${r.plural}/${s.name}`,
        singularName: '',
        namespaced: r.namespaced,
        ...(s.group !== r.group || s.version !== r.version ? { group: s.group, version: s.version } : {}),
        kind: s.kind,
        verbs: s.verbs,
      });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: gvString(group, version), resources: list };
}

/** The aggregated discovery media types, newest first. */
const AGGREGATED = [
  { version: 'v2', type: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' },
  { version: 'v2beta1', type: 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList' },
];

/** Which aggregated format the Accept header asks for, if any. */
export function wantsAggregated(accept: string | undefined): { version: string; type: string } | undefined {
  if (!accept || !accept.includes('APIGroupDiscoveryList')) return undefined;
  const offered = accept.split(',').map((o) => {
    const params = new Map(o.split(';').slice(1).map((p) => p.trim().split('=') as [string, string]));
    return params.get('as') === 'APIGroupDiscoveryList' && params.get('g') === 'apidiscovery.k8s.io' ? params.get('v') : undefined;
  });
  return AGGREGATED.find((a) => offered.includes(a.version));
}

/** /api (core only) or /apis (every named group) as an APIGroupDiscoveryList. */
export function aggregatedDiscovery(prefix: 'api' | 'apis', version: string) {
  const groups = prefix === 'api' ? [''] : [...new Set(groupVersions().map((gv) => gv.group).filter(Boolean))];
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: `apidiscovery.k8s.io/${version}`,
    metadata: {},
    items: groups.map((g) => ({
      metadata: { name: g, creationTimestamp: null },
      versions: groupVersions()
        .filter((gv) => gv.group === g)
        .map((gv) => ({
          version: gv.version,
          resources: (resourcesOf(gv.group, gv.version) ?? []).map((r) => ({
            resource: r.plural,
            responseKind: { group: r.group, version: r.version, kind: r.kind },
            scope: r.namespaced ? 'Namespaced' : 'Cluster',
            singularResource: r.singular,
            verbs: r.verbs,
            ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
            ...(r.categories.length ? { categories: r.categories } : {}),
            ...(r.subresources.length
              ? {
                  subresources: r.subresources.map((s) => ({
                    subresource: s.name,
                    responseKind: { group: s.group, version: s.version, kind: s.kind },
                    verbs: s.verbs,
                  })),
                }
              : {}),
          })),
          freshness: 'Current',
        })),
    })),
  };
}
