/** Kubernetes Events as rows: newest first, the involved object named. */
import type { KubeObject } from '../../../core/api/types.ts';

export interface EventRow {
  key: string;
  type: string;
  reason: string;
  message: string;
  object: string;
  kind: string;
  namespace: string;
  name: string;
  count: number;
  time: number;
}

const cache = new WeakMap<KubeObject, EventRow>();

export function eventRow(e: KubeObject): EventRow {
  let r = cache.get(e);
  if (r) return r;
  const io = (e.involvedObject ?? {}) as { kind?: string; namespace?: string; name?: string };
  const t = String(e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata.creationTimestamp ?? '');
  r = {
    key: `${e.metadata.namespace}/${e.metadata.name}`,
    type: String(e.type ?? 'Normal'),
    reason: String(e.reason ?? ''),
    message: String(e.message ?? ''),
    object: `${io.kind ?? ''} ${io.name ?? ''}`,
    kind: io.kind ?? '',
    namespace: io.namespace ?? '',
    name: io.name ?? '',
    count: Number(e.count ?? 1),
    time: t ? Date.parse(t) : 0,
  };
  cache.set(e, r);
  return r;
}
