/**
 * Pod volumes on the node, set up before any container starts (the kubelet's volume manager):
 *
 * - emptyDir: a folder under `<dataDir>/pods/<uid>/volumes/kubernetes.io~empty-dir/`. With
 *   `medium: Memory` it is a tmpfs: the container's own tmpfs mount (size-limited by `sizeLimit`)
 *   when one container uses it, else a shared folder on the host's /dev/shm (a tmpfs too; the
 *   size limit is then not enforced — Docker cannot share one tmpfs mount between containers).
 * - configMap, secret, downwardAPI, projected: files written with the kubelet's atomic `..data`
 *   swap, refreshed on every sync (so a changed ConfigMap shows up in the running container).
 *   Secret (and projected) files go to a host folder under /dev/shm when `secretsOnTmpfs`: they
 *   are never written to disk, and the folder is bind-mounted like any other, so updates still
 *   work and every container of the pod sees the same files.
 * - hostPath: bind mount, with the type checks (DirectoryOrCreate, File …).
 * - persistentVolumeClaim: a Docker named volume per claim (namespace/name/uid), labelled with the
 *   cluster; it outlives the pod. The claim must exist, else FailedMount.
 */
import type * as k8s from 'kubernetes-types/core/v1.js';
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join, normalize } from 'node:path';
import { parseQuantity } from '../api/quantity.ts';
import { LABEL, type Mount } from '../runtime/runtime.ts';
import { writeAtomic, type FileProjection } from './atomic-writer.ts';
import { ConfigError } from './container-config.ts';
import { sourceData } from './config-sources.ts';
import { fieldRefValue, resourceFieldValue, type PodAddresses } from './downward.ts';
import type { AgentContext } from './types.ts';
import { dockerSafe, type Pod } from './util.ts';

/** A volume could not be set up: the message of the FailedMount event. */
export class VolumeError extends Error {}

type Source = { hostPath: string } | { volumeName: string } | { tmpfs: { sizeBytes?: number } };
interface Prepared {
  source: Source;
  readOnly: boolean;
  /** hostPath-backed: subPath mounts join onto it. */
  dir?: string;
}

export interface PreparedVolumes {
  mountsFor(c: k8s.Container): Promise<Mount[]>;
}

export class VolumeManager {
  constructor(private readonly ctx: AgentContext) {}

  podDir(uid: string): string {
    return join(this.ctx.dataDir, 'pods', uid);
  }

  private shmDir(uid: string): string {
    return join('/dev/shm/wheelhouse', dockerSafe(this.ctx.cluster), dockerSafe(this.ctx.nodeName), uid);
  }

  async setup(pod: Pod, addr: PodAddresses): Promise<PreparedVolumes> {
    const uid = pod.metadata.uid!;
    const prepared = new Map<string, Prepared>();
    for (const v of pod.spec.volumes ?? []) prepared.set(v.name, await this.prepare(pod, v, addr, uid));
    return { mountsFor: (c) => this.mountsFor(c, prepared) };
  }

  async cleanup(uid: string): Promise<void> {
    await rm(this.podDir(uid), { recursive: true, force: true });
    await rm(this.shmDir(uid), { recursive: true, force: true });
  }

  /** Removes the folders of pods that are not `known` (deleted while the agent was away). */
  async cleanupOrphans(isKnown: (uid: string) => boolean): Promise<void> {
    for (const base of [join(this.ctx.dataDir, 'pods'), join('/dev/shm/wheelhouse', dockerSafe(this.ctx.cluster), dockerSafe(this.ctx.nodeName))]) {
      const entries = await readdir(base).catch(() => [] as string[]);
      for (const uid of entries) if (!isKnown(uid)) await rm(join(base, uid), { recursive: true, force: true });
    }
  }

  private async prepare(pod: Pod, v: k8s.Volume, addr: PodAddresses, uid: string): Promise<Prepared> {
    const ns = pod.metadata.namespace ?? 'default';
    const dir = (plugin: string, onShm = false) =>
      join(onShm && this.ctx.opts.secretsOnTmpfs ? this.shmDir(uid) : this.podDir(uid), 'volumes', `kubernetes.io~${plugin}`, v.name);
    const fail = (msg: string): never => {
      throw new VolumeError(`MountVolume.SetUp failed for volume "${v.name}" : ${msg}`);
    };
    if (v.emptyDir) {
      if (v.emptyDir.medium === 'Memory') {
        const users = [...(pod.spec.initContainers ?? []), ...pod.spec.containers].filter((c) => c.volumeMounts?.some((m) => m.name === v.name));
        if (users.length <= 1 && !users.some((c) => c.volumeMounts!.some((m) => m.name === v.name && m.subPath))) {
          const size = v.emptyDir.sizeLimit !== undefined ? Number(parseQuantity(String(v.emptyDir.sizeLimit)).value()) : undefined;
          return { source: { tmpfs: size ? { sizeBytes: size } : {} }, readOnly: false };
        }
        const d = dir('empty-dir', true);
        await mkdir(d, { recursive: true, mode: 0o777 });
        return { source: { hostPath: d }, readOnly: false, dir: d };
      }
      const d = dir('empty-dir');
      await mkdir(d, { recursive: true, mode: 0o777 });
      return { source: { hostPath: d }, readOnly: false, dir: d };
    }
    if (v.hostPath) {
      await checkHostPath(v.hostPath.path, v.hostPath.type ?? '').catch((e: Error) => fail(e.message));
      return { source: { hostPath: v.hostPath.path }, readOnly: false, dir: v.hostPath.path };
    }
    if (v.configMap || v.secret || v.downwardAPI || v.projected) {
      const onShm = !!(v.secret || v.projected);
      const d = dir(v.configMap ? 'configmap' : v.secret ? 'secret' : v.downwardAPI ? 'downward-api' : 'projected', onShm);
      const payload = new Map<string, FileProjection>();
      try {
        if (v.configMap) this.project(payload, ns, 'ConfigMap', v.configMap.name ?? '', v.configMap.items, v.configMap.defaultMode, v.configMap.optional);
        else if (v.secret) this.project(payload, ns, 'Secret', v.secret.secretName ?? '', v.secret.items, v.secret.defaultMode, v.secret.optional);
        else if (v.downwardAPI) this.downward(payload, pod, v.downwardAPI.items ?? [], v.downwardAPI.defaultMode, addr);
        else {
          for (const s of v.projected!.sources ?? []) {
            const mode = v.projected!.defaultMode;
            if (s.configMap) this.project(payload, ns, 'ConfigMap', s.configMap.name ?? '', s.configMap.items, mode, s.configMap.optional);
            if (s.secret) this.project(payload, ns, 'Secret', s.secret.name ?? '', s.secret.items, mode, s.secret.optional);
            if (s.downwardAPI) this.downward(payload, pod, s.downwardAPI.items ?? [], mode, addr);
          }
        }
        await writeAtomic(d, payload);
      } catch (e) {
        fail((e as Error).message);
      }
      return { source: { hostPath: d }, readOnly: true, dir: d };
    }
    if (v.persistentVolumeClaim) {
      const claim = v.persistentVolumeClaim.claimName;
      const pvc = this.ctx.sources.pvc(ns, claim);
      const why = !pvc
        ? `failed to fetch PVC from API server: persistentvolumeclaims "${claim}" not found`
        : pvc.metadata.deletionTimestamp
          ? 'PVC is being deleted'
          : undefined;
      if (why) {
        throw new VolumeError(
          `Unable to attach or mount volumes: unmounted volumes=[${v.name}], unattached volumes=[], failed to process volumes=[${v.name}]: error processing PVC ${ns}/${claim}: ${why}`,
        );
      }
      const name = pvcVolumeName(this.ctx.cluster, ns, claim, pvc!.metadata.uid ?? '');
      const info = await this.ctx.runtime.ensureVolume(name, {
        [LABEL.cluster]: this.ctx.cluster,
        'io.wheelhouse.pvc.namespace': ns,
        'io.wheelhouse.pvc.name': claim,
        'io.wheelhouse.pvc.uid': pvc!.metadata.uid ?? '',
      });
      return { source: { volumeName: name }, readOnly: v.persistentVolumeClaim.readOnly === true, dir: info.mountpoint };
    }
    const type = Object.keys(v).find((k) => k !== 'name') ?? 'unknown';
    return fail(`volume type ${type} is not supported by Wheelhouse`);
  }

  private project(
    payload: Map<string, FileProjection>,
    ns: string,
    kind: 'ConfigMap' | 'Secret',
    name: string,
    items: k8s.KeyToPath[] | undefined,
    defaultMode: number | undefined,
    optional: boolean | undefined,
  ): void {
    const obj = kind === 'ConfigMap' ? this.ctx.sources.configMap(ns, name) : this.ctx.sources.secret(ns, name);
    const label = kind === 'ConfigMap' ? 'configmap' : 'secret';
    if (!obj) {
      if (optional) return;
      throw new Error(`${label} "${name}" not found`);
    }
    const data = sourceData(obj, kind);
    const mode = defaultMode ?? 0o644;
    if (!items?.length) {
      for (const [k, b] of data) payload.set(k, { data: b, mode });
      return;
    }
    for (const it of items) {
      const b = data.get(it.key);
      if (!b) {
        if (optional) continue;
        throw new Error(`${label} references non-existent ${kind === 'ConfigMap' ? 'config' : 'secret'} key: ${it.key}`);
      }
      payload.set(normalize(it.path), { data: b, mode: it.mode ?? mode });
    }
  }

  private downward(payload: Map<string, FileProjection>, pod: Pod, items: k8s.DownwardAPIVolumeFile[], defaultMode: number | undefined, addr: PodAddresses): void {
    for (const it of items) {
      let value = '';
      if (it.fieldRef) value = fieldRefValue(pod, it.fieldRef.fieldPath, addr);
      else if (it.resourceFieldRef) value = resourceFieldValue(pod, it.resourceFieldRef, undefined, this.ctx.allocatable());
      payload.set(normalize(it.path), { data: Buffer.from(value), mode: it.mode ?? defaultMode ?? 0o644 });
    }
  }

  private async mountsFor(c: k8s.Container, prepared: Map<string, Prepared>): Promise<Mount[]> {
    const out: Mount[] = [];
    for (const m of c.volumeMounts ?? []) {
      const p = prepared.get(m.name);
      if (!p) throw new ConfigError(`cannot find volume "${m.name}" to mount into container "${c.name}"`);
      const readOnly = (m.readOnly ?? false) || p.readOnly;
      if (m.subPath) {
        if (!p.dir) throw new ConfigError(`subPath is not supported for volume "${m.name}" of container "${c.name}"`);
        const sub = normalize(m.subPath);
        if (sub.startsWith('..') || sub.startsWith('/')) throw new ConfigError(`invalid subPath "${m.subPath}" for volume "${m.name}"`);
        const path = join(p.dir, sub);
        if (!('hostPath' in p.source) || !p.readOnly) await mkdir(path, { recursive: true, mode: 0o777 }).catch(() => {});
        out.push({ containerPath: m.mountPath, readOnly, hostPath: path });
        continue;
      }
      out.push({ containerPath: m.mountPath, readOnly, ...p.source });
    }
    return out;
  }
}

/** The Docker volume of a claim: readable, unique per claim object (a re-created claim gets a new one). */
export function pvcVolumeName(cluster: string, namespace: string, claim: string, uid: string): string {
  return dockerSafe(`wh-${cluster}-pvc-${namespace}-${claim}-${uid.slice(0, 8)}`);
}

async function checkHostPath(path: string, type: string): Promise<void> {
  const st = await stat(path).catch(() => undefined);
  switch (type) {
    case '':
      return;
    case 'DirectoryOrCreate':
      if (!st) await mkdir(path, { recursive: true, mode: 0o755 });
      else if (!st.isDirectory()) throw new Error(`hostPath type check failed: ${path} is not a directory`);
      return;
    case 'Directory':
      if (!st?.isDirectory()) throw new Error(`hostPath type check failed: ${path} is not a directory`);
      return;
    case 'FileOrCreate':
      if (!st) await writeFile(path, '', { mode: 0o644 });
      else if (!st.isFile()) throw new Error(`hostPath type check failed: ${path} is not a file`);
      return;
    case 'File':
      if (!st?.isFile()) throw new Error(`hostPath type check failed: ${path} is not a file`);
      return;
    case 'Socket':
      if (!st?.isSocket()) throw new Error(`hostPath type check failed: ${path} is not a socket file`);
      return;
    case 'CharDevice':
      if (!st?.isCharacterDevice()) throw new Error(`hostPath type check failed: ${path} is not a character device`);
      return;
    case 'BlockDevice':
      if (!st?.isBlockDevice()) throw new Error(`hostPath type check failed: ${path} is not a block device`);
      return;
    default:
      throw new Error(`hostPath type check failed: unknown type ${type}`);
  }
}
