/**
 * Toasts for failures as they happen: a new Warning event (BackOff, Failed, FailedScheduling,
 * AutoRollback …) raises one toast per object and reason at most once every ten minutes.
 */
import type { KubeObject } from '../../../core/api/types.ts';
import { api } from './api.ts';
import { toast } from './ui.svelte.ts';

const TOAST_REASONS = new Set(['BackOff', 'Failed', 'FailedScheduling', 'AutoRollback', 'RolloutFailed', 'FailedCreate', 'Evicted', 'OOMKilling', 'ErrImageNeverPull', 'InspectFailed', 'FailedMount', 'ProgressDeadlineExceeded', 'Unhealthy']);

export function startWarnings(): void {
  const started = Date.now();
  const last = new Map<string, number>();
  api.on('watch.batch', ({ changes }) => {
    for (const c of changes) {
      for (const o of c.upserts as KubeObject[]) {
        if (o.kind !== 'Event' || o.type !== 'Warning' || !TOAST_REASONS.has(String(o.reason))) continue;
        const when = Date.parse(String(o.lastTimestamp ?? o.eventTime ?? o.metadata.creationTimestamp ?? ''));
        if (!(when >= started - 2000)) continue;
        const io = (o.involvedObject ?? {}) as { kind?: string; namespace?: string; name?: string };
        const key = `${io.kind}/${io.namespace}/${io.name}/${o.reason}`;
        const now = Date.now();
        if ((last.get(key) ?? 0) > now - 10 * 60_000) continue;
        last.set(key, now);
        toast('warning', `${io.kind} ${io.namespace ? `${io.namespace}/` : ''}${io.name}: ${o.reason}`, String(o.message ?? ''));
      }
    }
  });
}
