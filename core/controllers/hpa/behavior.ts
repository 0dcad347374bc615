/**
 * HPA v2 behavior, as Kubernetes' normalizeDesiredReplicasWithBehaviors: stabilization windows
 * (scale up to the lowest, down to the highest recommendation in the window) and rate policies
 * (Pods / Percent per periodSeconds; selectPolicy Max, Min or Disabled).
 */
export interface Recommendation {
  at: number;
  replicas: number;
}
export interface ScaleEvent {
  at: number;
  /** Positive for a scale up, negative for a scale down. */
  change: number;
}

interface Policy {
  type: 'Pods' | 'Percent';
  value: number;
  periodSeconds: number;
}
interface Rules {
  stabilizationWindowSeconds?: number;
  selectPolicy?: 'Max' | 'Min' | 'Disabled';
  policies?: Policy[];
}

export const DEFAULT_SCALE_UP: Rules = {
  stabilizationWindowSeconds: 0,
  selectPolicy: 'Max',
  policies: [
    { type: 'Percent', value: 100, periodSeconds: 15 },
    { type: 'Pods', value: 4, periodSeconds: 15 },
  ],
};
export const DEFAULT_SCALE_DOWN: Rules = {
  stabilizationWindowSeconds: 300,
  selectPolicy: 'Max',
  policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
};

export function stabilize(now: number, current: number, desired: number, history: Recommendation[], up: Rules, down: Rules): number {
  const upCut = now - (up.stabilizationWindowSeconds ?? 0) * 1000;
  const downCut = now - (down.stabilizationWindowSeconds ?? 300) * 1000;
  let upRec = desired;
  let downRec = desired;
  for (const r of history) {
    if (r.at > upCut) upRec = Math.min(upRec, r.replicas);
    if (r.at > downCut) downRec = Math.max(downRec, r.replicas);
  }
  let rec = current;
  if (rec < upRec) rec = upRec;
  if (rec > downRec) rec = downRec;
  return rec;
}

function changeInPeriod(events: ScaleEvent[], now: number, periodSeconds: number, sign: 1 | -1): number {
  const cut = now - periodSeconds * 1000;
  return events.filter((e) => e.at > cut && Math.sign(e.change) === sign).reduce((s, e) => s + Math.abs(e.change), 0);
}

export function scaleUpLimit(current: number, events: ScaleEvent[], rules: Rules, now: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const pick = rules.selectPolicy === 'Min' ? Math.min : Math.max;
  let result = rules.selectPolicy === 'Min' ? Infinity : -Infinity;
  for (const p of rules.policies ?? []) {
    const periodStart = current - changeInPeriod(events, now, p.periodSeconds, 1);
    const limit = p.type === 'Pods' ? periodStart + p.value : Math.ceil(periodStart * (1 + p.value / 100));
    result = pick(result, limit);
  }
  return Number.isFinite(result) ? Math.max(result, current) : current;
}

export function scaleDownLimit(current: number, events: ScaleEvent[], rules: Rules, now: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  // Max picks the biggest allowed change (the smallest number), Min the smallest change.
  const pick = rules.selectPolicy === 'Min' ? Math.max : Math.min;
  let result = rules.selectPolicy === 'Min' ? -Infinity : Infinity;
  for (const p of rules.policies ?? []) {
    const periodStart = current + changeInPeriod(events, now, p.periodSeconds, -1);
    const limit = p.type === 'Pods' ? periodStart - p.value : Math.floor(periodStart * (1 - p.value / 100));
    result = pick(result, limit);
  }
  return Number.isFinite(result) ? Math.min(result, current) : current;
}
