/** ResourceQuota and LimitRange: names and quantities, min ≤ default request ≤ default ≤ max. */
import { Dup, Forbidden, Inv, NotSupported } from '../errors.ts';
import type { Quantity } from '../quantity.ts';
import type { KubeObject } from '../types.ts';
import { arr, dedupe, isQualifiedName, obj, ReqD, type Errs } from './common.ts';
import { validateResourceList } from './resources.ts';

const QUOTA_STANDARD = new Set([
  'pods', 'services', 'replicationcontrollers', 'resourcequotas', 'secrets', 'configmaps', 'persistentvolumeclaims',
  'services.nodeports', 'services.loadbalancers', 'cpu', 'memory', 'storage', 'ephemeral-storage', 'requests.cpu',
  'requests.memory', 'requests.storage', 'requests.ephemeral-storage', 'limits.cpu', 'limits.memory', 'limits.ephemeral-storage',
]);
const QUOTA_INTEGER = new Set(['pods', 'services', 'replicationcontrollers', 'resourcequotas', 'secrets', 'configmaps', 'persistentvolumeclaims', 'services.nodeports', 'services.loadbalancers']);
const QUOTA_SCOPES = ['BestEffort', 'CrossNamespacePodAffinity', 'NotBestEffort', 'NotTerminating', 'PriorityClass', 'Terminating'];

function quotaResourceName(name: string, path: string): Errs {
  const errs = isQualifiedName(name).map((m) => Inv(path, name, m));
  if (errs.length) return errs;
  if (!name.includes('/') && !QUOTA_STANDARD.has(name) && !/^(requests\.|limits\.)?hugepages-/.test(name)) {
    errs.push(Inv(path, name, 'must be a standard resource for quota'));
  }
  return errs;
}

export function validateResourceQuota(rq: KubeObject): Errs {
  const spec = obj(rq.spec) ?? {};
  const errs: Errs = [];
  const hard = validateResourceList(spec.hard, 'spec.hard', errs, quotaResourceName);
  for (const [name, q] of hard) {
    if ((QUOTA_INTEGER.has(name) || name.startsWith('count/')) && q.milliValue() % 1000n !== 0n) {
      errs.push(Inv(`spec.hard[${name}]`, q.toString(), 'must be an integer'));
    }
  }
  const scopes = arr(spec.scopes);
  const seen = new Set<string>();
  scopes.forEach((s, i) => {
    if (!QUOTA_SCOPES.includes(s)) errs.push(NotSupported(`spec.scopes[${i}]`, s, QUOTA_SCOPES));
    errs.push(...dedupe(seen, String(s), `spec.scopes[${i}]`, s));
  });
  const conflicting = [['Terminating', 'NotTerminating'], ['BestEffort', 'NotBestEffort']].find(([a, b]) => seen.has(a!) && seen.has(b!));
  if (conflicting) errs.push(Inv('spec.scopes', scopes, 'conflicting scopes'));
  arr(obj(spec.scopeSelector)?.matchExpressions).forEach((e: any, i: number) => {
    const p = `spec.scopeSelector.matchExpressions[${i}]`;
    if (!QUOTA_SCOPES.includes(e?.scopeName)) errs.push(NotSupported(`${p}.scopeName`, e?.scopeName ?? '', QUOTA_SCOPES));
    const ops = ['DoesNotExist', 'Exists', 'In', 'NotIn'];
    if (!ops.includes(e?.operator)) errs.push(NotSupported(`${p}.operator`, e?.operator ?? '', ops));
    else if ((e.operator === 'In' || e.operator === 'NotIn') && arr(e.values).length === 0) {
      errs.push(ReqD(`${p}.values`, 'must be at least one value when `operator` is \'In\' or \'NotIn\''));
    }
  });
  return errs;
}

const LIMIT_TYPES = ['Container', 'PersistentVolumeClaim', 'Pod'];

export function validateLimitRange(lr: KubeObject): Errs {
  const errs: Errs = [];
  const types = new Set<string>();
  arr(obj(lr.spec)?.limits).forEach((l: any, i: number) => {
    const p = `spec.limits[${i}]`;
    if (!LIMIT_TYPES.includes(l?.type)) errs.push(NotSupported(`${p}.type`, l?.type ?? '', LIMIT_TYPES));
    else if (types.has(l.type)) errs.push(Dup(`${p}.type`, l.type));
    types.add(l?.type);
    const min = validateResourceList(l?.min, `${p}.min`, errs);
    const max = validateResourceList(l?.max, `${p}.max`, errs);
    let def = new Map<string, Quantity>();
    let defReq = new Map<string, Quantity>();
    if (l?.type === 'Pod') {
      if (Object.keys(obj(l.default) ?? {}).length) errs.push(Forbidden(`${p}.default`, "may not be specified when `type` is 'Pod'"));
      if (Object.keys(obj(l.defaultRequest) ?? {}).length) errs.push(Forbidden(`${p}.defaultRequest`, "may not be specified when `type` is 'Pod'"));
    } else {
      def = validateResourceList(l?.default, `${p}.default`, errs);
      defReq = validateResourceList(l?.defaultRequest, `${p}.defaultRequest`, errs);
    }
    if (l?.type === 'PersistentVolumeClaim' && !min.has('storage') && !max.has('storage')) {
      errs.push(ReqD(`${p}.limits`, 'either minimum or maximum storage value is required, but neither was provided'));
    }
    const ratio = validateResourceList(l?.maxLimitRequestRatio, `${p}.maxLimitRequestRatio`, errs);
    const keys = new Set([...min.keys(), ...max.keys(), ...def.keys(), ...defReq.keys(), ...ratio.keys()]);
    const gt = (a: Quantity | undefined, b: Quantity | undefined) => a !== undefined && b !== undefined && a.cmp(b) > 0;
    for (const k of keys) {
      const [mn, mx, d, dr, r] = [min.get(k), max.get(k), def.get(k), defReq.get(k), ratio.get(k)];
      const s = (q: Quantity | undefined) => q!.toString();
      if (gt(mn, mx)) errs.push(Inv(`${p}.min[${k}]`, s(mn), `min value ${s(mn)} is greater than max value ${s(mx)}`));
      if (gt(mn, dr)) errs.push(Inv(`${p}.defaultRequest[${k}]`, s(dr), `min value ${s(mn)} is greater than default request value ${s(dr)}`));
      if (gt(dr, mx)) errs.push(Inv(`${p}.defaultRequest[${k}]`, s(dr), `default request value ${s(dr)} is greater than max value ${s(mx)}`));
      if (gt(dr, d)) errs.push(Inv(`${p}.defaultRequest[${k}]`, s(dr), `default request value ${s(dr)} is greater than default limit value ${s(d)}`));
      if (gt(mn, d)) errs.push(Inv(`${p}.default[${k}]`, s(d), `min value ${s(mn)} is greater than default value ${s(d)}`));
      if (gt(d, mx)) errs.push(Inv(`${p}.default[${k}]`, s(d), `default value ${s(d)} is greater than max value ${s(mx)}`));
      if (r && r.toNumber() < 1) errs.push(Inv(`${p}.maxLimitRequestRatio[${k}]`, s(r), `ratio ${s(r)} is less than 1`));
      if (r && mn && mx && !mn.isZero()) {
        const limit = mx.toNumber() / mn.toNumber();
        if (r.toNumber() > limit) errs.push(Inv(`${p}.maxLimitRequestRatio[${k}]`, s(r), `ratio ${s(r)} is greater than max/min = ${limit.toFixed(6)}`));
      }
    }
  });
  return errs;
}
