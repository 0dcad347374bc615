/** ConfigMap, Secret, PersistentVolumeClaim, PersistentVolume (create and update). */
import { Forbidden, Inv, NotSupported, Req, TooLong } from '../errors.ts';
import type { KubeObject } from '../types.ts';
import {
  arr, boolField, diffPaths, filled, has, immutable, isConfigMapKey, isDNS1123Subdomain, obj, oneOf, ReqD, same,
  validateLabelSelector, type Errs,
} from './common.ts';
import { quantityAt, validateResourceList } from './resources.ts';

const MAX_SIZE = 1024 * 1024;
const ACCESS_MODES = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];
const VOLUME_MODES = ['Block', 'Filesystem'];
const PV_SOURCES = [
  'awsElasticBlockStore', 'azureDisk', 'azureFile', 'cephfs', 'cinder', 'csi', 'fc', 'flexVolume', 'flocker', 'gcePersistentDisk',
  'glusterfs', 'hostPath', 'iscsi', 'local', 'nfs', 'photonPersistentDisk', 'portworxVolume', 'quobyte', 'rbd', 'scaleIO',
  'storageos', 'vsphereVolume',
];

/** Decoded size of a base64 string, or undefined when it is not valid base64 (Go's StdEncoding). */
function base64Size(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const s = v.replace(/[\r\n]/g, '');
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return undefined;
  return Buffer.from(s, 'base64').length;
}

function keyErrors(map: Record<string, any>, path: string): Errs {
  const errs: Errs = [];
  for (const k of Object.keys(map)) for (const m of isConfigMapKey(k)) errs.push(Inv(`${path}[${k}]`, k, m));
  return errs;
}

export function validateConfigMap(cm: KubeObject): Errs {
  const data = obj(cm.data) ?? {};
  const bin = obj(cm.binaryData) ?? {};
  const errs: Errs = [...keyErrors(data, 'data'), ...keyErrors(bin, 'binaryData'), ...boolField('immutable', cm.immutable)];
  let size = 0;
  for (const [k, v] of Object.entries(data)) {
    if (typeof v !== 'string') errs.push(Inv(`data[${k}]`, v, 'must be a string (quote it in YAML)'));
    else size += Buffer.byteLength(v);
    if (k in bin) errs.push(Inv(`data[${k}]`, k, 'duplicate of key present in binaryData'));
  }
  for (const [k, v] of Object.entries(bin)) {
    const n = base64Size(v);
    if (n === undefined) errs.push(Inv(`binaryData[${k}]`, '<binary data>', 'must be base64-encoded'));
    else size += n;
  }
  if (size > MAX_SIZE) errs.push(TooLong('data', MAX_SIZE));
  return errs;
}

const SECRET_REQUIRED_KEYS: Record<string, string[]> = {
  'kubernetes.io/dockercfg': ['.dockercfg'],
  'kubernetes.io/dockerconfigjson': ['.dockerconfigjson'],
  'kubernetes.io/ssh-auth': ['ssh-privatekey'],
  'kubernetes.io/tls': ['tls.crt', 'tls.key'],
};

export function validateSecret(secret: KubeObject): Errs {
  const data = obj(secret.data) ?? {};
  const stringData = obj(secret.stringData) ?? {};
  const errs: Errs = [...keyErrors(data, 'data'), ...keyErrors(stringData, 'stringData'), ...boolField('immutable', secret.immutable)];
  // Kubernetes reports keys, never values: a malformed field is named, its contents are not.
  for (const f of ['data', 'stringData']) {
    if (has(secret[f]) && !obj(secret[f])) errs.push(Inv(f, '<secret data>', 'must be a map of keys to values'));
  }
  let size = 0;
  for (const [k, v] of Object.entries(data)) {
    const n = base64Size(v);
    // Never echo a secret value.
    if (n === undefined) errs.push(Inv(`data[${k}]`, '<secret data>', 'must be base64-encoded (use `stringData` for plain text)'));
    else size += n;
  }
  for (const [k, v] of Object.entries(stringData)) {
    if (typeof v !== 'string') errs.push(Inv(`stringData[${k}]`, '<secret data>', 'must be a string (quote it in YAML)'));
    else size += Buffer.byteLength(v);
  }
  if (size > MAX_SIZE) errs.push(TooLong('data', MAX_SIZE));
  const keys = new Set([...Object.keys(data), ...Object.keys(stringData)]);
  const type = secret.type;
  if (has(type) && typeof type !== 'string') errs.push(Inv('type', type, 'must be a string'));
  else if (type === 'kubernetes.io/service-account-token') {
    if (!filled(secret.metadata?.annotations?.['kubernetes.io/service-account.name'])) {
      errs.push(Req('metadata.annotations[kubernetes.io/service-account.name]'));
    }
  } else if (type === 'kubernetes.io/basic-auth') {
    if (!keys.has('username') && !keys.has('password')) errs.push(Req('data[username]'), Req('data[password]'));
  } else if (typeof type === 'string' && Object.hasOwn(SECRET_REQUIRED_KEYS, type)) {
    for (const k of SECRET_REQUIRED_KEYS[type]!) if (!keys.has(k)) errs.push(Req(`data[${k}]`));
    if (type === 'kubernetes.io/dockerconfigjson' && typeof data['.dockerconfigjson'] === 'string' && base64Size(data['.dockerconfigjson']) !== undefined) {
      try {
        JSON.parse(Buffer.from(data['.dockerconfigjson'], 'base64').toString('utf8'));
      } catch {
        // Not the parser's message: V8's quotes the text it failed on, i.e. the credentials.
        errs.push(Inv('data[.dockerconfigjson]', '<secret contents redacted>', 'must be a valid JSON document (a Docker config.json)'));
      }
    }
  }
  return errs;
}

function immutableData(n: KubeObject, o: KubeObject, fields: string[]): Errs {
  if (o.immutable !== true) return [];
  const errs: Errs = [];
  if (n.immutable !== true) errs.push(Forbidden('immutable', 'field is immutable when `immutable` is set'));
  for (const f of fields) if (!same(n[f], o[f])) errs.push(Forbidden(f, 'field is immutable when `immutable` is set'));
  return errs;
}

export const validateConfigMapUpdate = (n: KubeObject, o: KubeObject): Errs => immutableData(n, o, ['data', 'binaryData']);

export function validateSecretUpdate(n: KubeObject, o: KubeObject): Errs {
  return [...immutable(n.type ?? 'Opaque', o.type ?? 'Opaque', 'type'), ...immutableData(n, o, ['data'])];
}

function accessModes(modes: unknown, path: string): Errs {
  const list = arr(modes);
  if (list.length === 0) return [ReqD(path, 'at least 1 access mode is required')];
  const errs: Errs = [];
  list.forEach((m) => {
    if (!ACCESS_MODES.includes(m)) errs.push(NotSupported(path, m, ACCESS_MODES));
  });
  if (list.includes('ReadWriteOncePod') && list.length > 1) errs.push(Forbidden(path, 'may not use ReadWriteOncePod with other access modes'));
  return errs;
}

function storageClassName(v: unknown, path: string): Errs {
  return filled(v) ? isDNS1123Subdomain(v).map((m) => Inv(path, v, m)) : [];
}

/** ValidatePersistentVolumeClaimSpec at `path`. */
export function validatePVCSpec(specIn: unknown, path: string): Errs {
  const spec = obj(specIn) ?? {};
  const errs: Errs = [...accessModes(spec.accessModes, `${path}.accessModes`)];
  const storagePath = `${path}.resources[storage]`;
  const storage = obj(obj(spec.resources)?.requests)?.storage;
  if (!has(storage)) errs.push(Req(storagePath));
  else {
    const q = quantityAt(storagePath, storage, errs);
    if (q && q.sign() <= 0) errs.push(Inv(storagePath, storage, 'must be greater than zero'));
  }
  validateResourceList(obj(spec.resources)?.limits, `${path}.resources.limits`, errs);
  errs.push(...oneOf(`${path}.volumeMode`, spec.volumeMode, VOLUME_MODES));
  errs.push(...storageClassName(spec.storageClassName, `${path}.storageClassName`));
  errs.push(...validateLabelSelector(spec.selector, `${path}.selector`));
  if (filled(spec.volumeName)) for (const m of isDNS1123Subdomain(spec.volumeName)) errs.push(Inv(`${path}.volumeName`, spec.volumeName, m));
  for (const f of ['dataSource', 'dataSourceRef']) {
    const ds = obj(spec[f]);
    if (!ds) continue;
    if (!filled(ds.name)) errs.push(Req(`${path}.${f}.name`));
    if (!filled(ds.kind)) errs.push(Req(`${path}.${f}.kind`));
  }
  return errs;
}

export const validatePVC = (pvc: KubeObject): Errs => validatePVCSpec(pvc.spec, 'spec');

export function validatePVCUpdate(n: KubeObject, o: KubeObject): Errs {
  const ns = structuredClone(obj(n.spec) ?? {});
  const os = structuredClone(obj(o.spec) ?? {});
  const errs: Errs = [];
  const newSize = obj(ns.resources?.requests)?.storage;
  const oldSize = obj(os.resources?.requests)?.storage;
  if (has(newSize) && has(oldSize)) {
    const scratch: Errs = [];
    const a = quantityAt('', newSize, scratch);
    const b = quantityAt('', oldSize, scratch);
    if (a && b && a.cmp(b) < 0) errs.push(Forbidden('spec.resources.requests.storage', 'field can not be less than previous value'));
  }
  // The PV controller binds a claim by setting volumeName; a class may be set retroactively.
  if (!filled(os.volumeName)) os.volumeName = ns.volumeName;
  if (!has(os.storageClassName)) os.storageClassName = ns.storageClassName;
  for (const s of [ns, os]) {
    if (obj(s.resources)) delete s.resources.requests;
    delete s.volumeAttributesClassName;
  }
  if (!same(ns, os)) {
    const changed = diffPaths(ns, os, 'spec');
    errs.push(Forbidden('spec', `spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims (changed: ${changed.join(', ')})`));
  }
  return errs;
}

export function validatePV(pv: KubeObject): Errs {
  const spec = obj(pv.spec) ?? {};
  const errs: Errs = [];
  const cap = obj(spec.capacity);
  if (!cap || Object.keys(cap).length === 0) errs.push(Req('spec.capacity'));
  else if (!('storage' in cap) || Object.keys(cap).length > 1) errs.push(NotSupported('spec.capacity', cap, ['storage']));
  else {
    const q = quantityAt('spec.capacity[storage]', cap.storage, errs);
    if (q && q.sign() <= 0) errs.push(Inv('spec.capacity[storage]', cap.storage, 'must be greater than zero'));
  }
  errs.push(...accessModes(spec.accessModes, 'spec.accessModes'));
  errs.push(...oneOf('spec.persistentVolumeReclaimPolicy', spec.persistentVolumeReclaimPolicy, ['Delete', 'Recycle', 'Retain']));
  errs.push(...oneOf('spec.volumeMode', spec.volumeMode, VOLUME_MODES));
  errs.push(...storageClassName(spec.storageClassName, 'spec.storageClassName'));
  const sources = PV_SOURCES.filter((s) => has(spec[s]));
  if (sources.length === 0) errs.push(ReqD('spec', 'must specify a volume type'));
  sources.slice(1).forEach((s) => errs.push(Forbidden(`spec.${s}`, 'may not specify more than 1 volume type')));
  if (has(spec.hostPath) && !filled(spec.hostPath.path)) errs.push(Req('spec.hostPath.path'));
  if (has(spec.local)) {
    if (!filled(spec.local.path)) errs.push(Req('spec.local.path'));
    if (!obj(spec.nodeAffinity)) errs.push(ReqD('spec.nodeAffinity', 'Local volume requires node affinity'));
  }
  if (has(spec.nfs)) {
    if (!filled(spec.nfs.server)) errs.push(Req('spec.nfs.server'));
    if (!filled(spec.nfs.path)) errs.push(Req('spec.nfs.path'));
  }
  if (has(spec.csi)) {
    if (!filled(spec.csi.driver)) errs.push(Req('spec.csi.driver'));
    if (!filled(spec.csi.volumeHandle)) errs.push(Req('spec.csi.volumeHandle'));
  }
  return errs;
}

export function validatePVUpdate(n: KubeObject, o: KubeObject): Errs {
  const ns = obj(n.spec) ?? {};
  const os = obj(o.spec) ?? {};
  const pick = (s: Record<string, any>) => Object.fromEntries(PV_SOURCES.filter((k) => has(s[k])).map((k) => [k, s[k]]));
  const errs: Errs = [...immutable(ns.volumeMode, os.volumeMode, 'spec.volumeMode')];
  if (!same(pick(ns), pick(os))) errs.push(Forbidden('spec.persistentvolumesource', 'spec.persistentvolumesource is immutable after creation'));
  if (has(os.nodeAffinity)) errs.push(...immutable(ns.nodeAffinity, os.nodeAffinity, 'spec.nodeAffinity'));
  return errs;
}
