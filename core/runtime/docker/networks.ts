/**
 * The pod network: one Docker bridge network per cluster (pods get their IP from it and reach
 * each other directly). `ensureNetwork` is idempotent and safe against concurrent callers in this
 * process; the engine's CheckDuplicate guards against other processes.
 */
import { LABEL, RuntimeConflictError, RuntimeNotFoundError, type Labels, type NetworkInfo, type ObjectFilter } from '../runtime.ts';
import type { Engine } from './engine.ts';
import { labelFilters } from './labels.ts';

interface DockerNetwork {
  Id: string;
  Name: string;
  Driver: string;
  IPAM?: { Config?: Array<{ Subnet?: string; Gateway?: string }> | null };
  Labels?: Labels | null;
}

const inflight = new WeakMap<Engine, Map<string, Promise<NetworkInfo>>>();

export function ensureNetwork(engine: Engine, name: string, labels: Labels): Promise<NetworkInfo> {
  let byName = inflight.get(engine);
  if (!byName) inflight.set(engine, (byName = new Map()));
  const pending = byName.get(name);
  if (pending) return pending;
  const p = doEnsure(engine, name, labels).finally(() => byName.delete(name));
  byName.set(name, p);
  return p;
}

async function doEnsure(engine: Engine, name: string, labels: Labels): Promise<NetworkInfo> {
  const existing = await inspect(engine, name);
  if (existing) return existing;
  try {
    await engine.call((d) =>
      d.createNetwork({
        Name: name,
        Driver: 'bridge',
        CheckDuplicate: true,
        Labels: { ...labels, [LABEL.type]: 'network' },
      }),
    );
  } catch (err) {
    // Lost a race with another process: fine if the network is there now.
    if (!(err instanceof RuntimeConflictError) && !/already exists/i.test((err as Error).message)) throw err;
  }
  const made = await inspect(engine, name);
  if (!made) throw new RuntimeNotFoundError('network', name, 'created but not found');
  return made;
}

async function inspect(engine: Engine, name: string): Promise<NetworkInfo | undefined> {
  try {
    const n = (await engine.call((d) => d.getNetwork(name).inspect(), { kind: 'network', ref: name })) as DockerNetwork;
    // Inspect also matches id prefixes; only an exact name counts.
    return n.Name === name ? toInfo(n) : undefined;
  } catch (err) {
    if (err instanceof RuntimeNotFoundError) return undefined;
    throw err;
  }
}

export async function removeNetwork(engine: Engine, name: string): Promise<void> {
  try {
    await engine.call((d) => d.getNetwork(name).remove(), { kind: 'network', ref: name, what: `removing network ${name}` });
  } catch (err) {
    if (err instanceof RuntimeNotFoundError) return;
    throw err;
  }
}

export async function listNetworks(engine: Engine, f: ObjectFilter = {}): Promise<NetworkInfo[]> {
  const list = (await engine.call((d) => d.listNetworks({ filters: { label: labelFilters(undefined, f) } }))) as unknown as DockerNetwork[];
  return list.map(toInfo);
}

function toInfo(n: DockerNetwork): NetworkInfo {
  const ipam = n.IPAM?.Config?.[0];
  return {
    id: n.Id,
    name: n.Name,
    driver: n.Driver,
    ...(ipam?.Subnet ? { subnet: ipam.Subnet } : {}),
    ...(ipam?.Gateway ? { gateway: ipam.Gateway } : {}),
    labels: n.Labels ?? {},
  };
}
