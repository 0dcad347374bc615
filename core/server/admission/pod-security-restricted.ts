/**
 * The Pod Security Standards' restricted checks (on top of the baseline ones), as
 * k8s.io/pod-security-admission/policy has them, with Kubernetes' exact reasons and details.
 */
import { containers, containersPhrase, joinQuote, plural, seccomp, setters, sorted, type Meta, type Violation } from './pod-security-checks.ts';

const RESTRICTED_VOLUME_OK = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'];
const VOLUME_TYPES = [
  'hostPath', 'gcePersistentDisk', 'awsElasticBlockStore', 'gitRepo', 'nfs', 'iscsi', 'glusterfs', 'rbd', 'flexVolume', 'cinder', 'cephfs', 'flocker', 'fc',
  'azureFile', 'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk', 'portworxVolume', 'scaleIO', 'storageos',
];

export function allowPrivilegeEscalation(_m: Meta, spec: any): Violation | undefined {
  const bad = containers(spec).filter((c) => c.securityContext?.allowPrivilegeEscalation !== false).map((c) => c.name);
  if (!bad.length) return undefined;
  return { reason: 'allowPrivilegeEscalation != false', detail: `${containersPhrase(bad)} must set securityContext.allowPrivilegeEscalation=false` };
}

export function capabilitiesRestricted(_m: Meta, spec: any): Violation | undefined {
  const missingDrop: string[] = [];
  const adding: string[] = [];
  const caps = new Set<string>();
  for (const c of containers(spec)) {
    const cap = c.securityContext?.capabilities;
    if (!cap) {
      missingDrop.push(c.name);
      continue;
    }
    if (!(cap.drop ?? []).includes('ALL')) missingDrop.push(c.name);
    const added: string[] = (cap.add ?? []).filter((a: string) => a !== 'NET_BIND_SERVICE');
    if (added.length) {
      adding.push(c.name);
      for (const a of added) caps.add(a);
    }
  }
  const details: string[] = [];
  if (missingDrop.length) details.push(`${containersPhrase(missingDrop)} must set securityContext.capabilities.drop=["ALL"]`);
  if (adding.length) details.push(`${containersPhrase(adding)} must not include ${joinQuote(sorted(caps))} in securityContext.capabilities.add`);
  return details.length ? { reason: 'unrestricted capabilities', detail: details.join('; ') } : undefined;
}

export function restrictedVolumes(_m: Meta, spec: any): Violation | undefined {
  const bad: string[] = [];
  const types = new Set<string>();
  for (const v of spec?.volumes ?? []) {
    if (RESTRICTED_VOLUME_OK.some((t) => v[t])) continue;
    bad.push(v.name);
    types.add(VOLUME_TYPES.find((t) => v[t]) ?? 'unknown');
  }
  if (!bad.length) return undefined;
  const list = sorted(types);
  return {
    reason: 'restricted volume types',
    detail: `${plural('volume', 'volumes', bad.length)} ${joinQuote(bad)} ${plural('uses', 'use', bad.length)} ${plural('restricted volume type', 'restricted volume types', list.length)} ${joinQuote(list)}`,
  };
}

export function runAsNonRoot(_m: Meta, spec: any): Violation | undefined {
  const pod = spec?.securityContext?.runAsNonRoot;
  const explicit: string[] = [];
  const implicit: string[] = [];
  for (const c of containers(spec)) {
    const v = c.securityContext?.runAsNonRoot;
    if (v !== undefined && v !== null) {
      if (!v) explicit.push(c.name);
    } else if (pod !== true) {
      implicit.push(c.name);
    }
  }
  const bad = setters(pod === false, explicit);
  if (bad.length) return { reason: 'runAsNonRoot != true', detail: `${bad.join(' and ')} must not set securityContext.runAsNonRoot=false` };
  if (implicit.length) return { reason: 'runAsNonRoot != true', detail: `pod or ${containersPhrase(implicit)} must set securityContext.runAsNonRoot=true` };
  return undefined;
}

export function runAsUser(_m: Meta, spec: any): Violation | undefined {
  const bad = setters(spec?.securityContext?.runAsUser === 0, containers(spec).filter((c) => c.securityContext?.runAsUser === 0).map((c) => c.name));
  return bad.length ? { reason: 'runAsUser=0', detail: `${bad.join(' and ')} must not set runAsUser=0` } : undefined;
}

export function seccompRestricted(_m: Meta, spec: any): Violation | undefined {
  return seccomp(spec, true);
}
