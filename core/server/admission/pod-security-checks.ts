/**
 * The Pod Security Standards' baseline checks, as k8s.io/pod-security-admission/policy has them
 * (one function per check), and the helpers the restricted checks (pod-security-restricted.ts)
 * share. A check returns undefined (allowed) or a forbidden reason and detail in Kubernetes'
 * exact words, e.g. `privileged` + `container "c" must not set securityContext.privileged=true`.
 */
export type Level = 'privileged' | 'baseline' | 'restricted';
/** A policy version: the minor of v1.<minor>, or 'latest'. */
export type Version = number | 'latest';

export interface LevelVersion {
  level: Level;
  version: Version;
}

export interface Violation {
  reason: string;
  detail: string;
}

export type Meta = { annotations?: Record<string, string> };
export type CheckFn = (meta: Meta, spec: any) => Violation | undefined;

export const joinQuote = (items: string[]) => (items.length ? `"${items.join('", "')}"` : '');
export const plural = (one: string, many: string, n: number) => (n === 1 ? one : many);
export const sorted = (s: Iterable<string>) => [...new Set(s)].sort();
export const containersPhrase = (names: string[]) => `${plural('container', 'containers', names.length)} ${joinQuote(names)}`;

/** Init containers, then containers, then ephemeral containers (Kubernetes' visit order). */
export function containers(spec: any): any[] {
  return [...(spec?.initContainers ?? []), ...(spec?.containers ?? []), ...(spec?.ephemeralContainers ?? [])];
}

export function setters(podBad: boolean, badContainers: string[]): string[] {
  const out = podBad ? ['pod'] : [];
  if (badContainers.length) out.push(containersPhrase(badContainers));
  return out;
}

const BASELINE_CAPABILITIES = new Set([
  'AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT',
]);
const SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t']);
export const SYSCTLS_1_0 = ['kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range', 'net.ipv4.ip_unprivileged_port_start'];
export const SYSCTLS_1_27 = [...SYSCTLS_1_0, 'net.ipv4.ip_local_reserved_ports'];
export const SYSCTLS_1_29 = [...SYSCTLS_1_27, 'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes'];
const SECCOMP_POD_ANNOTATION = 'seccomp.security.alpha.kubernetes.io/pod';
const SECCOMP_CONTAINER_ANNOTATION = 'container.seccomp.security.alpha.kubernetes.io/';
const APPARMOR_ANNOTATION = 'container.apparmor.security.beta.kubernetes.io/';

const validSeccomp = (t: unknown) => t === 'RuntimeDefault' || t === 'Localhost';
const validSeccompAnnotation = (v: string) => v === 'runtime/default' || v === 'docker/default' || v.startsWith('localhost/');

export function appArmorProfile(meta: Meta, spec: any): Violation | undefined {
  const ok = (t: unknown) => t === 'RuntimeDefault' || t === 'Localhost';
  const badSetters: string[] = [];
  const badValues = new Set<string>();
  const podProfile = spec?.securityContext?.appArmorProfile;
  if (podProfile && !ok(podProfile.type)) {
    badSetters.push('pod');
    badValues.add(String(podProfile.type ?? ''));
  }
  const badContainers: string[] = [];
  for (const c of containers(spec)) {
    const p = c.securityContext?.appArmorProfile;
    if (p && !ok(p.type)) {
      badContainers.push(c.name);
      badValues.add(String(p.type ?? ''));
    }
  }
  if (badContainers.length) badSetters.push(containersPhrase(badContainers));
  const annotations = Object.entries(meta.annotations ?? {})
    .filter(([k, v]) => k.startsWith(APPARMOR_ANNOTATION) && !(v === '' || v === 'runtime/default' || v.startsWith('localhost/')))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .sort();
  const values = [...sorted(badValues), ...annotations];
  if (annotations.length) badSetters.push(plural('annotation', 'annotations', annotations.length));
  if (!badSetters.length) return undefined;
  return {
    reason: plural('forbidden AppArmor profile', 'forbidden AppArmor profiles', values.length),
    detail: `${badSetters.join(' and ')} must not set AppArmor profile type to ${joinQuote(values)}`,
  };
}

export function capabilitiesBaseline(_m: Meta, spec: any): Violation | undefined {
  const bad: string[] = [];
  const caps = new Set<string>();
  for (const c of containers(spec)) {
    const added: string[] = (c.securityContext?.capabilities?.add ?? []).filter((a: string) => !BASELINE_CAPABILITIES.has(a));
    if (added.length) {
      bad.push(c.name);
      for (const a of added) caps.add(a);
    }
  }
  if (!bad.length) return undefined;
  return { reason: 'non-default capabilities', detail: `${containersPhrase(bad)} must not include ${joinQuote(sorted(caps))} in securityContext.capabilities.add` };
}

export function hostNamespaces(_m: Meta, spec: any): Violation | undefined {
  const used = (['hostNetwork', 'hostPID', 'hostIPC'] as const).filter((f) => spec?.[f] === true).map((f) => `${f}=true`);
  return used.length ? { reason: 'host namespaces', detail: used.join(', ') } : undefined;
}

export function hostPathVolumes(_m: Meta, spec: any): Violation | undefined {
  const vols = (spec?.volumes ?? []).filter((v: any) => v.hostPath).map((v: any) => v.name as string);
  return vols.length ? { reason: 'hostPath volumes', detail: `${plural('volume', 'volumes', vols.length)} ${joinQuote(vols)}` } : undefined;
}

export function hostPorts(_m: Meta, spec: any): Violation | undefined {
  const bad: string[] = [];
  const ports = new Set<string>();
  for (const c of containers(spec)) {
    const hp = (c.ports ?? []).filter((p: any) => p.hostPort).map((p: any) => String(p.hostPort));
    if (hp.length) {
      bad.push(c.name);
      for (const p of hp) ports.add(p);
    }
  }
  if (!bad.length) return undefined;
  const list = sorted(ports);
  return {
    reason: 'hostPort',
    detail: `${containersPhrase(bad)} ${plural('uses', 'use', bad.length)} ${plural('hostPort', 'hostPorts', list.length)} ${list.join(', ')}`,
  };
}

export function privileged(_m: Meta, spec: any): Violation | undefined {
  const bad = containers(spec).filter((c) => c.securityContext?.privileged === true).map((c) => c.name);
  return bad.length ? { reason: 'privileged', detail: `${containersPhrase(bad)} must not set securityContext.privileged=true` } : undefined;
}

export function procMount(_m: Meta, spec: any): Violation | undefined {
  const bad: string[] = [];
  const types = new Set<string>();
  for (const c of containers(spec)) {
    const pm = c.securityContext?.procMount;
    if (pm !== undefined && pm !== null && pm !== 'Default') {
      bad.push(c.name);
      types.add(String(pm));
    }
  }
  return bad.length ? { reason: 'procMount', detail: `${containersPhrase(bad)} must not set securityContext.procMount to ${joinQuote(sorted(types))}` } : undefined;
}

export function seLinuxOptions(_m: Meta, spec: any): Violation | undefined {
  const badTypes = new Set<string>();
  let setUser = false;
  let setRole = false;
  const valid = (o: any): boolean => {
    let ok = true;
    if (!SELINUX_TYPES.has(o.type ?? '')) {
      ok = false;
      badTypes.add(o.type);
    }
    if (o.user) {
      ok = false;
      setUser = true;
    }
    if (o.role) {
      ok = false;
      setRole = true;
    }
    return ok;
  };
  const podBad = !!spec?.securityContext?.seLinuxOptions && !valid(spec.securityContext.seLinuxOptions);
  const badContainers = containers(spec).filter((c) => c.securityContext?.seLinuxOptions && !valid(c.securityContext.seLinuxOptions)).map((c) => c.name);
  const bad = setters(podBad, badContainers);
  if (!bad.length) return undefined;
  // As in Kubernetes, user/role are only named alongside a bad type.
  const data: string[] = [];
  if (badTypes.size) {
    const t = sorted(badTypes);
    data.push(`${plural('type', 'types', t.length)} ${joinQuote(t)}`);
    if (setUser) data.push('user may not be set');
    if (setRole) data.push('role may not be set');
  }
  return { reason: 'seLinuxOptions', detail: `${bad.join(' and ')} set forbidden securityContext.seLinuxOptions: ${data.join('; ')}` };
}

export function seccompBaseline_1_0(meta: Meta, spec: any): Violation | undefined {
  const a = meta.annotations ?? {};
  const bad = new Set<string>();
  if (a[SECCOMP_POD_ANNOTATION] !== undefined && !validSeccompAnnotation(a[SECCOMP_POD_ANNOTATION]!)) bad.add(`${SECCOMP_POD_ANNOTATION}=${JSON.stringify(a[SECCOMP_POD_ANNOTATION])}`);
  for (const c of containers(spec)) {
    const k = SECCOMP_CONTAINER_ANNOTATION + c.name;
    if (a[k] !== undefined && !validSeccompAnnotation(a[k]!)) bad.add(`${k}=${JSON.stringify(a[k])}`);
  }
  if (!bad.size) return undefined;
  return { reason: 'seccompProfile', detail: `forbidden ${plural('annotation', 'annotations', bad.size)} ${sorted(bad).join(', ')}` };
}

/** seccompProfile.type: RuntimeDefault or Localhost when set; `restricted` also requires it set (pod or every container). */
export function seccomp(spec: any, restricted: boolean): Violation | undefined {
  const values = new Set<string>();
  const podProfile = spec?.securityContext?.seccompProfile;
  const podBad = !!podProfile && !validSeccomp(podProfile.type);
  if (podBad) values.add(String(podProfile.type ?? ''));
  const podSet = !!podProfile && !podBad;
  const explicit: string[] = [];
  const implicit: string[] = [];
  for (const c of containers(spec)) {
    const p = c.securityContext?.seccompProfile;
    if (p) {
      if (!validSeccomp(p.type)) {
        explicit.push(c.name);
        values.add(String(p.type ?? ''));
      }
    } else if (!podSet) {
      implicit.push(c.name);
    }
  }
  const bad = setters(podBad, explicit);
  if (bad.length) return { reason: 'seccompProfile', detail: `${bad.join(' and ')} must not set securityContext.seccompProfile.type to ${joinQuote(sorted(values))}` };
  if (restricted && implicit.length) {
    return { reason: 'seccompProfile', detail: `pod or ${containersPhrase(implicit)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"` };
  }
  return undefined;
}

export const sysctls = (allowed: string[]): CheckFn => (_m, spec) => {
  const ok = new Set(allowed);
  const bad = (spec?.securityContext?.sysctls ?? []).map((s: any) => s.name as string).filter((n: string) => !ok.has(n));
  return bad.length ? { reason: 'forbidden sysctls', detail: bad.join(', ') } : undefined;
};

export function windowsHostProcess(_m: Meta, spec: any): Violation | undefined {
  const bad = setters(
    spec?.securityContext?.windowsOptions?.hostProcess === true,
    containers(spec).filter((c) => c.securityContext?.windowsOptions?.hostProcess === true).map((c) => c.name),
  );
  return bad.length ? { reason: 'hostProcess', detail: `${bad.join(' and ')} must not set securityContext.windowsOptions.hostProcess=true` } : undefined;
}
