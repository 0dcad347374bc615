/**
 * nodes.drain, as `kubectl drain`: cordon, then evict (the pods/eviction subresource, so
 * PodDisruptionBudgets are honoured) every pod on the node except DaemonSet pods (their controller
 * would put them right back), mirror pods and, unless `force`, pods no controller manages (they
 * would be lost) — those are reported as skipped, with the reason.
 *
 * The evictions run side by side. One refused by a budget (429 TooManyRequests) is retried with
 * a short backoff (250 ms doubling to 2 s; kubectl waits 5 s) until `timeoutSeconds` (default
 * 30 s) has passed; pods still refused then are reported as blocked, with the budget's name and
 * Kubernetes' message. Other errors skip the pod with their message; a pod already gone is fine.
 */
import { isApiError } from '../api/errors.ts';
import type { KubeObject } from '../api/types.ts';
import type { Client } from '../client/client.ts';
import type { DrainArgs, DrainResult } from '../desktop-api.ts';
import { retryOnConflict } from './retry.ts';

export const DEFAULT_DRAIN_TIMEOUT_SECONDS = 30;
const FIRST_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 2_000;

type Outcome = { evicted: string } | { skipped: { pod: string; reason: string } } | { blocked: { pod: string; budget: string; reason: string } } | undefined;

export async function drainNode(client: Client, a: DrainArgs, fieldManager: string): Promise<DrainResult> {
  await retryOnConflict(() => client.patch({ apiVersion: 'v1', kind: 'Node', name: a.name }, 'merge', { spec: { unschedulable: true } }, { fieldManager }));
  const pods = await client.list<KubeObject>({ apiVersion: 'v1', kind: 'Pod' }, { fieldSelector: `spec.nodeName=${a.name}` });
  const deadline = Date.now() + (a.timeoutSeconds ?? DEFAULT_DRAIN_TIMEOUT_SECONDS) * 1000;
  const outcomes = await Promise.all(
    pods.items.map(async (p): Promise<Outcome> => {
      const key = `${p.metadata.namespace}/${p.metadata.name}`;
      if (p.metadata.deletionTimestamp) return undefined;
      const owner = p.metadata.ownerReferences?.find((o) => o.controller);
      if (owner?.kind === 'DaemonSet') return { skipped: { pod: key, reason: 'DaemonSet-managed (its controller runs it on every eligible node)' } };
      if (p.metadata.annotations?.['kubernetes.io/config.mirror']) return { skipped: { pod: key, reason: 'mirror pod' } };
      const finished = p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
      if (!owner && !finished && !a.force) {
        return { skipped: { pod: key, reason: 'not managed by a controller: it would be lost (drain with force to delete it)' } };
      }
      return evictUntil(client, p, key, a.gracePeriodSeconds, deadline);
    }),
  );
  const result: DrainResult = { evicted: [], skipped: [], blocked: [] };
  for (const o of outcomes) {
    if (!o) continue;
    if ('evicted' in o) result.evicted.push(o.evicted);
    else if ('skipped' in o) result.skipped.push(o.skipped);
    else result.blocked.push(o.blocked);
  }
  return result;
}

async function evictUntil(client: Client, p: KubeObject, key: string, gracePeriodSeconds: number | undefined, deadline: number): Promise<Outcome> {
  let backoff = FIRST_BACKOFF_MS;
  for (;;) {
    try {
      await client.evict(
        { namespace: p.metadata.namespace!, name: p.metadata.name! },
        gracePeriodSeconds !== undefined ? { gracePeriodSeconds } : {},
      );
      return { evicted: key };
    } catch (e) {
      if (isApiError(e, 'NotFound')) return undefined;
      if (!isApiError(e, 'TooManyRequests')) return { skipped: { pod: key, reason: (e as Error).message } };
      if (Date.now() + backoff > deadline) {
        const cause = e.causes.find((c) => c.reason === 'DisruptionBudget')?.message ?? '';
        const budget = /^The disruption budget (\S+) /.exec(cause)?.[1] ?? '';
        return { blocked: { pod: key, budget, reason: cause ? `${e.message} ${cause}` : e.message } };
      }
      await new Promise((r) => setTimeout(r, backoff));
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
  }
}
