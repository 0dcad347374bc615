/**
 * One-shot container stats in the kubelet's terms. CPU usage needs two samples: the previous
 * sample of the same container (kept here, as cAdvisor does) when there is a recent one, else a
 * second one-shot sample shortly after the first. The engine samples each container once a second,
 * so that second answer arrives with the engine's next sample (≤ 1 s); `stream=false` without
 * one-shot would take 1-2 s.
 *
 * When the engine runs on this machine, the figures come from the container's cgroup files instead
 * (cgroup-stats.ts): the same numbers for a fraction of the cost.
 */
import type Docker from 'dockerode';
import type { ContainerStats, StatsOptions } from '../runtime.ts';
import { CgroupStats, type CgroupSample } from './cgroup-stats.ts';
import type { Engine } from './engine.ts';

interface Sample {
  /** ns since the epoch, from the engine's RFC 3339 `read` time. */
  readNs: bigint;
  cpuTotal: number;
}

const MAX_SAMPLE_AGE_NS = 120n * 1_000_000_000n;
/** A window shorter than this says little: take a fresh pair of samples instead. */
const MIN_WINDOW_NS = 200n * 1_000_000n;
const SECOND_SAMPLE_AFTER_MS = 250;

export class StatsSampler {
  private readonly last = new Map<string, Sample>();

  private readonly cgroups?: CgroupStats;

  constructor(private readonly engine: Engine, opts: { cgroupRoot?: string | false } = {}) {
    if (opts.cgroupRoot !== false) this.cgroups = new CgroupStats(opts.cgroupRoot);
  }

  async stats(id: string, opts: StatsOptions = {}): Promise<ContainerStats> {
    const fromFiles = await this.fromCgroup(id, !!opts.usageOnly);
    if (fromFiles) return fromFiles;
    const prev = this.last.get(id);
    let raw = await this.fetch(id);
    let cur = sampleOf(raw);
    let base: Sample | undefined;
    const window = prev ? cur.readNs - prev.readNs : 0n;
    if (prev && window >= MIN_WINDOW_NS && window <= MAX_SAMPLE_AGE_NS && cur.cpuTotal >= prev.cpuTotal) {
      base = prev;
    } else if (raw.precpu_stats?.cpu_usage?.total_usage && raw.preread && !raw.preread.startsWith('0001-')) {
      // An engine older than API 1.41 ignores one-shot and sends its own previous sample.
      base = { readNs: rfc3339Ns(raw.preread), cpuTotal: raw.precpu_stats.cpu_usage.total_usage };
    } else {
      await new Promise((r) => setTimeout(r, SECOND_SAMPLE_AFTER_MS));
      base = cur;
      raw = await this.fetch(id);
      cur = sampleOf(raw);
    }
    this.remember(id, cur);
    return toStats(raw, cur, base);
  }

  forget(id: string): void {
    this.last.delete(id);
    this.cgroups?.forget(id);
  }

  /** Closes the cgroup files held open. */
  close(): void {
    this.last.clear();
    this.cgroups?.close();
  }

  private async fromCgroup(id: string, usageOnly: boolean): Promise<ContainerStats | undefined> {
    if (!this.cgroups) return undefined;
    let cur = await this.cgroups.read(id, usageOnly);
    if (!cur) return undefined;
    const prev = this.last.get(id);
    const window = prev ? cur.readNs - prev.readNs : 0n;
    let base: Sample;
    if (prev && window >= MIN_WINDOW_NS && window <= MAX_SAMPLE_AGE_NS && cur.cpuTotalNs >= prev.cpuTotal) base = prev;
    else {
      await new Promise((r) => setTimeout(r, SECOND_SAMPLE_AFTER_MS));
      base = { readNs: cur.readNs, cpuTotal: cur.cpuTotalNs };
      const next = await this.cgroups.read(id, usageOnly);
      if (!next) return undefined;
      cur = next;
    }
    this.remember(id, { readNs: cur.readNs, cpuTotal: cur.cpuTotalNs });
    return cgroupStats(cur, base);
  }

  private remember(id: string, s: Sample): void {
    this.last.set(id, s);
    if (this.last.size > 10_000) this.last.delete(this.last.keys().next().value!);
  }

  private async fetch(id: string): Promise<Docker.ContainerStats> {
    return this.engine.call(
      (d) => d.getContainer(id).stats({ stream: false, 'one-shot': true } as { stream: false }),
      { kind: 'container', ref: id },
    );
  }
}

function sampleOf(raw: Docker.ContainerStats): Sample {
  return { readNs: rfc3339Ns(raw.read), cpuTotal: raw.cpu_stats?.cpu_usage?.total_usage ?? 0 };
}

export function toStats(raw: Docker.ContainerStats, cur: Sample, base: Sample | undefined): ContainerStats {
  let cpuNanoCores = 0;
  if (base) {
    const dt = Number(cur.readNs - base.readNs);
    const du = cur.cpuTotal - base.cpuTotal;
    if (dt > 0 && du >= 0) cpuNanoCores = Math.round((du / dt) * 1e9);
  }
  const mem = raw.memory_stats ?? ({} as Docker.MemoryStats);
  const st = (mem.stats ?? {}) as unknown as Record<string, number | undefined>;
  const usage = mem.usage ?? 0;
  // cgroup v1 reports total_inactive_file (hierarchical), v2 inactive_file.
  const inactiveFile = st.total_inactive_file ?? st.inactive_file ?? 0;
  const rss = st.total_rss ?? st.rss ?? st.anon;
  let network: ContainerStats['network'];
  if (raw.networks) {
    network = { rxBytes: 0, txBytes: 0 };
    for (const n of Object.values(raw.networks)) {
      network.rxBytes += n.rx_bytes ?? 0;
      network.txBytes += n.tx_bytes ?? 0;
    }
  }
  return {
    timestamp: new Date(Number(cur.readNs / 1_000_000n)),
    cpuUsageCoreNanoSeconds: cur.cpuTotal,
    cpuNanoCores,
    memoryUsageBytes: usage,
    memoryWorkingSetBytes: Math.max(0, usage - inactiveFile),
    ...(rss !== undefined ? { memoryRssBytes: rss } : {}),
    ...(network ? { network } : {}),
    ...(raw.pids_stats?.current !== undefined ? { pids: raw.pids_stats.current } : {}),
  };
}

function cgroupStats(cur: CgroupSample, base: Sample): ContainerStats {
  const dt = Number(cur.readNs - base.readNs);
  const du = cur.cpuTotalNs - base.cpuTotal;
  return {
    timestamp: new Date(Number(cur.readNs / 1_000_000n)),
    cpuUsageCoreNanoSeconds: cur.cpuTotalNs,
    cpuNanoCores: dt > 0 && du >= 0 ? Math.round((du / dt) * 1e9) : 0,
    memoryUsageBytes: cur.memoryUsageBytes,
    memoryWorkingSetBytes: Math.max(0, cur.memoryUsageBytes - cur.inactiveFileBytes),
    ...(cur.rssBytes !== undefined ? { memoryRssBytes: cur.rssBytes } : {}),
    ...(cur.pids !== undefined ? { pids: cur.pids } : {}),
    ...(cur.network ? { network: cur.network } : {}),
  };
}

/** RFC 3339 with up to nanoseconds → ns since the epoch (Date only keeps milliseconds). */
export function rfc3339Ns(s: string): bigint {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(s);
  if (!m) return BigInt(Date.parse(s) || 0) * 1_000_000n;
  const secondsMs = Date.parse(`${m[1]}${m[3]}`);
  const frac = (m[2] ?? '').padEnd(9, '0').slice(0, 9);
  return BigInt(secondsMs) * 1_000_000n + BigInt(frac);
}
