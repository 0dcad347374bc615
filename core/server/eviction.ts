/**
 * pods/eviction, as kube-apiserver's EvictionREST (pkg/registry/core/pod/storage/eviction.go):
 *
 *  - a pod that already caused its disruption (Succeeded, Failed, Pending, or being deleted) is
 *    deleted without looking at budgets (a Pending one with a resourceVersion precondition, so a
 *    pod that turns Ready meanwhile is not taken);
 *  - more than one matching PodDisruptionBudget → 500 "This pod has more than one
 *    PodDisruptionBudget, which the eviction subresource does not support.";
 *  - an unready pod is deleted without spending the budget when the budget says AlwaysAllow, or
 *    (IfHealthyBudget, the default) when the application is healthy (currentHealthy ≥
 *    desiredHealthy > 0) — with the pod's resourceVersion as precondition, a conflict being 429;
 *  - otherwise the budget must allow a disruption: status.disruptionsAllowed is decremented (and
 *    the pod recorded in status.disruptedPods, so the disruption controller does not count it
 *    while it terminates) with a status update pinned to the budget's resourceVersion, retried
 *    on conflict; no disruption left → 429 TooManyRequests, "Cannot evict pod as it would violate
 *    the pod's disruption budget." with a DisruptionBudget cause; then the pod is deleted with the
 *    Eviction's deleteOptions.
 *
 * dryRun runs every check and writes nothing. Budget status writes are the server's own (the
 * caller needs only `create` on pods/eviction, as in Kubernetes).
 *
 * Desktop choice: conflicts are retried 20 times 25 ms apart (Kubernetes: 500 ms apart) since the
 * store is in-process; a budget still conflicting after that answers 429 (kubectl retries those).
 */
import { ApiError, isApiError } from '../api/errors.ts';
import {
  budgetsForEviction, DISRUPTION_BUDGET_CAUSE, isPodReady, PDB, rfc3339, updateDisruptionAllowedCondition,
} from '../api/disruption-budget.ts';
import type { KubeObject } from '../api/types.ts';
import type { DeleteOptions } from '../client/client.ts';
import { SYSTEM_ADMIN, type UserInfo } from './admission/chain.ts';
import type { ApiServer } from './api-server.ts';

/** Evictions refused while this many approved evictions are not yet seen by the controller. */
export const MAX_DISRUPTED_POD_SIZE = 2000;
export const EVICTION_RETRIES = 20;
const RETRY_DELAY_MS = 25;

export const VIOLATES_BUDGET = "Cannot evict pod as it would violate the pod's disruption budget.";
export const MULTIPLE_BUDGETS = 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.';

const POD = { apiVersion: 'v1', kind: 'Pod' } as const;

export interface EvictOptions {
  /** The clock of disruptedPods entries and condition transitions (tests). */
  now?: () => Date;
}

/** Evicts pod `namespace/name` honouring its PodDisruptionBudget; throws the ApiError Kubernetes would answer. */
export async function evictPod(api: ApiServer, namespace: string, name: string, deleteOptions: DeleteOptions, user: UserInfo, opts: EvictOptions = {}): Promise<void> {
  const now = opts.now ?? (() => new Date());
  const ref = { ...POD, namespace, name };
  const original = deleteOptions;
  const rvUnset = !original.preconditions?.resourceVersion;

  let pod: KubeObject | undefined;
  let deleted = false;
  // A client's own resourceVersion precondition is never retried.
  await retry(rvUnset ? (e) => isApiError(e, 'Conflict') : () => false, async () => {
    pod = await api.get(ref);
    if (!canIgnoreBudget(pod)) return;
    const options = shouldEnforceResourceVersion(pod) && rvUnset ? pinned(original, pod.metadata.resourceVersion!) : original;
    await api.delete(ref, user, options);
    deleted = true;
  });
  if (deleted || !pod) return;

  const budgets = budgetsForEviction((await api.list(PDB, { namespace })).items, pod);
  if (budgets.length > 1) throw multipleBudgets();
  let budgetName = '';
  let pinPod = false;
  if (budgets.length === 1) {
    let pdb = budgets[0]!;
    budgetName = pdb.metadata.name!;
    if (!isPodReady(pod) && unhealthyPodMayGo(pdb)) {
      pinPod = true;
    } else {
      for (let attempt = 1; ; attempt++) {
        try {
          await checkAndDecrement(api, pod.metadata.name!, pdb, !!original.dryRun, now());
          break;
        } catch (e) {
          if (!isApiError(e, 'Conflict')) throw e;
          if (attempt >= EVICTION_RETRIES) throw tooManyRequests(budgetName);
          await sleep(RETRY_DELAY_MS);
          pdb = await api.get({ ...PDB, namespace, name: budgetName });
        }
      }
    }
  }

  try {
    await api.delete(ref, user, pinPod ? pinned(original, pod.metadata.resourceVersion!) : original);
  } catch (e) {
    // The pod changed (it may have turned Ready) since it was judged: let the client try again.
    if (isApiError(e, 'Conflict') && pinPod && rvUnset) throw tooManyRequests(budgetName);
    throw e;
  }
}

/** Terminal, not yet running, or already being deleted: the disruption has happened. */
function canIgnoreBudget(pod: KubeObject): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending' || !!pod.metadata.deletionTimestamp;
}

function shouldEnforceResourceVersion(pod: KubeObject): boolean {
  const phase = pod.status?.phase;
  return !(phase === 'Succeeded' || phase === 'Failed' || pod.metadata.deletionTimestamp);
}

/** An unready pod may go without spending the budget (unhealthyPodEvictionPolicy). */
function unhealthyPodMayGo(pdb: KubeObject): boolean {
  if (pdb.spec?.unhealthyPodEvictionPolicy === 'AlwaysAllow') return true;
  const s = pdb.status ?? {};
  const desired = s.desiredHealthy ?? 0;
  return (s.currentHealthy ?? 0) >= desired && desired > 0;
}

async function checkAndDecrement(api: ApiServer, podName: string, pdb: KubeObject, dryRun: boolean, now: Date): Promise<void> {
  const name = pdb.metadata.name!;
  const s = pdb.status ?? {};
  if ((s.observedGeneration ?? 0) < (pdb.metadata.generation ?? 0)) throw tooManyRequests(name);
  const allowed: number = s.disruptionsAllowed ?? 0;
  if (allowed < 0) throw forbidden(name, 'pdb disruptions allowed is negative');
  if (Object.keys(s.disruptedPods ?? {}).length > MAX_DISRUPTED_POD_SIZE) {
    throw forbidden(name, 'DisruptedPods map too big - too many evictions not confirmed by PDB controller');
  }
  if (allowed === 0) {
    throw new ApiError('TooManyRequests', VIOLATES_BUDGET, {
      causes: [{ reason: DISRUPTION_BUDGET_CAUSE, message: `The disruption budget ${name} needs ${s.desiredHealthy ?? 0} healthy pods and has ${s.currentHealthy ?? 0} currently` }],
    });
  }
  const next = structuredClone(pdb);
  const status = (next.status ??= {});
  status.disruptionsAllowed = allowed - 1;
  if (status.disruptionsAllowed === 0) updateDisruptionAllowedCondition(status, now);
  if (dryRun) return;
  // Tells the disruption controller this pod is about to go, so it is not counted as healthy.
  status.disruptedPods = { ...(status.disruptedPods ?? {}), [podName]: rfc3339(now) };
  await api.updateStatus(next, SYSTEM_ADMIN); // pinned to pdb's resourceVersion: Conflict when it moved
}

/** The budget is being recomputed (or kept conflicting): try again in a few seconds. */
function tooManyRequests(name: string): ApiError {
  return new ApiError('TooManyRequests', VIOLATES_BUDGET, {
    causes: [{ reason: DISRUPTION_BUDGET_CAUSE, message: `The disruption budget ${name} is still being processed by the server.` }],
    retryAfterSeconds: 10,
  });
}

function forbidden(name: string, why: string): ApiError {
  return new ApiError('Forbidden', `poddisruptionbudget.policy "${name}" is forbidden: ${why}`, { name, group: 'policy', kind: 'poddisruptionbudget' });
}

/** 500; kube-apiserver's Status for it carries no reason (the HTTP layer drops it, see serveEviction). */
function multipleBudgets(): ApiError {
  return new ApiError('InternalError', MULTIPLE_BUDGETS);
}

function pinned(o: DeleteOptions, resourceVersion: string): DeleteOptions {
  return { ...o, preconditions: { ...(o.preconditions ?? {}), resourceVersion } };
}

async function retry(retriable: (e: unknown) => boolean, fn: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!retriable(e) || attempt >= EVICTION_RETRIES) throw e;
      await sleep(RETRY_DELAY_MS);
    }
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
