/** batch/v1: Job and CronJob (create and update). */
import { cronSpecError, isValidTimeZone } from '../cron.ts';
import { Forbidden, Inv, NotSupported, Req } from '../errors.ts';
import type { KubeObject } from '../types.ts';
import {
  arr, boolField, diffPaths, filled, has, immutable, isInt, nonNegative, obj, oneOf, ReqD, same,
  validateAnnotations, validateLabels, type Errs,
} from './common.ts';
import { RESTART_POLICIES, validatePodTemplate } from './pod.ts';
import { validateSelectorAndLabels } from './workloads.ts';

const MAX_INDEXED = 100_000;

/** validateJobSpec at `path` (`spec` or `spec.jobTemplate.spec`). */
function validateJobSpec(specIn: unknown, path: string): Errs {
  const spec = obj(specIn) ?? {};
  const errs: Errs = [];
  for (const f of ['parallelism', 'completions', 'backoffLimit', 'activeDeadlineSeconds', 'ttlSecondsAfterFinished']) {
    errs.push(...nonNegative(`${path}.${f}`, spec[f]));
  }
  errs.push(...boolField(`${path}.suspend`, spec.suspend), ...boolField(`${path}.manualSelector`, spec.manualSelector));
  errs.push(...oneOf(`${path}.completionMode`, spec.completionMode, ['NonIndexed', 'Indexed']));
  const indexed = spec.completionMode === 'Indexed';
  if (indexed) {
    if (!has(spec.completions)) errs.push(ReqD(`${path}.completions`, 'when completion mode is Indexed'));
    else if (isInt(spec.completions) && spec.completions > MAX_INDEXED) {
      errs.push(Inv(`${path}.completions`, spec.completions, `must be less than or equal to ${MAX_INDEXED} when completion mode is Indexed`));
    }
    if (isInt(spec.parallelism) && spec.parallelism > MAX_INDEXED) {
      errs.push(Inv(`${path}.parallelism`, spec.parallelism, `must be less than or equal to ${MAX_INDEXED} when completion mode is Indexed`));
    }
  }
  if (has(spec.backoffLimitPerIndex)) {
    if (!indexed) errs.push(Forbidden(`${path}.backoffLimitPerIndex`, 'requires indexed completion mode'));
    errs.push(...nonNegative(`${path}.backoffLimitPerIndex`, spec.backoffLimitPerIndex));
  }
  if (has(spec.maxFailedIndexes)) {
    if (!has(spec.backoffLimitPerIndex)) errs.push(ReqD(`${path}.backoffLimitPerIndex`, 'when maxFailedIndexes is specified'));
    errs.push(...nonNegative(`${path}.maxFailedIndexes`, spec.maxFailedIndexes));
  }
  errs.push(...oneOf(`${path}.podReplacementPolicy`, spec.podReplacementPolicy, ['TerminatingOrFailed', 'Failed']));
  errs.push(...validatePodTemplate(spec.template, `${path}.template`));
  const rp = obj(obj(spec.template)?.spec)?.restartPolicy;
  const rpPath = `${path}.template.spec.restartPolicy`;
  if (!filled(rp)) errs.push(ReqD(rpPath, 'valid values: "OnFailure", "Never"'));
  else if (RESTART_POLICIES.includes(rp) && rp !== 'OnFailure' && rp !== 'Never') errs.push(NotSupported(rpPath, rp, ['OnFailure', 'Never']));
  errs.push(...validatePodFailurePolicy(spec.podFailurePolicy, `${path}.podFailurePolicy`, rp, rpPath));
  return errs;
}

function validatePodFailurePolicy(pfp: unknown, path: string, restartPolicy: unknown, rpPath: string): Errs {
  if (!has(pfp)) return [];
  const errs: Errs = [];
  if (restartPolicy !== 'Never') errs.push(Inv(rpPath, restartPolicy ?? '', 'only "Never" is supported when podFailurePolicy is specified'));
  const rules = arr(obj(pfp)?.rules);
  if (rules.length > 20) errs.push(Inv(`${path}.rules`, rules.length, 'must have at most 20 items'));
  rules.forEach((r: any, i: number) => {
    const p = `${path}.rules[${i}]`;
    errs.push(...(filled(r?.action) ? oneOf(`${p}.action`, r.action, ['Count', 'FailIndex', 'FailJob', 'Ignore']) : [Req(`${p}.action`)]));
    const codes = obj(r?.onExitCodes);
    const conds = r?.onPodConditions;
    if (codes && has(conds)) errs.push(Inv(p, '', 'specifying both OnExitCodes and OnPodConditions is not supported'));
    if (!codes && !has(conds)) errs.push(Inv(p, '', 'specifying one of OnExitCodes and OnPodConditions is required'));
    if (codes) {
      errs.push(...oneOf(`${p}.onExitCodes.operator`, codes.operator ?? '', ['In', 'NotIn']));
      const values = arr(codes.values);
      if (values.length === 0) errs.push(ReqD(`${p}.onExitCodes.values`, 'at least one value is required'));
      const seen = new Set<number>();
      values.forEach((v, j) => {
        const vp = `${p}.onExitCodes.values[${j}]`;
        if (!isInt(v)) errs.push(Inv(vp, v, 'must be an integer'));
        else if (codes.operator === 'In' && v === 0) errs.push(Inv(vp, v, 'must not be 0 for the In operator'));
        else if (seen.has(v)) errs.push(Inv(vp, v, 'must not be duplicated'));
        seen.add(v);
      });
    }
    arr(conds).forEach((c: any, j: number) => {
      if (!filled(c?.type)) errs.push(Req(`${p}.onPodConditions[${j}].type`));
      errs.push(...oneOf(`${p}.onPodConditions[${j}].status`, c?.status, ['True', 'False', 'Unknown']));
    });
  });
  return errs;
}

export function validateJob(job: KubeObject): Errs {
  const spec = obj(job.spec) ?? {};
  return [...validateJobSpec(spec, 'spec'), ...validateSelectorAndLabels(spec, spec.manualSelector === true)];
}

export function validateCronJob(cj: KubeObject): Errs {
  const spec = obj(cj.spec) ?? {};
  const errs: Errs = [];
  const name = cj.metadata?.name;
  if (filled(name) && name.length > 52) errs.push(Inv('metadata.name', name, 'must be no more than 52 characters'));
  if (!filled(spec.schedule)) errs.push(Req('spec.schedule'));
  else {
    const why = cronSpecError(spec.schedule);
    if (why) errs.push(Inv('spec.schedule', spec.schedule, why));
    if (/^(CRON_)?TZ=/.test(spec.schedule) && has(spec.timeZone)) {
      errs.push(Inv('spec.schedule', spec.schedule, 'cannot use both timeZone field and TZ or CRON_TZ in schedule'));
    }
  }
  if (has(spec.timeZone)) {
    const tz = spec.timeZone;
    if (!filled(tz)) errs.push(Inv('spec.timeZone', tz, 'timeZone must be nil or non-empty string'));
    else if (tz.toLowerCase() === 'local') errs.push(Inv('spec.timeZone', tz, 'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones'));
    else if (!isValidTimeZone(tz)) errs.push(Inv('spec.timeZone', tz, `unknown time zone ${tz}`));
  }
  errs.push(...oneOf('spec.concurrencyPolicy', spec.concurrencyPolicy, ['Allow', 'Forbid', 'Replace']));
  for (const f of ['startingDeadlineSeconds', 'successfulJobsHistoryLimit', 'failedJobsHistoryLimit']) errs.push(...nonNegative(`spec.${f}`, spec[f]));
  errs.push(...boolField('spec.suspend', spec.suspend));
  const jt = obj(spec.jobTemplate);
  if (!jt) return [...errs, Req('spec.jobTemplate')];
  errs.push(...validateLabels(obj(jt.metadata)?.labels, 'spec.jobTemplate.metadata.labels'));
  errs.push(...validateAnnotations(obj(jt.metadata)?.annotations, 'spec.jobTemplate.metadata.annotations'));
  const js = obj(jt.spec) ?? {};
  errs.push(...validateJobSpec(js, 'spec.jobTemplate.spec'));
  if (js.manualSelector === true) errs.push(NotSupported('spec.jobTemplate.spec.manualSelector', true, ['nil', 'false']));
  errs.push(...validateSelectorAndLabels(js, false, undefined, 'spec.jobTemplate.spec'));
  return errs;
}

/** Scheduling directives a suspended, never-started Job may still change in its template. */
const SCHEDULING_DIRECTIVES = ['nodeSelector', 'affinity', 'tolerations', 'schedulingGates'];

export function validateJobUpdate(job: KubeObject, old: KubeObject): Errs {
  const n = obj(job.spec) ?? {};
  const o = obj(old.spec) ?? {};
  const errs: Errs = [
    ...immutable(n.selector, o.selector, 'spec.selector'),
    ...immutable(n.completionMode, o.completionMode, 'spec.completionMode'),
    ...immutable(n.podFailurePolicy, o.podFailurePolicy, 'spec.podFailurePolicy'),
    ...immutable(n.backoffLimitPerIndex, o.backoffLimitPerIndex, 'spec.backoffLimitPerIndex'),
  ];
  // Elastic Indexed Jobs may scale completions together with parallelism.
  const elastic = n.completionMode === 'Indexed' && n.completions === n.parallelism && o.completions === o.parallelism;
  if (!elastic) errs.push(...immutable(n.completions, o.completions, 'spec.completions'));
  if (!same(n.template, o.template)) {
    const mutable = o.suspend === true && !obj(old.status)?.startTime;
    const strip = (t: unknown) => {
      const c = structuredClone(obj(t) ?? {});
      if (!mutable) return c;
      if (obj(c.metadata)) {
        delete c.metadata.labels;
        delete c.metadata.annotations;
      }
      for (const f of SCHEDULING_DIRECTIVES) if (obj(c.spec)) delete c.spec[f];
      return c;
    };
    const a = strip(n.template);
    const b = strip(o.template);
    if (!same(a, b)) errs.push(Inv('spec.template', { changed: diffPaths(a, b, 'spec.template') }, 'field is immutable'));
  }
  return errs;
}
