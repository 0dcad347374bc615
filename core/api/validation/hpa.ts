/** autoscaling/v2 HorizontalPodAutoscaler. */
import { Forbidden, Inv, Req } from '../errors.ts';
import type { KubeObject } from '../types.ts';
import { arr, filled, has, inRange, isInt, isValidPathSegmentName, obj, oneOf, ReqD, validateLabelSelector, type Errs } from './common.ts';
import { quantityAt } from './resources.ts';

const METRIC_TYPES = ['ContainerResource', 'External', 'Object', 'Pods', 'Resource'];
const SOURCE_OF: Record<string, string> = {
  ContainerResource: 'containerResource',
  External: 'external',
  Object: 'object',
  Pods: 'pods',
  Resource: 'resource',
};

function objectRef(ref: unknown, path: string): Errs {
  const r = obj(ref) ?? {};
  const errs: Errs = [];
  for (const f of ['kind', 'name']) {
    if (!filled(r[f])) errs.push(Req(`${path}.${f}`));
    else for (const m of isValidPathSegmentName(r[f])) errs.push(Inv(`${path}.${f}`, r[f], m));
  }
  return errs;
}

function target(t: unknown, path: string, allowed: string[]): Errs {
  const tg = obj(t);
  if (!tg) return [Req(path)];
  const errs: Errs = [];
  if (!filled(tg.type)) errs.push(ReqD(`${path}.type`, 'must specify a metric target type'));
  else errs.push(...oneOf(`${path}.type`, tg.type, allowed));
  if (tg.type === 'Utilization') {
    if (!has(tg.averageUtilization)) errs.push(ReqD(`${path}.averageUtilization`, 'must set a target utilization'));
    else if (!isInt(tg.averageUtilization) || tg.averageUtilization <= 0) errs.push(Inv(`${path}.averageUtilization`, tg.averageUtilization, 'must be greater than 0'));
  }
  for (const f of ['value', 'averageValue']) {
    if (!has(tg[f])) continue;
    const q = quantityAt(`${path}.${f}`, tg[f], errs);
    if (q && q.sign() <= 0) errs.push(Inv(`${path}.${f}`, tg[f], 'must be positive'));
  }
  if (tg.type === 'Value' && !has(tg.value)) errs.push(ReqD(`${path}.value`, 'must set a target value'));
  if (tg.type === 'AverageValue' && !has(tg.averageValue)) errs.push(ReqD(`${path}.averageValue`, 'must set a target averageValue'));
  return errs;
}

function metricIdentifier(m: unknown, path: string): Errs {
  const errs: Errs = [];
  if (!filled(obj(m)?.name)) errs.push(ReqD(`${path}.name`, 'must specify a metric name'));
  errs.push(...validateLabelSelector(obj(m)?.selector, `${path}.selector`));
  return errs;
}

function validateMetric(m: any, path: string): Errs {
  const errs: Errs = [];
  if (!filled(m?.type)) return [ReqD(`${path}.type`, 'must specify a metric source type')];
  errs.push(...oneOf(`${path}.type`, m.type, METRIC_TYPES));
  const want = Object.hasOwn(SOURCE_OF, m.type) ? SOURCE_OF[m.type] : undefined;
  if (!want) return errs;
  for (const other of Object.values(SOURCE_OF)) {
    if (other !== want && has(m[other])) errs.push(Forbidden(`${path}.${other}`, 'must populate the given metric source only'));
  }
  const src = obj(m[want]);
  const sp = `${path}.${want}`;
  if (!src) return [...errs, ReqD(sp, 'must populate information for the given metric source')];
  switch (m.type) {
    case 'Resource':
    case 'ContainerResource':
      if (!filled(src.name)) errs.push(ReqD(`${sp}.name`, 'must specify a resource name'));
      if (m.type === 'ContainerResource' && !filled(src.container)) errs.push(ReqD(`${sp}.container`, 'must specify a container'));
      errs.push(...target(src.target, `${sp}.target`, ['AverageValue', 'Utilization']));
      break;
    case 'Pods':
      errs.push(...metricIdentifier(src.metric, `${sp}.metric`), ...target(src.target, `${sp}.target`, ['AverageValue']));
      break;
    case 'Object':
      errs.push(...objectRef(src.describedObject, `${sp}.describedObject`), ...metricIdentifier(src.metric, `${sp}.metric`));
      errs.push(...target(src.target, `${sp}.target`, ['AverageValue', 'Value']));
      break;
    case 'External':
      errs.push(...metricIdentifier(src.metric, `${sp}.metric`), ...target(src.target, `${sp}.target`, ['AverageValue', 'Value']));
      break;
  }
  return errs;
}

function scalingRules(r: unknown, path: string): Errs {
  const rules = obj(r);
  if (!rules) return [];
  const errs: Errs = [
    ...inRange(`${path}.stabilizationWindowSeconds`, rules.stabilizationWindowSeconds, 0, 3600, 'must be between 0 and 3600, inclusive'),
    ...oneOf(`${path}.selectPolicy`, rules.selectPolicy, ['Disabled', 'Max', 'Min']),
  ];
  const policies = arr(rules.policies);
  if (has(rules.policies) && policies.length === 0) errs.push(ReqD(`${path}.policies`, 'must specify at least one Policy'));
  policies.forEach((p: any, i: number) => {
    const pp = `${path}.policies[${i}]`;
    errs.push(...(filled(p?.type) ? oneOf(`${pp}.type`, p.type, ['Percent', 'Pods']) : [Req(`${pp}.type`)]));
    if (!isInt(p?.value) || p.value <= 0) errs.push(Inv(`${pp}.value`, p?.value ?? 0, 'must be greater than zero'));
    errs.push(...inRange(`${pp}.periodSeconds`, p?.periodSeconds ?? 0, 1, 1800, 'must be between 1 and 1800, inclusive'));
  });
  return errs;
}

export function validateHPA(hpa: KubeObject): Errs {
  const spec = obj(hpa.spec) ?? {};
  const errs: Errs = [...objectRef(spec.scaleTargetRef, 'spec.scaleTargetRef')];
  if (has(spec.minReplicas) && (!isInt(spec.minReplicas) || spec.minReplicas < 1)) {
    errs.push(Inv('spec.minReplicas', spec.minReplicas, 'must be greater than or equal to 1'));
  }
  if (!isInt(spec.maxReplicas) || spec.maxReplicas < 1) errs.push(Inv('spec.maxReplicas', spec.maxReplicas ?? 0, 'must be greater than 0'));
  else if (isInt(spec.minReplicas) && spec.minReplicas > spec.maxReplicas) {
    errs.push(Inv('spec.maxReplicas', spec.maxReplicas, 'must be greater than or equal to `minReplicas`'));
  }
  arr(spec.metrics).forEach((m, i) => errs.push(...validateMetric(m, `spec.metrics[${i}]`)));
  const b = obj(spec.behavior);
  if (b) errs.push(...scalingRules(b.scaleUp, 'spec.behavior.scaleUp'), ...scalingRules(b.scaleDown, 'spec.behavior.scaleDown'));
  return errs;
}
