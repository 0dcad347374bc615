/**
 * metrics.subscribe / unsubscribe / snapshot, and pull.progress. Usage comes from the node agents'
 * history rings (15 minutes at 10 s by default); a subscription returns the history at once and
 * then pushes each new sample (`metrics.samples`) — the renderer never polls. Pod and node series
 * are the agents' own; a workload's is the sum of its pods' (aligned on the sampling interval);
 * the cluster's is the sum of its nodes'. HPA series come from the host's HpaHistory.
 */
import type { UsageSample } from '../agent/metrics.ts';
import type { NodeAgent } from '../agent/node-agent.ts';
import type { KubeObject } from '../api/types.ts';
import { type DesktopEvents, type MetricsSeries, type MetricsTarget, type UsagePoint } from '../desktop-api.ts';
import type { HandlerMap } from './handler-types.ts';
import type { DesktopSession } from './host.ts';
import { toPullStates } from './pull-progress.ts';
import { podsOfWorkload } from './workload-pods.ts';

const DEFAULT_INTERVAL_MS = 10_000;
const DEFAULT_WINDOW_MS = 15 * 60_000;

const point = (s: UsageSample): UsagePoint => ({ t: s.timestamp, cpu: s.cpuNanoCores / 1e9, memory: s.memoryWorkingSetBytes });

function agentsOf(s: DesktopSession): NodeAgent[] {
  return [...s.cluster.agents.values()];
}

function intervalOf(s: DesktopSession): { intervalMs: number; windowMs: number } {
  const a = agentsOf(s)[0];
  return { intervalMs: a?.metrics.intervalMs ?? DEFAULT_INTERVAL_MS, windowMs: a?.metrics.windowMs ?? DEFAULT_WINDOW_MS };
}

/** Sums series on a common time grid (bucketed by the sampling interval). */
export function sumSeries(series: UsagePoint[][], intervalMs: number): UsagePoint[] {
  const buckets = new Map<number, UsagePoint>();
  for (const s of series) {
    for (const p of s) {
      const t = Math.round(p.t / intervalMs) * intervalMs;
      const b = buckets.get(t);
      if (b) {
        b.cpu += p.cpu;
        b.memory += p.memory;
      } else buckets.set(t, { t, cpu: p.cpu, memory: p.memory });
    }
  }
  return [...buckets.values()].sort((a, b) => a.t - b.t);
}

/** The freshest sampling time of any local agent (a new value means new samples exist). */
function lastSampleTime(s: DesktopSession): number {
  let t = 0;
  for (const a of s.cluster.agents.values()) t = Math.max(t, a.metrics.lastSampleAt());
  return t;
}

async function podSeries(s: DesktopSession, namespace: string, name: string): Promise<{ points: UsagePoint[]; containers: Record<string, UsagePoint[]> }> {
  const agent = await s.cluster.agentForPod(namespace, name);
  const u = agent?.metrics.podUsage(namespace, name);
  if (!agent || !u) return { points: [], containers: {} };
  const containers: Record<string, UsagePoint[]> = {};
  for (const c of u.containers) containers[c.name] = agent.metrics.containerHistory(namespace, name, c.name).map(point);
  return { points: u.history.map(point), containers };
}

async function workloadPods(s: DesktopSession, t: Extract<MetricsTarget, { type: 'workload' }>): Promise<KubeObject[]> {
  return podsOfWorkload(s.client, t.kind, t.namespace, t.name);
}

async function seriesOf(s: DesktopSession, t: MetricsTarget): Promise<MetricsSeries> {
  const { intervalMs, windowMs } = intervalOf(s);
  switch (t.type) {
    case 'pod': {
      const { points, containers } = await podSeries(s, t.namespace, t.name);
      return { type: 'usage', points, containers, intervalMs, windowMs };
    }
    case 'node': {
      const a = s.cluster.agents.get(t.name);
      return { type: 'usage', points: a ? a.metrics.nodeUsage().history.map(point) : [], intervalMs, windowMs };
    }
    case 'cluster': {
      const nodes: Record<string, UsagePoint> = {};
      const all: UsagePoint[][] = [];
      for (const [name, a] of s.cluster.agents) {
        const u = a.metrics.nodeUsage();
        all.push(u.history.map(point));
        if (u.history.length) nodes[name] = point(u.usage);
      }
      return { type: 'usage', points: sumSeries(all, intervalMs), nodes, intervalMs, windowMs };
    }
    case 'workload': {
      const pods = await workloadPods(s, t);
      const all = await Promise.all(pods.map(async (p) => (await podSeries(s, t.namespace, p.metadata.name!)).points));
      return { type: 'usage', points: sumSeries(all, intervalMs), intervalMs, windowMs };
    }
    case 'hpa': {
      await s.host.hpa.start();
      return { type: 'hpa', points: s.host.hpa.points(t.namespace, t.name), intervalMs: s.host.hpa.intervalMs, windowMs: s.host.hpa.windowMs };
    }
  }
}

/** The newest point of a target, for a push after new samples. */
async function latestOf(s: DesktopSession, t: MetricsTarget, since: number): Promise<Omit<DesktopEvents['metrics.samples'], 'subscriptionId'> | undefined> {
  const series = await seriesOf(s, t);
  if (series.type === 'hpa') {
    const p = series.points.at(-1);
    return p && p.t > since ? { hpa: p } : undefined;
  }
  const p = series.points.at(-1);
  if (!p || p.t <= since) return undefined;
  const containers = series.containers ? Object.fromEntries(Object.entries(series.containers).flatMap(([k, v]) => (v.length ? [[k, v.at(-1)!]] : []))) : undefined;
  return { usage: p, ...(containers ? { containers } : {}), ...(series.nodes ? { nodes: series.nodes } : {}) };
}

interface Subscription {
  target: MetricsTarget;
  last: number;
  busy: boolean;
}

const subs = new WeakMap<DesktopSession, { map: Map<string, Subscription>; timer?: NodeJS.Timeout; seen: number }>();

function ensureTicker(s: DesktopSession): { map: Map<string, Subscription>; timer?: NodeJS.Timeout; seen: number } {
  let st = subs.get(s);
  if (!st) subs.set(s, (st = { map: new Map(), seen: 0 }));
  if (!st.timer) {
    const state = st;
    state.timer = setInterval(() => {
      if (s.isClosed) {
        clearInterval(state.timer);
        return;
      }
      const newest = lastSampleTime(s);
      const hpaDue = [...state.map.values()].some((x) => x.target.type === 'hpa');
      if (newest <= state.seen && !hpaDue) return;
      state.seen = newest;
      for (const [id, sub] of state.map) {
        if (sub.busy) continue;
        sub.busy = true;
        void latestOf(s, sub.target, sub.last)
          .then((r) => {
            if (!r || !state.map.has(id)) return;
            sub.last = (r.usage ?? r.hpa)!.t;
            s.emit('metrics.samples', { subscriptionId: id, ...r });
          })
          .catch(() => {})
          .finally(() => {
            sub.busy = false;
          });
      }
    }, s.host.options.metricsTickMs ?? 1_000);
    state.timer.unref?.();
  }
  return st;
}

export const metricsHandlers: HandlerMap<'metrics.subscribe' | 'metrics.unsubscribe' | 'metrics.snapshot' | 'pull.progress'> = {
  async 'metrics.subscribe'(s, a) {
    const series = await seriesOf(s, a.target);
    const st = ensureTicker(s);
    const subscriptionId = s.track('metricSubscriptions', 'm', () => {
      st.map.delete(subscriptionId);
      if (!st.map.size && st.timer) {
        clearInterval(st.timer);
        st.timer = undefined;
      }
    });
    st.map.set(subscriptionId, { target: a.target, last: series.points.at(-1)?.t ?? 0, busy: false });
    return { subscriptionId, series };
  },

  async 'metrics.unsubscribe'(s, a) {
    s.release(a.subscriptionId, 'metricSubscriptions');
    return null;
  },

  async 'metrics.snapshot'(s) {
    const pods: Record<string, UsagePoint> = {};
    const nodes: Record<string, UsagePoint> = {};
    if (s.cluster.agents.size) {
      const list = await s.client.list<KubeObject>({ apiVersion: 'v1', kind: 'Pod' }, { fieldSelector: 'status.phase=Running' });
      for (const p of list.items) {
        const u = s.cluster.metrics.podUsage(p.metadata.namespace!, p.metadata.name!);
        if (u) pods[`${p.metadata.namespace}/${p.metadata.name}`] = { t: u.timestamp.getTime(), cpu: u.cpuNanoCores / 1e9, memory: u.memoryBytes };
      }
      for (const [name, a] of s.cluster.agents) nodes[name] = point(a.metrics.nodeUsage().usage);
    }
    return { t: Date.now(), pods, nodes };
  },

  async 'pull.progress'(s, a) {
    const agent = await s.cluster.agentForPod(a.namespace, a.pod);
    if (!agent) {
      await s.client.get({ apiVersion: 'v1', kind: 'Pod', namespace: a.namespace, name: a.pod }); // NotFound for a missing pod
      return [];
    }
    return toPullStates(agent.pullProgress(a.namespace, a.pod));
  },
};
