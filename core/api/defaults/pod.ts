/**
 * Pod spec defaults (k8s.io/kubernetes/pkg/apis/core/v1/defaults.go): SetDefaults_PodSpec for every
 * pod spec, SetDefaults_Pod on top for Pods only (enableServiceLinks, requests from limits,
 * host-network ports) — Kubernetes keeps those out of templates, and so do we.
 */
import { def, defZero, isObj, items, type Obj } from './util.ts';

export interface PodSpecDefaults {
  /** A Pod, not a template: also SetDefaults_Pod. */
  pod?: boolean;
  /**
   * A Job's (or CronJob's) template: restartPolicy is left unset, so validation can ask for
   * OnFailure or Never (a deliberate choice: Kubernetes defaults Always, then rejects it).
   */
  job?: boolean;
}

/** Always for `:latest` or an untagged image, IfNotPresent for other tags and for digests. */
export function defaultPullPolicy(image: unknown): 'Always' | 'IfNotPresent' {
  if (typeof image !== 'string' || image === '') return 'IfNotPresent';
  let ref = image;
  let digest = '';
  const at = ref.indexOf('@');
  if (at >= 0) {
    digest = ref.slice(at + 1);
    ref = ref.slice(0, at);
  }
  const colon = ref.lastIndexOf(':');
  let tag = colon > ref.lastIndexOf('/') ? ref.slice(colon + 1) : '';
  if (!tag && !digest) tag = 'latest';
  return tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultHTTPGet(h: unknown): void {
  if (!isObj(h) || !isObj(h.httpGet)) return;
  defZero(h.httpGet, 'path', '/');
  defZero(h.httpGet, 'scheme', 'HTTP');
}

function defaultProbe(p: unknown): void {
  if (!isObj(p)) return;
  defZero(p, 'timeoutSeconds', 1);
  defZero(p, 'periodSeconds', 10);
  defZero(p, 'successThreshold', 1);
  defZero(p, 'failureThreshold', 3);
  defaultHTTPGet(p);
}

function defaultFieldRef(holder: unknown): void {
  if (isObj(holder) && isObj(holder.fieldRef)) defZero(holder.fieldRef, 'apiVersion', 'v1');
}

export function defaultContainer(c: Obj): void {
  defZero(c, 'imagePullPolicy', defaultPullPolicy(c.image));
  defZero(c, 'terminationMessagePath', '/dev/termination-log');
  defZero(c, 'terminationMessagePolicy', 'File');
  for (const p of items(c.ports)) defZero(p, 'protocol', 'TCP');
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) defaultProbe(c[probe]);
  if (isObj(c.lifecycle)) {
    defaultHTTPGet(c.lifecycle.postStart);
    defaultHTTPGet(c.lifecycle.preStop);
  }
  for (const e of items(c.env)) defaultFieldRef(e.valueFrom);
}

const MODE_0644 = 0o644;
const VOLUME_SOURCE_KEYS = [
  'awsElasticBlockStore', 'azureDisk', 'azureFile', 'cephfs', 'cinder', 'configMap', 'csi', 'downwardAPI', 'emptyDir',
  'ephemeral', 'fc', 'flexVolume', 'flocker', 'gcePersistentDisk', 'gitRepo', 'glusterfs', 'hostPath', 'image', 'iscsi',
  'nfs', 'persistentVolumeClaim', 'photonPersistentDisk', 'portworxVolume', 'projected', 'quobyte', 'rbd', 'scaleIO',
  'secret', 'storageos', 'vsphereVolume',
];

export function defaultVolume(v: Obj): void {
  // SetDefaults_Volume: a volume that names no source is an emptyDir.
  if (!VOLUME_SOURCE_KEYS.some((k) => v[k] !== undefined && v[k] !== null)) v.emptyDir = {};
  for (const k of ['secret', 'configMap', 'downwardAPI', 'projected']) if (isObj(v[k])) def(v[k], 'defaultMode', MODE_0644);
  if (isObj(v.hostPath)) def(v.hostPath, 'type', '');
  if (isObj(v.downwardAPI)) for (const it of items(v.downwardAPI.items)) defaultFieldRef(it);
  if (isObj(v.projected)) {
    for (const s of items(v.projected.sources)) {
      if (isObj(s.downwardAPI)) for (const it of items(s.downwardAPI.items)) defaultFieldRef(it);
      if (isObj(s.serviceAccountToken)) def(s.serviceAccountToken, 'expirationSeconds', 3600);
    }
  }
  const claim = isObj(v.ephemeral) && isObj(v.ephemeral.volumeClaimTemplate) ? v.ephemeral.volumeClaimTemplate : undefined;
  if (claim && isObj(claim.spec)) defZero(claim.spec, 'volumeMode', 'Filesystem');
}

/** Requests default to limits, per resource, when only limits are given (Pods only). */
function requestsFromLimits(c: Obj): void {
  const r = c.resources;
  if (!isObj(r) || !isObj(r.limits)) return;
  if (r.requests === undefined || r.requests === null) r.requests = {};
  if (!isObj(r.requests)) return;
  for (const [k, v] of Object.entries(r.limits)) if (!(k in r.requests)) r.requests[k] = v;
}

export function defaultPodSpec(spec: unknown, opts: PodSpecDefaults = {}): void {
  if (!isObj(spec)) return;
  defZero(spec, 'dnsPolicy', 'ClusterFirst');
  if (!opts.job) defZero(spec, 'restartPolicy', 'Always');
  def(spec, 'terminationGracePeriodSeconds', 30);
  def(spec, 'securityContext', {});
  defZero(spec, 'schedulerName', 'default-scheduler');
  for (const v of items(spec.volumes)) defaultVolume(v);
  const all = [...items(spec.initContainers), ...items(spec.containers), ...items(spec.ephemeralContainers)];
  for (const c of all) defaultContainer(c);
  if (!opts.pod) return;
  def(spec, 'enableServiceLinks', true);
  for (const c of [...items(spec.initContainers), ...items(spec.containers)]) {
    requestsFromLimits(c);
    if (spec.hostNetwork === true) for (const p of items(c.ports)) defZero(p, 'hostPort', p.containerPort);
  }
}

/** A pod template's spec (`spec.template`), if there is one. */
export function defaultTemplate(template: unknown, opts: PodSpecDefaults = {}): void {
  if (isObj(template)) defaultPodSpec(template.spec, opts);
}
