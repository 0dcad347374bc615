/** Small helpers the agent's parts share: Kubernetes-style names, times and durations. */
import { createHash } from 'node:crypto';
import type * as k8s from 'kubernetes-types/core/v1.js';
import type { KubeObject, Meta } from '../api/types.ts';

/** A Pod as the agent reads it (plain Kubernetes JSON). */
export interface Pod {
  apiVersion: string;
  kind: string;
  metadata: Meta;
  spec: k8s.PodSpec;
  status?: k8s.PodStatus;
}

export type ContainerKind = 'init' | 'regular';

export function asPod(obj: KubeObject): Pod {
  return obj as unknown as Pod;
}

export function asObject(pod: Pod): KubeObject {
  return pod as unknown as KubeObject;
}

/** `name_namespace(uid)`, the kubelet's format.Pod, used in its messages. */
export function podDesc(pod: Pod): string {
  return `${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`;
}

export function podKey(pod: Pod): string {
  return `${pod.metadata.namespace}/${pod.metadata.name}`;
}

/** `spec.containers{web}` / `spec.initContainers{init}`: an event's fieldPath for a container. */
export function fieldPathOf(kind: ContainerKind, name: string): string {
  return `${kind === 'init' ? 'spec.initContainers' : 'spec.containers'}{${name}}`;
}

/** metav1.Time: RFC 3339 at second precision. */
export function apiTime(d: Date | number): string {
  return new Date(d).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** metav1.MicroTime: RFC 3339 with microseconds. */
export function microTime(d: Date | number): string {
  return new Date(d).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** Go's time.Duration.String() for whole milliseconds: 200ms, 10s, 1m20s, 5m0s, 1h0m0s, 1.5s. */
export function goDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const sMs = ms % 60_000;
  const s = sMs % 1000 === 0 ? String(sMs / 1000) : (sMs / 1000).toFixed(3).replace(/0+$/, '');
  if (h) return `${h}h${m}m${s}s`;
  if (m) return `${m}m${s}s`;
  return `${s}s`;
}

/** Seconds with one decimal as the kubelet words pull durations: `1.234s`. */
export function seconds(ms: number): string {
  return goDuration(Math.max(0, Math.round(ms)));
}

export function errorMessage(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { engineMessage?: string; message?: string };
    return e.engineMessage || e.message || String(err);
  }
  return String(err);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Hash of a container's spec (the kubelet's HashContainer): a changed spec restarts the container. */
export function containerHash(c: k8s.Container): string {
  return createHash('sha256').update(stableJson(c)).digest('hex').slice(0, 16);
}

export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${stableJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Docker object names allow [a-zA-Z0-9][a-zA-Z0-9_.-]*. */
export function dockerSafe(s: string): string {
  return s.replace(/[^a-zA-Z0-9_.-]/g, '-');
}
