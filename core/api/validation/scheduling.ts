/** Scheduling constraints in a pod spec: tolerations, affinity, topology spread. Also node taints. */
import { Dup, Forbidden, Inv, NotSupported, Req } from '../errors.ts';
import {
  arr, filled, has, inRange, isDNS1123Label, isInt, isQualifiedName, isStr, isValidLabelValue, obj, oneOf, positive, ReqD,
  validateLabelSelector, type Errs,
} from './common.ts';

export const TAINT_EFFECTS = ['NoExecute', 'NoSchedule', 'PreferNoSchedule'];

function labelName(key: unknown, path: string): Errs {
  if (!isStr(key)) return [Inv(path, key ?? null, 'must be a string')];
  return isQualifiedName(key).map((m) => Inv(path, key, m));
}

/** ValidateTolerations. */
export function validateTolerations(tols: unknown, path: string): Errs {
  const errs: Errs = [];
  arr(tols).forEach((t: any, i: number) => {
    const ip = `${path}[${i}]`;
    if (!obj(t)) return void errs.push(Inv(ip, t ?? null, 'must be a toleration object'));
    if (filled(t.key)) errs.push(...labelName(t.key, `${ip}.key`));
    if (!filled(t.key) && t.operator !== 'Exists') {
      errs.push(Inv(`${ip}.operator`, t.operator ?? '', 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    }
    if (has(t.tolerationSeconds) && t.effect !== 'NoExecute') {
      errs.push(Inv(`${ip}.effect`, t.effect ?? '', "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    }
    switch (t.operator ?? '') {
      case '':
      case 'Equal': {
        const v = t.value ?? '';
        const msgs = isStr(v) ? isValidLabelValue(v) : ['must be a string'];
        if (msgs.length) errs.push(Inv(`${ip}.operator`, v, msgs.join(';')));
        break;
      }
      case 'Exists':
        if (filled(t.value)) errs.push(Inv(`${ip}.operator`, t, "value must be empty when `operator` is 'Exists'"));
        break;
      default:
        errs.push(NotSupported(`${ip}.operator`, t.operator, ['Equal', 'Exists']));
    }
    if (filled(t.effect)) errs.push(...oneOf(`${ip}.effect`, t.effect, TAINT_EFFECTS));
  });
  return errs;
}

/** Node taints: key, value, effect, unique by key and effect. */
export function validateTaints(taints: unknown, path: string): Errs {
  const errs: Errs = [];
  const seen = new Set<string>();
  arr(taints).forEach((t: any, i: number) => {
    const ip = `${path}[${i}]`;
    if (!filled(t?.key)) errs.push(Req(`${ip}.key`));
    else errs.push(...labelName(t.key, `${ip}.key`));
    if (has(t?.value)) for (const m of isStr(t.value) ? isValidLabelValue(t.value) : ['must be a string']) errs.push(Inv(`${ip}.value`, t.value, m));
    if (!filled(t?.effect)) errs.push(Req(`${ip}.effect`));
    else errs.push(...oneOf(`${ip}.effect`, t.effect, TAINT_EFFECTS));
    const key = `${t?.key}/${t?.effect}`;
    if (seen.has(key)) errs.push(Inv(ip, { key: t?.key, effect: t?.effect }, 'taints must be unique by key and effect pair'));
    seen.add(key);
  });
  return errs;
}

function nodeSelectorRequirement(r: any, path: string, field: boolean): Errs {
  const errs: Errs = [];
  const values = arr(r?.values);
  if (field) {
    if (r?.key !== 'metadata.name') errs.push(NotSupported(`${path}.key`, r?.key ?? '', ['metadata.name']));
    if (r?.operator !== 'In' && r?.operator !== 'NotIn') errs.push(NotSupported(`${path}.operator`, r?.operator ?? '', ['In', 'NotIn']));
    else if (values.length !== 1) errs.push(ReqD(`${path}.values`, "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"));
    return errs;
  }
  switch (r?.operator) {
    case 'In':
    case 'NotIn':
      if (values.length === 0) errs.push(ReqD(`${path}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
      break;
    case 'Exists':
    case 'DoesNotExist':
      if (values.length > 0) errs.push(Forbidden(`${path}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      break;
    case 'Gt':
    case 'Lt':
      if (values.length !== 1) errs.push(ReqD(`${path}.values`, "must be specified single value when `operator` is 'Lt' or 'Gt'"));
      else if (!/^[+-]?\d+$/.test(String(values[0]))) errs.push(Inv(`${path}.values[0]`, values[0], 'must be an integer'));
      break;
    default:
      errs.push(NotSupported(`${path}.operator`, r?.operator ?? '', ['DoesNotExist', 'Exists', 'Gt', 'In', 'Lt', 'NotIn']));
  }
  errs.push(...labelName(r?.key, `${path}.key`));
  return errs;
}

function nodeSelectorTerm(t: any, path: string): Errs {
  const errs: Errs = [];
  arr(t?.matchExpressions).forEach((r, i) => errs.push(...nodeSelectorRequirement(r, `${path}.matchExpressions[${i}]`, false)));
  arr(t?.matchFields).forEach((r, i) => errs.push(...nodeSelectorRequirement(r, `${path}.matchFields[${i}]`, true)));
  return errs;
}

function podAffinityTerm(t: any, path: string): Errs {
  const errs: Errs = [];
  if (!obj(t)) return [Req(path)];
  errs.push(...validateLabelSelector(t.labelSelector, `${path}.labelSelector`));
  errs.push(...validateLabelSelector(t.namespaceSelector, `${path}.namespaceSelector`));
  arr(t.namespaces).forEach((ns, i) => {
    for (const m of isStr(ns) ? isDNS1123Label(ns) : ['must be a string']) errs.push(Inv(`${path}.namespaces[${i}]`, ns, m));
  });
  if (!filled(t.topologyKey)) errs.push(ReqD(`${path}.topologyKey`, 'can not be empty'));
  else errs.push(...labelName(t.topologyKey, `${path}.topologyKey`));
  return errs;
}

const weight = (w: unknown, path: string): Errs => inRange(path, w ?? 0, 1, 100, 'must be in the range 1-100');

/** validateAffinity: node affinity terms and pod (anti-)affinity terms well-formed. */
export function validateAffinity(aff: unknown, path: string): Errs {
  const a = obj(aff);
  if (!a) return [];
  const errs: Errs = [];
  const na = obj(a.nodeAffinity);
  if (na) {
    const p = `${path}.nodeAffinity`;
    if (has(na.requiredDuringSchedulingIgnoredDuringExecution)) {
      const terms = arr(na.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms);
      const tp = `${p}.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms`;
      if (terms.length === 0) errs.push(ReqD(tp, 'must have at least one node selector term'));
      terms.forEach((t, i) => errs.push(...nodeSelectorTerm(t, `${tp}[${i}]`)));
    }
    arr(na.preferredDuringSchedulingIgnoredDuringExecution).forEach((t: any, i: number) => {
      const tp = `${p}.preferredDuringSchedulingIgnoredDuringExecution[${i}]`;
      errs.push(...weight(t?.weight, `${tp}.weight`));
      errs.push(...nodeSelectorTerm(t?.preference, `${tp}.preference`));
    });
  }
  for (const kind of ['podAffinity', 'podAntiAffinity']) {
    const pa = obj(a[kind]);
    if (!pa) continue;
    const p = `${path}.${kind}`;
    arr(pa.requiredDuringSchedulingIgnoredDuringExecution).forEach((t, i) => {
      errs.push(...podAffinityTerm(t, `${p}.requiredDuringSchedulingIgnoredDuringExecution[${i}]`));
    });
    arr(pa.preferredDuringSchedulingIgnoredDuringExecution).forEach((t: any, i: number) => {
      const tp = `${p}.preferredDuringSchedulingIgnoredDuringExecution[${i}]`;
      errs.push(...weight(t?.weight, `${tp}.weight`));
      errs.push(...podAffinityTerm(t?.podAffinityTerm, `${tp}.podAffinityTerm`));
    });
  }
  return errs;
}

/** validateTopologySpreadConstraints. */
export function validateTopologySpread(list: unknown, path: string): Errs {
  const errs: Errs = [];
  const seen = new Set<string>();
  arr(list).forEach((c: any, i: number) => {
    const ip = `${path}[${i}]`;
    if (!has(c?.maxSkew)) errs.push(Req(`${ip}.maxSkew`));
    else errs.push(...positive(`${ip}.maxSkew`, c.maxSkew));
    if (!filled(c?.topologyKey)) errs.push(ReqD(`${ip}.topologyKey`, 'can not be empty'));
    else errs.push(...labelName(c.topologyKey, `${ip}.topologyKey`));
    if (!filled(c?.whenUnsatisfiable)) errs.push(Req(`${ip}.whenUnsatisfiable`));
    else errs.push(...oneOf(`${ip}.whenUnsatisfiable`, c.whenUnsatisfiable, ['DoNotSchedule', 'ScheduleAnyway']));
    if (has(c?.minDomains)) {
      errs.push(...positive(`${ip}.minDomains`, c.minDomains));
      if (isInt(c.minDomains) && c.whenUnsatisfiable !== 'DoNotSchedule') {
        errs.push(Inv(`${ip}.minDomains`, c.minDomains, 'can only use minDomains if whenUnsatisfiable=DoNotSchedule'));
      }
    }
    errs.push(...validateLabelSelector(c?.labelSelector, `${ip}.labelSelector`));
    const key = `${c?.topologyKey}/${c?.whenUnsatisfiable}`;
    if (seen.has(key)) errs.push(Dup(`${ip}.{topologyKey, whenUnsatisfiable}`, `{${c?.topologyKey}, ${c?.whenUnsatisfiable}}`));
    seen.add(key);
  });
  return errs;
}
