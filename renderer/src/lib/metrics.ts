/**
 * Metric subscriptions: the history at once, then each new sample pushed by the main process
 * (the renderer never polls). One listener for `metrics.samples`, routed by subscription id.
 */
import type { DesktopEvents, MetricsSeries, MetricsTarget } from '../../../core/desktop-api.ts';
import { api } from './api.ts';

type Listener = (s: DesktopEvents['metrics.samples']) => void;
const listeners = new Map<string, Listener>();
let wired = false;

export function subscribeMetrics(target: MetricsTarget, onSeries: (s: MetricsSeries) => void, onSample: Listener): () => void {
  if (!wired) {
    wired = true;
    api.on('metrics.samples', (s) => listeners.get(s.subscriptionId)?.(s));
  }
  let id: string | undefined;
  let closed = false;
  api
    .call('metrics.subscribe', { target })
    .then((r) => {
      if (closed) {
        void api.call('metrics.unsubscribe', { subscriptionId: r.subscriptionId }).catch(() => {});
        return;
      }
      id = r.subscriptionId;
      listeners.set(id, onSample);
      onSeries(r.series);
    })
    .catch(() => onSeries({ type: 'usage', points: [], intervalMs: 5000, windowMs: 900000 }));
  return () => {
    closed = true;
    if (id) {
      listeners.delete(id);
      void api.call('metrics.unsubscribe', { subscriptionId: id }).catch(() => {});
    }
  };
}
