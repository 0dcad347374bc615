/**
 * The `io.wheelhouse.*` labels on Docker objects: written at creation, read back into typed
 * fields, and turned into the engine's `label=k=v` filters. Caller labels are stored as they are
 * (so `docker ps --filter label=app=web` works); annotations under `io.wheelhouse.annotation.`.
 */
import { LABEL, type Labels, type ObjectType, type PodRef } from '../runtime.ts';

export function podLabels(ref: PodRef): Labels {
  return {
    [LABEL.cluster]: ref.cluster,
    [LABEL.node]: ref.node,
    [LABEL.namespace]: ref.namespace,
    [LABEL.podName]: ref.podName,
    [LABEL.podUid]: ref.podUid,
  };
}

/** Caller labels + annotations + reserved labels (reserved ones win). */
export function objectLabels(type: ObjectType, userLabels: Labels, annotations: Labels, reserved: Labels): Labels {
  const out: Labels = {};
  for (const [k, v] of Object.entries(userLabels)) if (!k.startsWith(LABEL.reservedPrefix)) out[k] = v;
  for (const [k, v] of Object.entries(annotations)) out[LABEL.annotationPrefix + k] = v;
  Object.assign(out, reserved, { [LABEL.type]: type });
  return out;
}

export function podRefOf(labels: Labels): PodRef {
  return {
    cluster: labels[LABEL.cluster] ?? '',
    node: labels[LABEL.node] ?? '',
    namespace: labels[LABEL.namespace] ?? '',
    podName: labels[LABEL.podName] ?? '',
    podUid: labels[LABEL.podUid] ?? '',
  };
}

/** Splits an object's labels into the caller's labels and annotations (reserved keys dropped). */
export function userLabelsOf(labels: Labels | undefined | null): { labels: Labels; annotations: Labels } {
  const out = { labels: {} as Labels, annotations: {} as Labels };
  for (const [k, v] of Object.entries(labels ?? {})) {
    if (k.startsWith(LABEL.annotationPrefix)) out.annotations[k.slice(LABEL.annotationPrefix.length)] = v;
    else if (!k.startsWith(LABEL.reservedPrefix)) out.labels[k] = v;
  }
  return out;
}

export function intLabel(labels: Labels, key: string): number {
  const n = Number.parseInt(labels[key] ?? '', 10);
  return Number.isFinite(n) ? n : 0;
}

export interface ScopeFilter {
  cluster?: string;
  node?: string;
  namespace?: string;
  podName?: string;
  podUid?: string;
  labels?: Labels;
}

/** Docker `label` filter values (`k=v`) for a typed filter. */
export function labelFilters(type: ObjectType | undefined, f: ScopeFilter = {}, extra: Labels = {}): string[] {
  const want: Labels = { ...(f.labels ?? {}), ...extra };
  if (type) want[LABEL.type] = type;
  if (f.cluster !== undefined) want[LABEL.cluster] = f.cluster;
  if (f.node !== undefined) want[LABEL.node] = f.node;
  if (f.namespace !== undefined) want[LABEL.namespace] = f.namespace;
  if (f.podName !== undefined) want[LABEL.podName] = f.podName;
  if (f.podUid !== undefined) want[LABEL.podUid] = f.podUid;
  return Object.entries(want).map(([k, v]) => `${k}=${v}`);
}

/** Docker container names allow [a-zA-Z0-9][a-zA-Z0-9_.-]*; anything else becomes '-'. */
export function nameSegment(s: string): string {
  return s.replace(/[^a-zA-Z0-9_.-]/g, '-');
}

/** `wh_<cluster>_<node>_<namespace>_<pod>_<container|POD>_<uid>_<attempt>` — readable in `docker ps`. */
export function dockerName(ref: PodRef, container: string, attempt: number): string {
  return ['wh', ref.cluster, ref.node, ref.namespace, ref.podName, container, ref.podUid, String(attempt)]
    .map(nameSegment)
    .join('_');
}
