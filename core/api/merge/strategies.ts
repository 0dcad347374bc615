/**
 * Patch strategies of the built-in kinds: which lists merge (by which key) instead of being
 * replaced, which primitive lists are sets, which maps are `retainKeys` (a union: setting one
 * member clears the others). Taken from the `patchStrategy` / `patchMergeKey` struct tags
 * (`x-kubernetes-patch-strategy` / `x-kubernetes-patch-merge-key` in the OpenAPI) of
 * k8s.io/api. Lists not in the table are atomic — replaced as a whole (tolerations, args,
 * command, envFrom, readinessGates, rules, subjects, taints …), as in Kubernetes.
 *
 * Deliberate difference: where Kubernetes' `listMapKeys` name more than the one
 * `patchMergeKey` (container and Service ports: port+protocol; topologySpreadConstraints:
 * topologyKey+whenUnsatisfiable), we match on all of them, with the API default for a missing
 * protocol. Kubernetes' strategic merge keys on `port` alone, which merges a Service's 53/TCP
 * and 53/UDP into one entry (kubernetes/kubernetes#39188); a patch naming only `port` still
 * matches, the protocol defaulting to TCP.
 */

export interface Strategy {
  /** A list of objects merged by these fields (all must match). */
  mergeKeys?: readonly string[];
  /** Values used for a missing merge-key field when matching (`protocol: TCP`). */
  keyDefaults?: Readonly<Record<string, unknown>>;
  /** A list of primitives merged as a set (`metadata.finalizers`). */
  set?: boolean;
  /** The map (or, for a list, each item) is a union: keys absent from the patch are cleared. */
  retainKeys?: boolean;
}

const byName: Strategy = { mergeKeys: ['name'] };
const byType: Strategy = { mergeKeys: ['type'] };
const TCP = { protocol: 'TCP' };

/**
 * THE table. Keys are path patterns: `Kind:path` (or `*:path` for every kind), with `[]` for
 * "each list item", `{meta}` for every ObjectMeta (the object's and its pod templates'),
 * `{pod}` for every PodSpec and `{container}` for each of a PodSpec's container lists.
 */
export const PATCH_STRATEGIES: Readonly<Record<string, Strategy>> = {
  // ObjectMeta
  '*:{meta}.finalizers': { set: true },
  '*:{meta}.ownerReferences': { mergeKeys: ['uid'] },
  // PodSpec
  '*:{pod}.volumes': { mergeKeys: ['name'], retainKeys: true },
  '*:{pod}.imagePullSecrets': byName,
  '*:{pod}.hostAliases': { mergeKeys: ['ip'] },
  '*:{pod}.topologySpreadConstraints': { mergeKeys: ['topologyKey', 'whenUnsatisfiable'] },
  '*:{pod}.schedulingGates': byName,
  '*:{pod}.resourceClaims': { mergeKeys: ['name'], retainKeys: true },
  '*:{pod}.{container}': byName,
  '*:{pod}.{container}[].ports': { mergeKeys: ['containerPort', 'protocol'], keyDefaults: TCP },
  '*:{pod}.{container}[].env': byName,
  '*:{pod}.{container}[].volumeMounts': { mergeKeys: ['mountPath'] },
  '*:{pod}.{container}[].volumeDevices': { mergeKeys: ['devicePath'] },
  // Status conditions (Pod, Node, Namespace, PVC, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, HPA …)
  '*:status.conditions': byType,
  'Pod:status.podIPs': { mergeKeys: ['ip'] },
  'Pod:status.hostIPs': { mergeKeys: ['ip'] },
  'Pod:status.resourceClaimStatuses': { mergeKeys: ['name'], retainKeys: true },
  'Node:spec.podCIDRs': { set: true },
  'Node:status.addresses': byType,
  'Service:spec.ports': { mergeKeys: ['port', 'protocol'], keyDefaults: TCP },
  'ServiceAccount:secrets': byName,
  'Deployment:spec.strategy': { retainKeys: true },
};

/** Where each kind keeps its pod template(s). */
const POD_TEMPLATES: Record<string, string[]> = {
  Pod: [''],
  Deployment: ['spec.template.'],
  ReplicaSet: ['spec.template.'],
  StatefulSet: ['spec.template.'],
  DaemonSet: ['spec.template.'],
  Job: ['spec.template.'],
  CronJob: ['spec.jobTemplate.spec.template.'],
};

const CONTAINER_LISTS = ['containers', 'initContainers', 'ephemeralContainers'];

function expand(kind: string, pattern: string): string[] {
  const templates = Object.hasOwn(POD_TEMPLATES, kind) ? POD_TEMPLATES[kind]! : [];
  let paths = [pattern];
  const sub = (token: string, values: string[]) => {
    paths = paths.flatMap((p) => (p.includes(token) ? values.map((v) => p.replace(token, v)) : [p]));
  };
  // Pod: `{meta}` is `metadata`, `{pod}` is `spec`. Others: `{meta}` is also `spec.template.metadata`.
  sub('{meta}', ['metadata', ...templates.filter((t) => t).map((t) => `${t}metadata`)]);
  sub('{pod}', templates.map((t) => `${t}spec`));
  sub('{container}', CONTAINER_LISTS);
  return paths;
}

const compiled = new Map<string, ReadonlyMap<string, Strategy>>();

/** The strategies of one kind, by concrete path (`spec.template.spec.containers[].env`). */
export function strategiesFor(kind: string): ReadonlyMap<string, Strategy> {
  let m = compiled.get(kind);
  if (!m) {
    const out = new Map<string, Strategy>();
    for (const [key, strategy] of Object.entries(PATCH_STRATEGIES)) {
      const colon = key.indexOf(':');
      const k = key.slice(0, colon);
      if (k !== '*' && k !== kind) continue;
      for (const path of expand(kind, key.slice(colon + 1))) out.set(path, strategy);
    }
    compiled.set(kind, (m = out));
  }
  return m;
}

/** `a.b` + `c` → `a.b.c`; list items are `a.b[]`. */
export function childPath(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}
