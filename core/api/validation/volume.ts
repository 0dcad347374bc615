/** Pod volumes: unique DNS-label names and exactly one well-formed source each. */
import { Dup, Forbidden, Inv, Req } from '../errors.ts';
import { arr, filled, has, inRange, isDNS1123Label, isDNS1123Subdomain, obj, oneOf, ReqD, type Errs } from './common.ts';
import { localDescendingPath } from './container.ts';
import { quantityAt } from './resources.ts';

/** Every volume source a Pod may use (core/v1 VolumeSource). */
export const VOLUME_SOURCES = [
  'awsElasticBlockStore', 'azureDisk', 'azureFile', 'cephfs', 'cinder', 'configMap', 'csi', 'downwardAPI', 'emptyDir',
  'ephemeral', 'fc', 'flexVolume', 'flocker', 'gcePersistentDisk', 'gitRepo', 'glusterfs', 'hostPath', 'image', 'iscsi',
  'nfs', 'persistentVolumeClaim', 'photonPersistentDisk', 'portworxVolume', 'projected', 'quobyte', 'rbd', 'scaleIO',
  'secret', 'storageos', 'vsphereVolume',
] as const;

const HOST_PATH_TYPES = ['', 'BlockDevice', 'CharDevice', 'Directory', 'DirectoryOrCreate', 'File', 'FileOrCreate', 'Socket'];
const MODE_MSG = 'must be a number between 0 and 0777 (octal), both inclusive';

/** ValidateVolumes. Returns the errors and the declared names (for volumeMounts). */
export function validateVolumes(volumes: unknown, path: string): { errs: Errs; names: Set<string> } {
  const errs: Errs = [];
  const names = new Set<string>();
  if (has(volumes) && !Array.isArray(volumes)) return { errs: [Inv(path, volumes, 'must be a list of volumes')], names };
  arr(volumes).forEach((v: any, i: number) => {
    const ip = `${path}[${i}]`;
    if (!obj(v)) return void errs.push(Inv(ip, v ?? null, 'must be a volume object'));
    errs.push(...validateVolumeSource(v, ip));
    if (!filled(v.name)) errs.push(Req(`${ip}.name`));
    else {
      for (const msg of isDNS1123Label(v.name)) errs.push(Inv(`${ip}.name`, v.name, msg));
      if (names.has(v.name)) errs.push(Dup(`${ip}.name`, v.name));
      names.add(v.name);
    }
  });
  return { errs, names };
}

function validateVolumeSource(v: Record<string, any>, path: string): Errs {
  const errs: Errs = [];
  const sources = VOLUME_SOURCES.filter((s) => has(v[s]));
  if (sources.length === 0) errs.push(ReqD(path, 'must specify a volume type'));
  sources.slice(1).forEach((s) => errs.push(Forbidden(`${path}.${s}`, 'may not specify more than 1 volume type')));
  for (const s of sources) {
    const src = obj(v[s]);
    const sp = `${path}.${s}`;
    if (!src) {
      errs.push(Inv(sp, v[s], 'must be an object'));
      continue;
    }
    switch (s) {
      case 'hostPath':
        if (!filled(src.path)) errs.push(Req(`${sp}.path`));
        else if (src.path.split('/').includes('..')) errs.push(Inv(`${sp}.path`, src.path, "must not contain '..'"));
        errs.push(...oneOf(`${sp}.type`, src.type, HOST_PATH_TYPES));
        break;
      case 'emptyDir':
        if (has(src.sizeLimit)) {
          const q = quantityAt(`${sp}.sizeLimit`, src.sizeLimit, errs);
          if (q && q.sign() < 0) errs.push(Inv(`${sp}.sizeLimit`, src.sizeLimit, 'must be greater than or equal to 0'));
        }
        break;
      case 'secret':
        if (!filled(src.secretName)) errs.push(Req(`${sp}.secretName`));
        else for (const msg of isDNS1123Subdomain(src.secretName)) errs.push(Inv(`${sp}.secretName`, src.secretName, msg));
        errs.push(...inRange(`${sp}.defaultMode`, src.defaultMode, 0, 0o777, MODE_MSG));
        errs.push(...keyToPaths(src.items, `${sp}.items`));
        break;
      case 'configMap':
        if (!filled(src.name)) errs.push(Req(`${sp}.name`));
        else for (const msg of isDNS1123Subdomain(src.name)) errs.push(Inv(`${sp}.name`, src.name, msg));
        errs.push(...inRange(`${sp}.defaultMode`, src.defaultMode, 0, 0o777, MODE_MSG));
        errs.push(...keyToPaths(src.items, `${sp}.items`));
        break;
      case 'persistentVolumeClaim':
        if (!filled(src.claimName)) errs.push(Req(`${sp}.claimName`));
        break;
      case 'downwardAPI':
        errs.push(...inRange(`${sp}.defaultMode`, src.defaultMode, 0, 0o777, MODE_MSG));
        arr(src.items).forEach((it: any, j: number) => {
          const ip = `${sp}.items[${j}]`;
          if (!filled(it?.path)) errs.push(Req(`${ip}.path`));
          else errs.push(...localDescendingPath(it.path, `${ip}.path`));
          const n = ['fieldRef', 'resourceFieldRef'].filter((f) => has(it?.[f])).length;
          if (n === 0) errs.push(ReqD(ip, 'one of `fieldRef` or `resourceFieldRef` is required'));
          if (n === 2) errs.push(Inv(ip, 'fieldRef', 'fieldRef and resourceFieldRef can not be specified simultaneously'));
        });
        break;
      case 'projected':
        errs.push(...inRange(`${sp}.defaultMode`, src.defaultMode, 0, 0o777, MODE_MSG));
        arr(src.sources).forEach((ps: any, j: number) => {
          const kinds = ['secret', 'configMap', 'downwardAPI', 'serviceAccountToken', 'clusterTrustBundle'].filter((k) => has(ps?.[k]));
          if (kinds.length === 0) errs.push(ReqD(`${sp}.sources[${j}]`, 'must specify exactly 1 of secret, configMap, downwardAPI, serviceAccountToken'));
          kinds.slice(1).forEach((k) => errs.push(Forbidden(`${sp}.sources[${j}].${k}`, 'may not specify more than 1 volume type per source')));
          for (const k of ['secret', 'configMap']) if (has(ps?.[k])) errs.push(...keyToPaths(ps[k].items, `${sp}.sources[${j}].${k}.items`));
          if (has(ps?.serviceAccountToken) && !filled(ps.serviceAccountToken.path)) errs.push(Req(`${sp}.sources[${j}].serviceAccountToken.path`));
        });
        break;
      case 'nfs':
        if (!filled(src.server)) errs.push(Req(`${sp}.server`));
        if (!filled(src.path)) errs.push(Req(`${sp}.path`));
        else if (!src.path.startsWith('/')) errs.push(Inv(`${sp}.path`, src.path, 'must be an absolute path'));
        break;
      case 'csi':
        if (!filled(src.driver)) errs.push(Req(`${sp}.driver`));
        break;
      case 'image':
        if (!filled(src.reference)) errs.push(Req(`${sp}.reference`));
        break;
      case 'ephemeral':
        if (!obj(src.volumeClaimTemplate)) errs.push(Req(`${sp}.volumeClaimTemplate`));
        break;
      default:
        break;
    }
  }
  return errs;
}

/** Items of a secret/configMap volume: key and a relative path, optional mode. */
function keyToPaths(items: unknown, path: string): Errs {
  const errs: Errs = [];
  arr(items).forEach((it: any, i: number) => {
    const ip = `${path}[${i}]`;
    if (!filled(it?.key)) errs.push(Req(`${ip}.key`));
    if (!filled(it?.path)) errs.push(Req(`${ip}.path`));
    else errs.push(...localDescendingPath(it.path, `${ip}.path`));
    errs.push(...inRange(`${ip}.mode`, it?.mode, 0, 0o777, MODE_MSG));
  });
  return errs;
}
