/** NodeAgentOptions → the values the agent runs with: Kubernetes defaults unless said otherwise. */
import { availableParallelism, totalmem } from 'node:os';
import { parseQuantity, type ResourceList } from '../api/quantity.ts';
import { shmUsable } from './shm.ts';
import type { NodeAgentOptions, ResolvedOptions } from './types.ts';

export interface AgentSettings {
  resolved: ResolvedOptions;
  /** Declared capacity in canonical quantities (default: this machine's CPUs and memory, 110 pods). */
  capacity: ResourceList;
  allocatable: ResourceList;
}

export function resolveOptions(opts: NodeAgentOptions): AgentSettings {
  const capacity = canonical({ cpu: String(availableParallelism()), memory: `${Math.floor(totalmem() / 1024)}Ki`, pods: '110', ...(opts.capacity ?? {}) });
  const allocatable = canonical({ ...capacity, ...(opts.allocatable ?? {}) });
  const resync = opts.resyncIntervalMs ?? 10_000;
  const resolved: ResolvedOptions = {
    hostPortIP: opts.hostPortIP ?? '127.0.0.1',
    leaseDurationSeconds: opts.leaseDurationSeconds ?? 40,
    leaseRenewIntervalMs: opts.leaseRenewIntervalMs ?? 10_000,
    nodeStatusUpdateIntervalMs: opts.nodeStatusUpdateIntervalMs ?? 10_000,
    nodeStatusReportIntervalMs: opts.nodeStatusReportIntervalMs ?? 5 * 60_000,
    resyncIntervalMs: resync,
    resyncIdleIntervalMs: Math.max(opts.resyncIdleIntervalMs ?? 6 * resync, resync),
    fullResyncIntervalMs: opts.fullResyncIntervalMs ?? 5 * 60_000,
    secretsOnTmpfs: opts.secretsOnTmpfs ?? shmUsable(),
    clusterDNS: opts.clusterDNS ?? [],
    clusterDomain: opts.clusterDomain ?? 'cluster.local',
    volumeRetryMs: opts.volumeRetryMs ?? 1_000,
  };
  return { resolved, capacity, allocatable };
}

function canonical(list: ResourceList): ResourceList {
  const out: ResourceList = {};
  for (const [k, v] of Object.entries(list)) out[k] = parseQuantity(String(v)).toString();
  return out;
}
