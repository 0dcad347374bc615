/** Pod specs, pod templates, Pods, and what a Pod update may change. */
import { Forbidden, Inv, Req } from '../errors.ts';
import type { KubeObject } from '../types.ts';
import {
  arr, diffPaths, filled, has, inRange, isDNS1123Label, isDNS1123Subdomain, isValidIP, nonNegative, obj, oneOf, ReqD, same,
  validateAnnotations, validateLabels, type Errs,
} from './common.ts';
import { validateContainers } from './container.ts';
import { validateAffinity, validateTolerations, validateTopologySpread } from './scheduling.ts';
import { validateVolumes } from './volume.ts';

export const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];
const DNS_POLICIES = ['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'];

/** ValidatePodSpec at `path` (`spec`, `spec.template.spec`, …). */
export function validatePodSpec(specIn: unknown, path: string, extraVolumes: readonly string[] = []): Errs {
  const spec = obj(specIn);
  if (!spec) return [has(specIn) ? Inv(path, specIn, 'must be a pod spec object') : Req(`${path}.containers`)];
  const errs: Errs = [];
  const vols = validateVolumes(spec.volumes, `${path}.volumes`);
  errs.push(...vols.errs);
  for (const v of extraVolumes) vols.names.add(v);
  const ctx = { volumes: vols.names, names: new Set<string>(), hostPorts: new Set<string>(), hostNetwork: spec.hostNetwork === true };
  errs.push(...validateContainers(spec.initContainers, `${path}.initContainers`, ctx, true));
  if (arr(spec.containers).length === 0 && !(has(spec.containers) && !Array.isArray(spec.containers))) errs.push(Req(`${path}.containers`));
  errs.push(...validateContainers(spec.containers, `${path}.containers`, ctx, false));
  if (has(spec.ephemeralContainers) && path !== 'spec') {
    errs.push(Forbidden(`${path}.ephemeralContainers`, 'ephemeral containers are not allowed in pod templates'));
  }
  errs.push(...oneOf(`${path}.restartPolicy`, spec.restartPolicy, RESTART_POLICIES));
  errs.push(...oneOf(`${path}.dnsPolicy`, spec.dnsPolicy, DNS_POLICIES));
  if (spec.dnsPolicy === 'None' && !obj(spec.dnsConfig)) {
    errs.push(ReqD(`${path}.dnsConfig`, 'must provide `dnsConfig` when `dnsPolicy` is None'));
  }
  errs.push(...validateDNSConfig(spec.dnsConfig, `${path}.dnsConfig`, spec.dnsPolicy === 'None'));
  errs.push(...nonNegative(`${path}.terminationGracePeriodSeconds`, spec.terminationGracePeriodSeconds));
  errs.push(...inRange(`${path}.activeDeadlineSeconds`, spec.activeDeadlineSeconds, 1, 2147483647));
  errs.push(...validateLabels(spec.nodeSelector, `${path}.nodeSelector`));
  for (const f of ['serviceAccountName', 'nodeName', 'priorityClassName']) {
    if (filled(spec[f])) for (const m of isDNS1123Subdomain(spec[f])) errs.push(Inv(`${path}.${f}`, spec[f], m));
  }
  for (const f of ['hostname', 'subdomain']) {
    if (filled(spec[f])) for (const m of isDNS1123Label(spec[f])) errs.push(Inv(`${path}.${f}`, spec[f], m));
  }
  errs.push(...validateTolerations(spec.tolerations, `${path}.tolerations`));
  errs.push(...validateAffinity(spec.affinity, `${path}.affinity`));
  errs.push(...validateTopologySpread(spec.topologySpreadConstraints, `${path}.topologySpreadConstraints`));
  const sc = obj(spec.securityContext);
  if (sc) {
    for (const f of ['runAsUser', 'runAsGroup', 'fsGroup']) errs.push(...nonNegative(`${path}.securityContext.${f}`, sc[f]));
    arr(sc.supplementalGroups).forEach((g, i) => errs.push(...nonNegative(`${path}.securityContext.supplementalGroups[${i}]`, g)));
  }
  arr(sc?.sysctls).forEach((s: any, i: number) => {
    if (!filled(s?.name)) errs.push(Req(`${path}.securityContext.sysctls[${i}].name`));
  });
  arr(spec.imagePullSecrets).forEach((s: any, i: number) => {
    if (filled(s?.name)) for (const m of isDNS1123Subdomain(s.name)) errs.push(Inv(`${path}.imagePullSecrets[${i}].name`, s.name, m));
  });
  return errs;
}

function validateDNSConfig(cfg: unknown, path: string, policyNone: boolean): Errs {
  const c = obj(cfg);
  if (!c) return [];
  const errs: Errs = [];
  const ns = arr(c.nameservers);
  if (ns.length > 3) errs.push(Inv(`${path}.nameservers`, ns, 'must not have more than 3 nameservers'));
  if (policyNone && ns.length === 0) errs.push(ReqD(`${path}.nameservers`, 'must have at least one nameserver when `dnsPolicy` is None'));
  ns.forEach((s, i) => {
    if (!isValidIP(s)) errs.push(Inv(`${path}.nameservers[${i}]`, s, 'must be a valid IP address'));
  });
  const searches = arr(c.searches);
  if (searches.length > 32) errs.push(Inv(`${path}.searches`, searches, 'must not have more than 32 search paths'));
  searches.forEach((s, i) => {
    const d = typeof s === 'string' ? s.replace(/\.$/, '') : s;
    for (const m of typeof d === 'string' ? isDNS1123Subdomain(d) : ['must be a string']) errs.push(Inv(`${path}.searches[${i}]`, s, m));
  });
  arr(c.options).forEach((o: any, i: number) => {
    if (!filled(o?.name)) errs.push(ReqD(`${path}.options[${i}]`, 'Option.Name must not be empty'));
  });
  return errs;
}

/** ValidatePodTemplateSpec at `path` (`spec.template`, `spec.jobTemplate.spec.template`). */
export function validatePodTemplate(template: unknown, path: string): Errs {
  const t = obj(template);
  if (!t) return [has(template) ? Inv(path, template, 'must be a pod template object') : Req(path)];
  const meta = obj(t.metadata) ?? {};
  return [
    ...validateLabels(meta.labels, `${path}.metadata.labels`),
    ...validateAnnotations(meta.annotations, `${path}.metadata.annotations`),
    ...validatePodSpec(t.spec, `${path}.spec`),
  ];
}

export function validatePod(pod: KubeObject): Errs {
  return validatePodSpec(pod.spec, 'spec');
}

const POD_UPDATE_MSG =
  'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,' +
  '`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

/** ValidatePodUpdate: a Pod's spec is immutable but for images, deadlines and added tolerations. */
export function validatePodUpdate(pod: KubeObject, old: KubeObject): Errs {
  const errs: Errs = [];
  const ns = obj(pod.spec) ?? {};
  const os = obj(old.spec) ?? {};
  if (has(os.activeDeadlineSeconds)) {
    if (!has(ns.activeDeadlineSeconds)) {
      errs.push(Inv('spec.activeDeadlineSeconds', null, 'must not update from a positive integer to nil value'));
    } else if (ns.activeDeadlineSeconds > os.activeDeadlineSeconds) {
      errs.push(Inv('spec.activeDeadlineSeconds', ns.activeDeadlineSeconds, 'must be less than or equal to previous value'));
    }
  }
  const newTols = arr(ns.tolerations);
  for (const t of arr(os.tolerations)) {
    if (!newTols.some((n) => same({ ...t, tolerationSeconds: n?.tolerationSeconds }, n))) {
      errs.push(Forbidden('spec.tolerations', 'existing toleration can not be modified except its tolerationSeconds'));
      break;
    }
  }
  const masked = structuredClone(ns);
  for (const list of ['containers', 'initContainers']) {
    const n = arr(masked[list]);
    const o = arr(os[list]);
    if (n.length === o.length) n.forEach((c, i) => obj(c) && obj(o[i]) && (c.image = o[i].image));
  }
  masked.activeDeadlineSeconds = os.activeDeadlineSeconds;
  masked.tolerations = os.tolerations;
  if (typeof os.terminationGracePeriodSeconds === 'number' && os.terminationGracePeriodSeconds < 0 && ns.terminationGracePeriodSeconds === 1) {
    masked.terminationGracePeriodSeconds = os.terminationGracePeriodSeconds;
  }
  // Scheduling gates may only be removed.
  if (arr(ns.schedulingGates).every((g) => arr(os.schedulingGates).some((o) => same(o, g)))) masked.schedulingGates = os.schedulingGates;
  if (!same(masked, os)) {
    const changed = diffPaths(masked, os, 'spec');
    errs.push(Forbidden('spec', `${POD_UPDATE_MSG}${changed.length ? ` (changed: ${changed.join(', ')})` : ''}`));
  }
  return errs;
}
