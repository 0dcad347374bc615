/** apps/v1 workloads: ReplicaSet, Deployment, StatefulSet, DaemonSet (create and update). */
import { Forbidden, Inv, NotSupported, Req } from '../errors.ts';
import { labelSelectorFromObject, SelectorError } from '../selectors.ts';
import type { KubeObject } from '../types.ts';
import {
  arr, boolField, filled, has, immutable, intOrPercent, intOrPercentValue, nonNegative, obj, oneOf, ReqD, same,
  validateAnnotations, validateLabelSelector, validateLabels, type Errs,
} from './common.ts';
import { validatePVCSpec } from './config.ts';
import { validatePodSpec, validatePodTemplate } from './pod.ts';

const emptySelector = (s: Record<string, any>): boolean =>
  Object.keys(obj(s.matchLabels) ?? {}).length + arr(s.matchExpressions).length === 0;

/**
 * The selector is well-formed and selects the template's labels:
 * `spec.template.metadata.labels: Invalid value: …: \`selector\` does not match template \`labels\``.
 * `required`: a missing selector is an error; `emptyWord`: an empty one is (`deployment` …).
 */
export function validateSelectorAndLabels(spec: Record<string, any>, required: boolean, emptyWord?: string, path = 'spec'): Errs {
  const errs: Errs = [];
  const sel = spec.selector;
  if (!has(sel)) {
    if (required) errs.push(Req(`${path}.selector`));
    return errs;
  }
  const selErrs = validateLabelSelector(sel, `${path}.selector`);
  errs.push(...selErrs);
  if (emptyWord && obj(sel) && emptySelector(sel)) errs.push(Inv(`${path}.selector`, sel, `empty selector is invalid for ${emptyWord}`));
  if (selErrs.length || !obj(spec.template)) return errs;
  try {
    const selector = labelSelectorFromObject(sel);
    const labels = obj(spec.template.metadata)?.labels;
    if (!selector.empty() && !selector.matches(obj(labels) ?? {})) {
      errs.push(Inv(`${path}.template.metadata.labels`, labels ?? null, '`selector` does not match template `labels`'));
    }
  } catch (e) {
    if (!(e instanceof SelectorError)) throw e;
    errs.push(Inv(`${path}.selector`, sel, 'invalid label selector'));
  }
  return errs;
}

/** Template rules of replicated workloads: restartPolicy Always, no activeDeadlineSeconds. */
function replicatedTemplate(spec: Record<string, any>, kind: string): Errs {
  const errs: Errs = [];
  const ps = obj(obj(spec.template)?.spec);
  if (!ps) return errs;
  if (has(ps.restartPolicy) && ps.restartPolicy !== 'Always') {
    errs.push(NotSupported('spec.template.spec.restartPolicy', ps.restartPolicy, ['Always']));
  }
  if (has(ps.activeDeadlineSeconds)) {
    errs.push(Inv('spec.template.spec.activeDeadlineSeconds', ps.activeDeadlineSeconds, `activeDeadlineSeconds in ${kind} is not Supported`));
  }
  return errs;
}

function specOf(o: KubeObject): Record<string, any> {
  return obj(o.spec) ?? {};
}

export function validateReplicaSet(rs: KubeObject): Errs {
  const spec = specOf(rs);
  return [
    ...nonNegative('spec.replicas', spec.replicas),
    ...nonNegative('spec.minReadySeconds', spec.minReadySeconds),
    ...validateSelectorAndLabels(spec, true, 'deployment'),
    ...validatePodTemplate(spec.template, 'spec.template'),
    ...replicatedTemplate(spec, 'ReplicaSet'),
  ];
}

export function validateDeployment(d: KubeObject): Errs {
  const spec = specOf(d);
  const errs: Errs = [
    ...nonNegative('spec.replicas', spec.replicas),
    ...validateSelectorAndLabels(spec, true, 'deployment'),
    ...validatePodTemplate(spec.template, 'spec.template'),
    ...replicatedTemplate(spec, 'ReplicaSet'),
    ...nonNegative('spec.minReadySeconds', spec.minReadySeconds),
    ...nonNegative('spec.revisionHistoryLimit', spec.revisionHistoryLimit),
    ...nonNegative('spec.progressDeadlineSeconds', spec.progressDeadlineSeconds),
    ...boolField('spec.paused', spec.paused),
  ];
  if (typeof spec.progressDeadlineSeconds === 'number' && spec.progressDeadlineSeconds <= (spec.minReadySeconds ?? 0)) {
    errs.push(Inv('spec.progressDeadlineSeconds', spec.progressDeadlineSeconds, 'must be greater than minReadySeconds'));
  }
  const st = obj(spec.strategy) ?? {};
  const type = st.type ?? 'RollingUpdate';
  if (type === 'Recreate') {
    if (has(st.rollingUpdate)) errs.push(Forbidden('spec.strategy.rollingUpdate', "may not be specified when strategy `type` is 'Recreate'"));
  } else if (type === 'RollingUpdate') {
    const ru = obj(st.rollingUpdate) ?? {};
    const p = 'spec.strategy.rollingUpdate';
    const maxUnavailable = ru.maxUnavailable ?? '25%';
    const maxSurge = ru.maxSurge ?? '25%';
    errs.push(...intOrPercent(`${p}.maxUnavailable`, ru.maxUnavailable, true), ...intOrPercent(`${p}.maxSurge`, ru.maxSurge));
    if (intOrPercentValue(maxUnavailable) === 0 && intOrPercentValue(maxSurge) === 0) {
      errs.push(Inv(`${p}.maxUnavailable`, maxUnavailable, 'may not be 0 when `maxSurge` is 0'));
    }
  } else {
    errs.push(NotSupported('spec.strategy.type', type, ['Recreate', 'RollingUpdate']));
  }
  return errs;
}

export function validateStatefulSet(sts: KubeObject): Errs {
  const spec = specOf(sts);
  const claims = arr(spec.volumeClaimTemplates);
  const errs: Errs = [
    ...nonNegative('spec.replicas', spec.replicas),
    ...nonNegative('spec.minReadySeconds', spec.minReadySeconds),
    ...nonNegative('spec.revisionHistoryLimit', spec.revisionHistoryLimit),
    ...nonNegative('spec.ordinals.start', obj(spec.ordinals)?.start),
    ...oneOf('spec.podManagementPolicy', spec.podManagementPolicy, ['OrderedReady', 'Parallel']),
    ...validateSelectorAndLabels(spec, true, 'statefulset'),
    ...replicatedTemplate(spec, 'StatefulSet'),
  ];
  // Containers mount claim templates by name, as if they were pod volumes.
  const t = obj(spec.template);
  if (!t) errs.push(has(spec.template) ? Inv('spec.template', spec.template, 'must be a pod template object') : Req('spec.template'));
  else {
    errs.push(...validateLabels(obj(t.metadata)?.labels, 'spec.template.metadata.labels'));
    errs.push(...validateAnnotations(obj(t.metadata)?.annotations, 'spec.template.metadata.annotations'));
    const names = claims.map((c) => obj(c)?.metadata?.name).filter(filled);
    errs.push(...validatePodSpec(t.spec, 'spec.template.spec', names));
  }
  claims.forEach((c: any, i: number) => {
    const p = `spec.volumeClaimTemplates[${i}]`;
    if (!filled(obj(c)?.metadata?.name)) errs.push(Req(`${p}.metadata.name`));
    errs.push(...validateLabels(obj(c)?.metadata?.labels, `${p}.metadata.labels`));
    errs.push(...validatePVCSpec(obj(c)?.spec, `${p}.spec`));
  });
  const us = obj(spec.updateStrategy) ?? {};
  errs.push(...oneOf('spec.updateStrategy.type', us.type, ['OnDelete', 'RollingUpdate']));
  if (us.type === 'OnDelete' && has(us.rollingUpdate)) {
    errs.push(Inv('spec.updateStrategy.rollingUpdate', us.rollingUpdate, "only allowed for updateStrategy 'RollingUpdate'"));
  }
  const ru = obj(us.rollingUpdate);
  if (ru) {
    errs.push(...nonNegative('spec.updateStrategy.rollingUpdate.partition', ru.partition));
    errs.push(...intOrPercent('spec.updateStrategy.rollingUpdate.maxUnavailable', ru.maxUnavailable, true));
    if (has(ru.maxUnavailable) && intOrPercentValue(ru.maxUnavailable) === 0) {
      errs.push(Inv('spec.updateStrategy.rollingUpdate.maxUnavailable', ru.maxUnavailable, 'must be greater than 0'));
    }
  }
  const rp = obj(spec.persistentVolumeClaimRetentionPolicy) ?? {};
  errs.push(...oneOf('spec.persistentVolumeClaimRetentionPolicy.whenDeleted', rp.whenDeleted, ['Retain', 'Delete']));
  errs.push(...oneOf('spec.persistentVolumeClaimRetentionPolicy.whenScaled', rp.whenScaled, ['Retain', 'Delete']));
  return errs;
}

export function validateDaemonSet(ds: KubeObject): Errs {
  const spec = specOf(ds);
  const errs: Errs = [
    ...validateSelectorAndLabels(spec, true, 'daemonset'),
    ...validatePodTemplate(spec.template, 'spec.template'),
    ...replicatedTemplate(spec, 'DaemonSet'),
    ...nonNegative('spec.minReadySeconds', spec.minReadySeconds),
    ...nonNegative('spec.revisionHistoryLimit', spec.revisionHistoryLimit),
  ];
  const us = obj(spec.updateStrategy) ?? {};
  const type = us.type ?? 'RollingUpdate';
  if (type === 'OnDelete') {
    if (has(us.rollingUpdate)) errs.push(Forbidden('spec.updateStrategy.rollingUpdate', "may not be specified when strategy `type` is 'OnDelete'"));
  } else if (type === 'RollingUpdate') {
    const ru = obj(us.rollingUpdate) ?? {};
    const p = 'spec.updateStrategy.rollingUpdate';
    errs.push(...intOrPercent(`${p}.maxUnavailable`, ru.maxUnavailable, true), ...intOrPercent(`${p}.maxSurge`, ru.maxSurge, true));
    const unavailable = intOrPercentValue(ru.maxUnavailable ?? 1) !== 0;
    const surge = intOrPercentValue(ru.maxSurge ?? 0) !== 0;
    if (unavailable && surge) errs.push(Inv(`${p}.maxSurge`, ru.maxSurge, 'may not be set when maxUnavailable is non-zero'));
    if (!unavailable && !surge) errs.push(ReqD(`${p}.maxUnavailable`, 'cannot be 0 when maxSurge is 0'));
  } else {
    errs.push(NotSupported('spec.updateStrategy.type', type, ['OnDelete', 'RollingUpdate']));
  }
  return errs;
}

/** Deployment, ReplicaSet, DaemonSet: the selector never changes (apps/v1). */
export function validateSelectorUpdate(n: KubeObject, o: KubeObject): Errs {
  return immutable(specOf(n).selector, specOf(o).selector, 'spec.selector');
}

const STS_MUTABLE = ['replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds', 'revisionHistoryLimit'];

export function validateStatefulSetUpdate(n: KubeObject, o: KubeObject): Errs {
  const strip = (s: Record<string, any>) => Object.fromEntries(Object.entries(s).filter(([k]) => !STS_MUTABLE.includes(k)));
  if (same(strip(specOf(n)), strip(specOf(o)))) return [];
  return [
    Forbidden(
      'spec',
      "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    ),
  ];
}
