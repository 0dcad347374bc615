/**
 * Named volumes (PersistentVolumeClaims): they outlive pods, so they are labelled with the
 * cluster and listed/removed by label like everything else.
 */
import { LABEL, RuntimeNotFoundError, type Labels, type ObjectFilter, type VolumeInfo } from '../runtime.ts';
import type { Engine } from './engine.ts';
import { labelFilters } from './labels.ts';

interface DockerVolume {
  Name: string;
  Driver: string;
  Mountpoint: string;
  CreatedAt?: string;
  Labels?: Labels | null;
}

/** Returns the volume, creating it with `labels` when missing (an existing one keeps its labels). */
export async function ensureVolume(engine: Engine, name: string, labels: Labels): Promise<VolumeInfo> {
  try {
    return toInfo(await engine.call((d) => d.getVolume(name).inspect(), { kind: 'volume', ref: name }));
  } catch (err) {
    if (!(err instanceof RuntimeNotFoundError)) throw err;
  }
  // Creating an existing volume is a no-op in Docker, so a concurrent creator is harmless.
  await engine.call((d) => d.createVolume({ Name: name, Driver: 'local', Labels: { ...labels, [LABEL.type]: 'volume' } }));
  return toInfo(await engine.call((d) => d.getVolume(name).inspect(), { kind: 'volume', ref: name }));
}

export async function removeVolume(engine: Engine, name: string): Promise<void> {
  try {
    await engine.call((d) => d.getVolume(name).remove(), { kind: 'volume', ref: name, what: `removing volume ${name}` });
  } catch (err) {
    if (err instanceof RuntimeNotFoundError) return;
    throw err;
  }
}

export async function listVolumes(engine: Engine, f: ObjectFilter = {}): Promise<VolumeInfo[]> {
  const res = await engine.call((d) => d.listVolumes({ filters: { label: labelFilters(undefined, f) } }));
  return ((res.Volumes ?? []) as unknown as DockerVolume[]).map(toInfo);
}

function toInfo(v: DockerVolume): VolumeInfo {
  return {
    name: v.Name,
    driver: v.Driver,
    mountpoint: v.Mountpoint,
    ...(v.CreatedAt ? { createdAt: new Date(v.CreatedAt) } : {}),
    labels: v.Labels ?? {},
  };
}
