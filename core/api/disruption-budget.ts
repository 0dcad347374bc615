/**
 * PodDisruptionBudget helpers shared by the disruption controller and the eviction subresource,
 * as k8s.io/component-helpers/apps/poddisruptionbudget and the policy API constants.
 */
import { labelSelectorFromObject, type Selector } from './selectors.ts';
import type { KubeObject } from './types.ts';

export const PDB = { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' } as const;

/** status.conditions[].type of a budget. */
export const DISRUPTION_ALLOWED_CONDITION = 'DisruptionAllowed';
export const SUFFICIENT_PODS_REASON = 'SufficientPods';
export const INSUFFICIENT_PODS_REASON = 'InsufficientPods';
export const SYNC_FAILED_REASON = 'SyncFailed';
/** StatusCause type (JSON `reason`) of an eviction refused for a budget (policyv1.DisruptionBudgetCause). */
export const DISRUPTION_BUDGET_CAUSE = 'DisruptionBudget';

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

/** RFC 3339 at second precision, as metav1.Time serializes. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A pod is healthy for a budget when it is Ready (podutil.IsPodReady). */
export function isPodReady(pod: KubeObject): boolean {
  return ((pod.status?.conditions as any[]) ?? []).some((c) => c?.type === 'Ready' && c.status === 'True');
}

/**
 * apimeta.SetStatusCondition: adds or updates the condition of that type; the transition time
 * changes only when the status does.
 */
export function setStatusCondition(conditions: Condition[], c: Omit<Condition, 'lastTransitionTime'>, now: Date): Condition[] {
  const out = conditions.map((x) => ({ ...x }));
  const i = out.findIndex((x) => x.type === c.type);
  if (i < 0) {
    out.push({ ...c, lastTransitionTime: rfc3339(now) });
    return out;
  }
  const old = out[i]!;
  out[i] = { ...old, ...c, lastTransitionTime: old.status !== c.status || !old.lastTransitionTime ? rfc3339(now) : old.lastTransitionTime };
  return out;
}

/** pdbhelper.UpdateDisruptionAllowedCondition, on a status object (changed in place). */
export function updateDisruptionAllowedCondition(status: Record<string, any>, now: Date): void {
  const allowed = (status.disruptionsAllowed ?? 0) > 0;
  status.conditions = setStatusCondition(
    Array.isArray(status.conditions) ? status.conditions : [],
    {
      type: DISRUPTION_ALLOWED_CONDITION,
      status: allowed ? 'True' : 'False',
      reason: allowed ? SUFFICIENT_PODS_REASON : INSUFFICIENT_PODS_REASON,
      message: '',
      observedGeneration: status.observedGeneration ?? 0,
    },
    now,
  );
}

/** pdbhelper.ConditionsAreUpToDate. */
export function conditionsAreUpToDate(pdb: KubeObject): boolean {
  const s = pdb.status ?? {};
  const c = ((s.conditions as Condition[]) ?? []).find((x) => x?.type === DISRUPTION_ALLOWED_CONDITION);
  if (!c || (s.observedGeneration ?? 0) !== (pdb.metadata.generation ?? 0)) return false;
  if ((s.disruptionsAllowed ?? 0) > 0) return c.status === 'True' && c.reason === SUFFICIENT_PODS_REASON;
  return c.status === 'False' && c.reason === INSUFFICIENT_PODS_REASON;
}

/** The budget's selector (null selects no pod, `{}` every pod); throws SelectorError when malformed. */
export function pdbSelector(pdb: KubeObject): Selector {
  return labelSelectorFromObject(pdb.spec?.selector);
}

/**
 * The budgets the eviction subresource applies to `pod`: same namespace, a valid selector that
 * matches its labels. Unlike the controller, an empty selector matches nothing here, as in
 * kube-apiserver ("If a PDB with a nil or empty selector creeps in, it should match nothing").
 */
export function budgetsForEviction(pdbs: readonly KubeObject[], pod: KubeObject): KubeObject[] {
  return pdbs.filter((pdb) => {
    if (pdb.metadata.namespace !== pod.metadata.namespace) return false;
    let sel: Selector;
    try {
      sel = pdbSelector(pdb);
    } catch {
      return false;
    }
    return !sel.empty() && sel.matches(pod.metadata.labels ?? {});
  });
}
