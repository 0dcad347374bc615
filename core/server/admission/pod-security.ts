/**
 * PodSecurity admission, as Kubernetes' built-in plugin: a namespace's labels
 *   pod-security.kubernetes.io/<mode>: privileged | baseline | restricted
 *   pod-security.kubernetes.io/<mode>-version: latest | v1.<minor>
 * (mode = enforce, warn or audit) pick the Pod Security Standard its pods are held to.
 *
 *  - enforce: a pod (create, or an update that changes an image or a seccomp annotation) that
 *    violates the level is Forbidden:
 *      pods "x" is forbidden: violates PodSecurity "baseline:latest": privileged (container "c" …)
 *  - warn: the write goes through with a warning, `would violate PodSecurity "restricted:latest": …`
 *    (the HTTP API sends it as a `Warning: 299` header, which kubectl prints). Warn defaults to the
 *    enforce level when only enforce is set (Kubernetes ≥ 1.26).
 *  - workloads (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob) are never rejected:
 *    their pod templates are checked against the warn level only, as in Kubernetes — the pods
 *    their controllers create are what enforce applies to.
 *  - audit: Wheelhouse keeps no audit log, so the label is accepted and validated but has no effect.
 *
 * No label means privileged (nothing is checked), and no namespace is exempt — kube-system
 * included — as in Kubernetes' defaults. Invalid label values are refused on the Namespace (422);
 * on pods they evaluate as Kubernetes does (an invalid enforce level means restricted).
 * Tightening a namespace's enforce level leaves its running pods alone and warns about those
 * that would now be refused.
 */
import { ApiError, isApiError } from '../../api/errors.ts';
import type { KubeObject } from '../../api/types.ts';
import type { AdmissionAttributes, AdmissionPlugin } from './chain.ts';
import {
  appArmorProfile, capabilitiesBaseline, hostNamespaces, hostPathVolumes, hostPorts, privileged, procMount, seccomp, seccompBaseline_1_0, seLinuxOptions,
  sysctls, SYSCTLS_1_0, SYSCTLS_1_27, SYSCTLS_1_29, windowsHostProcess, type CheckFn, type Level, type LevelVersion, type Meta, type Version, type Violation,
} from './pod-security-checks.ts';
import { allowPrivilegeEscalation, capabilitiesRestricted, restrictedVolumes, runAsNonRoot, runAsUser, seccompRestricted } from './pod-security-restricted.ts';

export const POD_SECURITY_LABEL_PREFIX = 'pod-security.kubernetes.io/';
const MODES = ['enforce', 'audit', 'warn'] as const;
type Mode = (typeof MODES)[number];
const LEVELS: Level[] = ['privileged', 'baseline', 'restricted'];
const WORKLOAD_KINDS = new Set(['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob']);
/** As Kubernetes: at most this many existing pods are checked when a namespace's enforce level tightens. */
const MAX_PODS_TO_CHECK = 3000;

export type Policy = Record<Mode, LevelVersion>;

interface Check {
  id: string;
  level: 'baseline' | 'restricted';
  /** A baseline check that only runs at `baseline` (a restricted check covers it at `restricted`). */
  overlap?: boolean;
  /** Newest last: the newest whose minimum version is ≤ the policy version applies. */
  versions: Array<{ min: number; fn: CheckFn }>;
}

/** The minor version `latest` means: the server's (VERSION_INFO is v1.30). */
export const LATEST_MINOR = 30;

/**
 * The checks in the order Kubernetes registers them (by file name). A policy runs the baseline
 * checks, then at `restricted` the restricted ones, or at `baseline` the "overlapping" baseline
 * checks a stricter restricted check replaces (capabilities, hostPath volumes, seccomp).
 */
const CHECKS: Check[] = [
  { id: 'allowPrivilegeEscalation', level: 'restricted', versions: [{ min: 8, fn: allowPrivilegeEscalation }] },
  { id: 'appArmorProfile', level: 'baseline', versions: [{ min: 0, fn: appArmorProfile }] },
  { id: 'capabilities_baseline', level: 'baseline', overlap: true, versions: [{ min: 0, fn: capabilitiesBaseline }] },
  { id: 'capabilities_restricted', level: 'restricted', versions: [{ min: 22, fn: capabilitiesRestricted }] },
  { id: 'hostNamespaces', level: 'baseline', versions: [{ min: 0, fn: hostNamespaces }] },
  { id: 'hostPathVolumes', level: 'baseline', overlap: true, versions: [{ min: 0, fn: hostPathVolumes }] },
  { id: 'hostPorts', level: 'baseline', versions: [{ min: 0, fn: hostPorts }] },
  { id: 'privileged', level: 'baseline', versions: [{ min: 0, fn: privileged }] },
  { id: 'procMount', level: 'baseline', versions: [{ min: 0, fn: procMount }] },
  { id: 'restrictedVolumes', level: 'restricted', versions: [{ min: 0, fn: restrictedVolumes }] },
  { id: 'runAsNonRoot', level: 'restricted', versions: [{ min: 0, fn: runAsNonRoot }] },
  { id: 'runAsUser', level: 'restricted', versions: [{ min: 23, fn: runAsUser }] },
  { id: 'seLinuxOptions', level: 'baseline', versions: [{ min: 0, fn: seLinuxOptions }] },
  {
    id: 'seccompProfile_baseline',
    level: 'baseline',
    overlap: true,
    versions: [{ min: 0, fn: seccompBaseline_1_0 }, { min: 19, fn: (_m, spec) => seccomp(spec, false) }],
  },
  { id: 'seccompProfile_restricted', level: 'restricted', versions: [{ min: 19, fn: seccompRestricted }] },
  { id: 'sysctls', level: 'baseline', versions: [{ min: 0, fn: sysctls(SYSCTLS_1_0) }, { min: 27, fn: sysctls(SYSCTLS_1_27) }, { min: 29, fn: sysctls(SYSCTLS_1_29) }] },
  { id: 'windowsHostProcess', level: 'baseline', versions: [{ min: 0, fn: windowsHostProcess }] },
];

function fnFor(check: Check, minor: number): CheckFn | undefined {
  let fn: CheckFn | undefined;
  for (const v of check.versions) if (v.min <= minor) fn = v.fn;
  return fn;
}

/** Every violation of the policy `lv` by a pod's metadata and spec, in Kubernetes' order. */
export function evaluatePod(lv: LevelVersion, meta: Meta | undefined, spec: unknown): Violation[] {
  if (lv.level === 'privileged') return [];
  const minor = lv.version === 'latest' ? LATEST_MINOR : Math.min(lv.version, LATEST_MINOR);
  const order = [
    ...CHECKS.filter((c) => c.level === 'baseline' && !c.overlap),
    ...CHECKS.filter((c) => (lv.level === 'baseline' ? c.level === 'baseline' && c.overlap : c.level === 'restricted')),
  ];
  const out: Violation[] = [];
  for (const c of order) {
    const v = fnFor(c, minor)?.(meta ?? {}, spec ?? {});
    if (v) out.push(v);
  }
  return out;
}

/** `privileged (container "c" must not …), hostPath volumes (volume "v")` */
export function forbiddenDetail(violations: Violation[]): string {
  return violations.map((v) => (v.detail ? `${v.reason} (${v.detail})` : v.reason)).join(', ');
}

/** The pod (or pod template) of a Pod or a workload; undefined when it has none. */
export function podTemplateOf(obj: KubeObject): { meta: Meta; spec: unknown } | undefined {
  if (obj.kind === 'Pod') return { meta: obj.metadata ?? {}, spec: obj.spec ?? {} };
  const template = obj.kind === 'CronJob' ? obj.spec?.jobTemplate?.spec?.template : obj.spec?.template;
  if (!template) return undefined;
  return { meta: template.metadata ?? {}, spec: template.spec ?? {} };
}

export interface PodSecurityDeps {
  /** The namespace object (NotFound when it does not exist). */
  getNamespace(name: string): Promise<KubeObject>;
  listPods(namespace: string): Promise<KubeObject[]>;
}

const strictness = (l: Level) => LEVELS.indexOf(l);
export const levelVersionString = (lv: LevelVersion) => `${lv.level}:${lv.version === 'latest' ? 'latest' : `v1.${lv.version}`}`;

function parseLevel(v: string): Level | undefined {
  return (LEVELS as string[]).includes(v) ? (v as Level) : undefined;
}

function parseVersion(v: string): Version | undefined {
  if (v === 'latest') return 'latest';
  const m = /^v1\.(0|[1-9][0-9]*)$/.exec(v);
  return m ? Number(m[1]) : undefined;
}

/**
 * The policy a namespace's labels give, and the label errors (Kubernetes' field errors). A valid
 * policy always comes back: an unparsable enforce level is restricted, warn/audit fail open.
 */
export function policyFromLabels(labels: Record<string, string> | undefined): { policy: Policy; errors: string[] } {
  const policy: Policy = {
    enforce: { level: 'privileged', version: 'latest' },
    audit: { level: 'privileged', version: 'latest' },
    warn: { level: 'privileged', version: 'latest' },
  };
  const errors: string[] = [];
  const l = labels ?? {};
  const invalid = (label: string, value: string, why: string) => errors.push(`metadata.labels[${label}]: Invalid value: ${JSON.stringify(value)}: ${why}`);
  for (const mode of MODES) {
    const levelKey = POD_SECURITY_LABEL_PREFIX + mode;
    const versionKey = `${levelKey}-version`;
    if (l[levelKey] !== undefined) {
      const level = parseLevel(l[levelKey]!);
      if (!level) invalid(levelKey, l[levelKey]!, `must be one of ${LEVELS.join(', ')}`);
      policy[mode].level = level ?? (mode === 'enforce' ? 'restricted' : 'privileged');
    }
    if (l[versionKey] !== undefined) {
      const version = parseVersion(l[versionKey]!);
      if (version === undefined) invalid(versionKey, l[versionKey]!, 'must be "latest" or "v1.x"');
      policy[mode].version = version ?? 'latest';
    }
  }
  // Warn defaults to a stricter enforce level (kubernetes/kubernetes#113491).
  const enforceLevel = l[POD_SECURITY_LABEL_PREFIX + 'enforce'];
  if (enforceLevel !== undefined && parseLevel(enforceLevel) && l[POD_SECURITY_LABEL_PREFIX + 'warn'] === undefined) {
    if (strictness(policy.enforce.level) > strictness(policy.warn.level)) {
      policy.warn.level = policy.enforce.level;
      if (l[POD_SECURITY_LABEL_PREFIX + 'warn-version'] === undefined) policy.warn.version = policy.enforce.version;
    }
  }
  return { policy, errors };
}

const sameLV = (a: LevelVersion, b: LevelVersion) => a.level === b.level && a.version === b.version;

/** Pod updates Kubernetes re-checks: another image, seccomp annotations, containers added or removed. */
function isSignificantPodUpdate(pod: KubeObject, old: KubeObject): boolean {
  const a = pod.metadata?.annotations ?? {};
  const b = old.metadata?.annotations ?? {};
  const seccompPod = 'seccomp.security.alpha.kubernetes.io/pod';
  if (a[seccompPod] !== b[seccompPod]) return true;
  const changed = (c: any, o: any) => {
    const key = `container.seccomp.security.alpha.kubernetes.io/${c.name}`;
    return c.image !== o.image || a[key] !== b[key];
  };
  for (const field of ['containers', 'initContainers'] as const) {
    const now: any[] = pod.spec?.[field] ?? [];
    const before: any[] = old.spec?.[field] ?? [];
    if (now.length !== before.length) return true;
    if (now.some((c, i) => changed(c, before[i]))) return true;
  }
  for (const c of pod.spec?.ephemeralContainers ?? []) {
    const o = (old.spec?.ephemeralContainers ?? []).find((x: any) => x.name === c.name);
    if (!o || changed(c, o)) return true;
  }
  return false;
}

export function podSecurityAdmission(deps: PodSecurityDeps): AdmissionPlugin {
  const policyOf = async (namespace: string | undefined): Promise<Policy | undefined> => {
    if (!namespace) return undefined;
    try {
      return policyFromLabels((await deps.getNamespace(namespace)).metadata?.labels).policy;
    } catch (e) {
      if (isApiError(e, 'NotFound')) return undefined; // the API layer refuses the write anyway
      throw e;
    }
  };

  /** `would violate PodSecurity "…": …` when the pod (template) breaks the warn level. */
  const warnOf = (policy: Policy, meta: any, spec: unknown): string | undefined => {
    if (policy.warn.level === 'privileged') return undefined;
    const v = evaluatePod(policy.warn, meta, spec);
    return v.length ? `would violate PodSecurity "${levelVersionString(policy.warn)}": ${forbiddenDetail(v)}` : undefined;
  };

  async function validatePod(a: AdmissionAttributes): Promise<void> {
    if (a.operation === 'UPDATE' && a.oldObject && !isSignificantPodUpdate(a.object, a.oldObject)) return;
    const policy = await policyOf(a.namespace);
    if (!policy) return;
    const t = podTemplateOf(a.object)!;
    const violations = evaluatePod(policy.enforce, t.meta, t.spec);
    if (violations.length) {
      throw new ApiError(
        'Forbidden',
        `pods "${a.name}" is forbidden: violates PodSecurity "${levelVersionString(policy.enforce)}": ${forbiddenDetail(violations)}`,
        { name: a.name, kind: 'pods' },
      );
    }
    const w = warnOf(policy, t.meta, t.spec);
    if (w) a.warnings.push(w);
  }

  async function validateWorkload(a: AdmissionAttributes): Promise<void> {
    const t = podTemplateOf(a.object);
    if (!t) return;
    const policy = await policyOf(a.namespace);
    if (!policy) return;
    const w = warnOf(policy, t.meta, t.spec);
    if (w) a.warnings.push(w);
  }

  async function validateNamespace(a: AdmissionAttributes): Promise<void> {
    const next = policyFromLabels(a.object.metadata?.labels);
    if (next.errors.length) {
      const before = a.operation === 'UPDATE' ? policyFromLabels(a.oldObject?.metadata?.labels) : undefined;
      if (!before || before.errors.join('\n') !== next.errors.join('\n')) {
        throw new ApiError('Invalid', next.errors.length === 1 ? next.errors[0]! : `[${next.errors.join(', ')}]`);
      }
    }
    if (a.operation !== 'UPDATE' || !a.oldObject) return;
    const oldEnforce = policyFromLabels(a.oldObject.metadata?.labels).policy.enforce;
    const enforce = next.policy.enforce;
    if (sameLV(enforce, oldEnforce) || enforce.level === 'privileged') return;
    if (enforce.version === oldEnforce.version && strictness(enforce.level) <= strictness(oldEnforce.level)) return;
    a.warnings.push(...(await existingPodWarnings(a.name, enforce)));
  }

  /** Running pods are never evicted by a new enforce level; their violations come back as warnings. */
  async function existingPodWarnings(namespace: string, enforce: LevelVersion): Promise<string[]> {
    const all = await deps.listPods(namespace);
    const pods = all.slice(0, MAX_PODS_TO_CHECK);
    const byReason = new Map<string, { first: string; count: number }>();
    for (const p of pods) {
      const v = evaluatePod(enforce, p.metadata, p.spec);
      if (!v.length) continue;
      const reason = v.map((x) => x.reason).join(', ');
      const name = p.metadata?.name ?? '';
      const seen = byReason.get(reason);
      if (!seen) byReason.set(reason, { first: name, count: 1 });
      else {
        seen.count++;
        if (name < seen.first) seen.first = name;
      }
    }
    const out: string[] = [];
    if (pods.length < all.length) out.push(`new PodSecurity enforce level only checked against the first ${pods.length} of ${all.length} existing pods`);
    if (byReason.size) out.push(`existing pods in namespace "${namespace}" violate the new PodSecurity enforce level "${levelVersionString(enforce)}"`);
    const perPod = [...byReason].map(([reason, { first, count }]) =>
      count === 1 ? `${first}: ${reason}` : count === 2 ? `${first} (and 1 other pod): ${reason}` : `${first} (and ${count - 1} other pods): ${reason}`,
    );
    return [...out, ...perPod.sort()];
  }

  return {
    name: 'PodSecurity',
    async validate(a) {
      if (a.operation !== 'CREATE' && a.operation !== 'UPDATE') return;
      if (a.subresource) return; // status, binding, eviction, scale …
      const kind = a.info.group === '' ? a.info.kind : '';
      if (kind === 'Namespace') return validateNamespace(a);
      if (kind === 'Pod') return validatePod(a);
      if (WORKLOAD_KINDS.has(a.info.kind) && (a.info.group === 'apps' || a.info.group === 'batch')) return validateWorkload(a);
    },
  };
}
