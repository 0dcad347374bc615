/** Defaults for Services, config and storage, and cluster-level kinds. */
import { child, def, defZero, isObj, items, type Obj } from './util.ts';

export function defaultService(spec: Obj): void {
  defZero(spec, 'sessionAffinity', 'None');
  if (spec.sessionAffinity === 'ClientIP') {
    const cfg = child(spec, 'sessionAffinityConfig');
    const clientIP = cfg && child(cfg, 'clientIP');
    if (clientIP) def(clientIP, 'timeoutSeconds', 10800);
  }
  defZero(spec, 'type', 'ClusterIP');
  for (const p of items(spec.ports)) {
    defZero(p, 'protocol', 'TCP');
    if ((p.targetPort === undefined || p.targetPort === null || p.targetPort === 0 || p.targetPort === '') && p.port !== undefined) {
      p.targetPort = p.port;
    }
  }
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') defZero(spec, 'externalTrafficPolicy', 'Cluster');
  if (spec.type === 'LoadBalancer') def(spec, 'allocateLoadBalancerNodePorts', true);
  if (spec.type !== 'ExternalName') {
    defZero(spec, 'internalTrafficPolicy', 'Cluster');
    // A single-stack cluster: the family of the (requested) cluster IP, else IPv4.
    defZero(spec, 'ipFamilyPolicy', 'SingleStack');
    if (!Array.isArray(spec.ipFamilies) || spec.ipFamilies.length === 0) {
      spec.ipFamilies = [typeof spec.clusterIP === 'string' && spec.clusterIP.includes(':') ? 'IPv6' : 'IPv4'];
    }
  }
}

export function defaultEndpoints(ep: Obj): void {
  for (const s of items(ep.subsets)) for (const p of items(s.ports)) defZero(p, 'protocol', 'TCP');
}

/**
 * Secret: type Opaque; `stringData` is merged into `data` (base64) and dropped, as the API server's
 * conversion does, so that what is stored and validated is `data` alone.
 */
export function defaultSecret(secret: Obj): void {
  defZero(secret, 'type', 'Opaque');
  if (!isObj(secret.stringData)) return;
  const entries = Object.entries(secret.stringData);
  if (entries.some(([, v]) => typeof v !== 'string')) return; // left for validation to report
  if (secret.data === undefined || secret.data === null) secret.data = {};
  if (!isObj(secret.data)) return;
  for (const [k, v] of entries) secret.data[k] = Buffer.from(v as string, 'utf8').toString('base64');
  delete secret.stringData;
}

export function defaultPVCSpec(spec: Obj): void {
  defZero(spec, 'volumeMode', 'Filesystem');
}

export function defaultPV(spec: Obj): void {
  defZero(spec, 'persistentVolumeReclaimPolicy', 'Retain');
  defZero(spec, 'volumeMode', 'Filesystem');
  if (isObj(spec.hostPath)) def(spec.hostPath, 'type', '');
}

export function defaultNamespace(ns: Obj): void {
  const spec = child(ns, 'spec');
  if (spec && (spec.finalizers === undefined || spec.finalizers === null)) spec.finalizers = ['kubernetes'];
  const status = child(ns, 'status');
  if (status) defZero(status, 'phase', 'Active');
  // Every namespace carries its own name as a label (Kubernetes ≥ 1.21), so selectors can pick it.
  const name = ns.metadata?.name;
  if (typeof name === 'string' && name && isObj(ns.metadata)) {
    const labels = child(ns.metadata, 'labels');
    if (labels) labels['kubernetes.io/metadata.name'] = name;
  }
}

const SCALE_UP_DEFAULT = {
  stabilizationWindowSeconds: 0,
  selectPolicy: 'Max',
  policies: [
    { type: 'Pods', value: 4, periodSeconds: 15 },
    { type: 'Percent', value: 100, periodSeconds: 15 },
  ],
};
const SCALE_DOWN_DEFAULT = { selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] };

function scalingRules(given: unknown, defaults: Obj): Obj {
  const out: Obj = structuredClone(defaults);
  if (!isObj(given)) return out;
  for (const k of ['selectPolicy', 'stabilizationWindowSeconds', 'policies']) if (given[k] !== undefined && given[k] !== null) out[k] = given[k];
  for (const [k, v] of Object.entries(given)) if (!(k in out)) out[k] = v;
  return out;
}

export function defaultHPA(spec: Obj): void {
  def(spec, 'minReplicas', 1);
  if (!Array.isArray(spec.metrics) || spec.metrics.length === 0) {
    spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
  }
  // Only a behavior that is given gets its missing parts filled.
  if (isObj(spec.behavior)) {
    spec.behavior.scaleUp = scalingRules(spec.behavior.scaleUp, SCALE_UP_DEFAULT);
    spec.behavior.scaleDown = scalingRules(spec.behavior.scaleDown, SCALE_DOWN_DEFAULT);
  }
}

export function defaultPriorityClass(pc: Obj): void {
  defZero(pc, 'preemptionPolicy', 'PreemptLowerPriority');
}

/** Container limits: default ← max, defaultRequest ← default ← min (SetDefaults_LimitRangeItem). */
export function defaultLimitRange(spec: Obj): void {
  for (const item of items(spec.limits)) {
    if (item.type !== 'Container') continue;
    const fill = (field: string, from: unknown) => {
      if (!isObj(from)) return;
      if (item[field] === undefined || item[field] === null) item[field] = {};
      if (!isObj(item[field])) return;
      for (const [k, v] of Object.entries(from)) if (!(k in item[field])) item[field][k] = v;
    };
    fill('default', item.max);
    fill('defaultRequest', item.default);
    fill('defaultRequest', item.min);
    for (const f of ['default', 'defaultRequest']) if (isObj(item[f]) && Object.keys(item[f]).length === 0) delete item[f];
  }
}
