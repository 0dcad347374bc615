/**
 * The Node object of this agent, kept as the kubelet keeps it: registered with its labels
 * (kubernetes.io/hostname, os, arch + the configured ones) and taints; status with capacity and
 * allocatable, conditions (Ready, MemoryPressure, DiskPressure, PIDPressure with the kubelet's
 * reasons — Ready=False with the engine's error while Docker cannot be reached), addresses,
 * nodeInfo and the images the engine holds; written when it changes and at least every
 * `nodeStatusReportIntervalMs`. The heartbeat is a Lease in kube-node-lease renewed every
 * `leaseRenewIntervalMs` (the kubelet's NodeLease).
 */
import type * as k8s from 'kubernetes-types/core/v1.js';
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { freemem } from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import { isApiError } from '../api/errors.ts';
import type { ResourceList } from '../api/quantity.ts';
import type { KubeObject } from '../api/types.ts';
import type { Client } from '../client/client.ts';
import { log } from '../log.ts';
import type { ContainerRuntime, RuntimeVersion } from '../runtime/runtime.ts';
import type { ResolvedOptions } from './types.ts';
import { apiTime, errorMessage, microTime } from './util.ts';

export const KUBELET_VERSION = 'v1.30.0-wheelhouse';
const LEASE_NS = 'kube-node-lease';
const MAX_IMAGES = 50;
const MEMORY_AVAILABLE_MIN = 100 * 1024 * 1024;
const DISK_AVAILABLE_MIN_FRACTION = 0.1;

export interface NodeStatusConfig {
  client: Client;
  runtime: ContainerRuntime;
  nodeName: string;
  dataDir: string;
  capacity: ResourceList;
  allocatable: ResourceList;
  labels: Record<string, string>;
  taints: k8s.Taint[];
  opts: ResolvedOptions;
}

type CondType = 'MemoryPressure' | 'DiskPressure' | 'PIDPressure' | 'Ready';

export class NodeStatusReporter {
  hostIP = '127.0.0.1';
  private uid = '';
  private runtimeError: string | undefined;
  private version: RuntimeVersion | undefined;
  private images: k8s.ContainerImage[] = [];
  private lastWritten: k8s.NodeStatus | undefined;
  private lastReport = 0;
  private readonly transitions = new Map<CondType, { status: string; at: string }>();
  private lease: KubeObject | undefined;
  private timers: NodeJS.Timeout[] = [];
  private readonly bootID = readId('/proc/sys/kernel/random/boot_id') ?? randomUUID();
  private readonly machineID: string;
  private updating: Promise<void> | undefined;

  constructor(private readonly c: NodeStatusConfig) {
    this.machineID = createHash('sha256').update(`${readId('/etc/machine-id') ?? ''}/${c.nodeName}`).digest('hex').slice(0, 32);
  }

  /** Creates the Node (or brings its labels and taints up to date) and writes its first status. */
  async register(): Promise<void> {
    await this.probeRuntime();
    const { client, nodeName } = this.c;
    const arch = this.version?.arch ?? goArch(process.arch);
    const os = this.version?.os ?? 'linux';
    const labels = {
      'beta.kubernetes.io/arch': arch,
      'beta.kubernetes.io/os': os,
      'kubernetes.io/arch': arch,
      'kubernetes.io/hostname': nodeName,
      'kubernetes.io/os': os,
      ...this.c.labels,
    };
    for (let attempt = 0; ; attempt++) {
      try {
        const node = await client.get({ apiVersion: 'v1', kind: 'Node', name: nodeName });
        const next = structuredClone(node);
        next.metadata.labels = { ...(node.metadata.labels ?? {}), ...labels };
        const taints: k8s.Taint[] = [...(node.spec?.taints ?? [])];
        for (const t of this.c.taints) if (!taints.some((x) => x.key === t.key && x.effect === t.effect)) taints.push(t);
        next.spec = { ...(node.spec ?? {}), ...(taints.length ? { taints } : {}) };
        const saved = isDeepStrictEqual(next, node) ? node : await client.update(next);
        this.uid = saved.metadata.uid ?? '';
        break;
      } catch (err) {
        if (isApiError(err, 'Conflict') && attempt < 5) continue;
        if (!isApiError(err, 'NotFound')) throw err;
        const created = await client.create<KubeObject>({
          apiVersion: 'v1',
          kind: 'Node',
          metadata: { name: nodeName, labels },
          spec: this.c.taints.length ? { taints: this.c.taints } : {},
          status: this.status(),
        });
        this.uid = created.metadata.uid ?? '';
        break;
      }
    }
    await this.refreshImages();
    await this.update(true);
    await this.renewLease();
  }

  start(): void {
    const every = (ms: number, fn: () => Promise<unknown>) => {
      const t = setInterval(() => void fn().catch((err) => log.warn('node status work failed', { node: this.c.nodeName, error: errorMessage(err) })), ms);
      t.unref?.();
      this.timers.push(t);
    };
    every(this.c.opts.leaseRenewIntervalMs, () => this.renewLease());
    every(this.c.opts.nodeStatusUpdateIntervalMs, async () => {
      await this.probeRuntime();
      await this.update(false);
    });
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  /** The engine went away or came back: Ready follows at once. */
  setRuntimeAvailable(up: boolean, error?: string): void {
    const before = this.runtimeError;
    this.runtimeError = up ? undefined : (error ?? 'the container runtime cannot be reached');
    if (before !== this.runtimeError) void this.update(false).catch((err) => log.warn('node status update failed', { error: errorMessage(err) }));
  }

  get ready(): boolean {
    return this.runtimeError === undefined;
  }

  async refreshImages(): Promise<void> {
    try {
      const list = await this.c.runtime.listImages();
      this.images = list
        .sort((a, b) => b.size - a.size)
        .slice(0, MAX_IMAGES)
        .map((i) => ({ names: [...i.repoDigests, ...i.repoTags], sizeBytes: i.size }));
    } catch (err) {
      log.debug('listing images failed', { error: errorMessage(err) });
    }
  }

  /** Computes the status and writes it when it changed (or `force`, or the report interval passed). */
  update(force: boolean): Promise<void> {
    const run = async () => {
      const pressure = await pressures(this.c.dataDir);
      const status = this.status(pressure);
      const comparable = (s: k8s.NodeStatus | undefined) =>
        s && { ...s, conditions: s.conditions?.map(({ lastHeartbeatTime: _h, ...c }) => c) };
      const due = Date.now() - this.lastReport >= this.c.opts.nodeStatusReportIntervalMs;
      if (!force && !due && isDeepStrictEqual(comparable(status), comparable(this.lastWritten))) return;
      await this.c.client.updateStatus({ apiVersion: 'v1', kind: 'Node', metadata: { name: this.c.nodeName }, status });
      this.lastWritten = status;
      this.lastReport = Date.now();
    };
    const p = (this.updating ?? Promise.resolve()).then(run, run);
    this.updating = p.finally(() => {
      if (this.updating === p) this.updating = undefined;
    });
    return p;
  }

  async renewLease(): Promise<void> {
    const { client, nodeName } = this.c;
    const spec = { holderIdentity: nodeName, leaseDurationSeconds: this.c.opts.leaseDurationSeconds, renewTime: microTime(Date.now()) };
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        if (!this.lease) this.lease = await client.get({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace: LEASE_NS, name: nodeName });
        this.lease = await client.update({ ...this.lease, spec: { ...(this.lease.spec ?? {}), ...spec } });
        return;
      } catch (err) {
        this.lease = undefined;
        if (isApiError(err, 'Conflict')) continue;
        if (!isApiError(err, 'NotFound')) throw err;
        this.lease = await client.create({
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: {
            name: nodeName,
            namespace: LEASE_NS,
            ...(this.uid ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: this.uid }] } : {}),
          },
          spec,
        });
        return;
      }
    }
  }

  /** Deletes the Lease and the Node. */
  async remove(): Promise<void> {
    const del = async (ref: { apiVersion: string; kind: string; namespace?: string; name: string }) => {
      await this.c.client.delete(ref).catch((err) => {
        if (!isApiError(err, 'NotFound')) throw err;
      });
    };
    await del({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace: LEASE_NS, name: this.c.nodeName });
    await del({ apiVersion: 'v1', kind: 'Node', name: this.c.nodeName });
  }

  private async probeRuntime(): Promise<void> {
    try {
      this.version = await this.c.runtime.version();
      this.runtimeError = undefined;
    } catch (err) {
      this.runtimeError = errorMessage(err);
    }
  }

  private status(p: { memory: boolean; disk: boolean } = { memory: false, disk: false }): k8s.NodeStatus {
    const v = this.version;
    const now = apiTime(Date.now());
    const cond = (type: CondType, status: boolean, reason: string, message: string): k8s.NodeCondition => {
      const s = status ? 'True' : 'False';
      const prev = this.transitions.get(type);
      if (!prev || prev.status !== s) this.transitions.set(type, { status: s, at: now });
      return { type, status: s, lastHeartbeatTime: now, lastTransitionTime: this.transitions.get(type)!.at, reason, message };
    };
    const ready = this.runtimeError === undefined;
    return {
      capacity: { ...this.c.capacity },
      allocatable: { ...this.c.allocatable },
      conditions: [
        p.memory
          ? cond('MemoryPressure', true, 'KubeletHasInsufficientMemory', 'kubelet has insufficient memory available')
          : cond('MemoryPressure', false, 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
        p.disk
          ? cond('DiskPressure', true, 'KubeletHasDiskPressure', 'kubelet has disk pressure')
          : cond('DiskPressure', false, 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        cond('PIDPressure', false, 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        ready
          ? cond('Ready', true, 'KubeletReady', 'kubelet is posting ready status')
          : cond('Ready', false, 'KubeletNotReady', `container runtime is down: ${this.runtimeError}`),
      ],
      addresses: [
        { type: 'InternalIP', address: this.hostIP },
        { type: 'Hostname', address: this.c.nodeName },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: this.machineID,
        systemUUID: uuidOf(this.machineID),
        bootID: this.bootID,
        kernelVersion: v?.kernelVersion ?? '',
        osImage: v ? `Docker Engine ${v.runtimeVersion} (${v.os})` : '',
        containerRuntimeVersion: v ? `${v.runtimeName}://${v.runtimeVersion}` : '',
        kubeletVersion: KUBELET_VERSION,
        kubeProxyVersion: KUBELET_VERSION,
        operatingSystem: v?.os ?? 'linux',
        architecture: v?.arch ?? goArch(process.arch),
      },
      images: this.images,
    };
  }
}

async function pressures(dataDir: string): Promise<{ memory: boolean; disk: boolean }> {
  let disk = false;
  try {
    const s = await statfs(dataDir);
    disk = s.blocks > 0 && s.bavail / s.blocks < DISK_AVAILABLE_MIN_FRACTION;
  } catch {
    /* no data dir yet */
  }
  return { memory: freemem() < MEMORY_AVAILABLE_MIN, disk };
}

function readId(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

function uuidOf(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** Node's process.arch → Go's GOARCH. */
export function goArch(a: string): string {
  return ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' } as Record<string, string>)[a] ?? a;
}
