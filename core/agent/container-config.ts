/**
 * A pod's container spec → the runtime's container config, as the kubelet builds it: environment
 * (envFrom with prefixes, env with `$(VAR)` expansion and valueFrom sources, service variables),
 * command and args expanded against it, resources (limits → memory and CPU quota, requests.cpu →
 * CPU shares) and the security context (pod-level defaults, container-level overrides). A missing
 * ConfigMap/Secret or key throws ConfigError with the kubelet's message (→ CreateContainerConfigError).
 */
import type * as k8s from 'kubernetes-types/core/v1.js';
import { parseQuantity, type ResourceList } from '../api/quantity.ts';
import type { EnvVar, Resources, SecurityContext } from '../runtime/runtime.ts';
import { sourceData } from './config-sources.ts';
import { DownwardError, fieldRefValue, resourceFieldValue, type PodAddresses } from './downward.ts';
import { serviceEnv } from './service-env.ts';
import type { ConfigSources } from './types.ts';
import { podDesc, type Pod } from './util.ts';

/** The container cannot be configured (→ waiting reason CreateContainerConfigError). */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface EnvInputs {
  pod: Pod;
  container: k8s.Container;
  sources: ConfigSources;
  addr: PodAddresses;
  allocatable: ResourceList;
  /** Told about envFrom keys skipped as invalid names (the kubelet's InvalidEnvironmentVariableNames event). */
  onInvalidKeys?: (keys: string[], kind: 'configMap' | 'secret', name: string) => void;
}

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/**
 * The container's environment as the kubelet's makeEnvironmentVariables builds it: envFrom, then env
 * entries override (`$(VAR)` may name either, or a service variable); then the service variables
 * (see service-env.ts) that no explicit entry overrides.
 */
export function makeEnv(i: EnvInputs): EnvVar[] {
  const { pod, container } = i;
  const ns = pod.metadata.namespace ?? 'default';
  const env = new Map<string, string>();
  const services = serviceEnv(pod, i.sources);
  const lookup: EnvLookup = { has: (k) => env.has(k) || services.has(k), get: (k) => (env.has(k) ? env.get(k) : services.get(k)) };
  const cache = new Map<string, Map<string, Buffer> | null>();
  const load = (kind: 'ConfigMap' | 'Secret', name: string, optional: boolean): Map<string, Buffer> | null => {
    const key = `${kind}/${name}`;
    if (cache.has(key)) return cache.get(key)!;
    const obj = kind === 'ConfigMap' ? i.sources.configMap(ns, name) : i.sources.secret(ns, name);
    if (!obj) {
      if (optional) return null;
      throw new ConfigError(`${kind === 'ConfigMap' ? 'configmap' : 'secret'} "${name}" not found`);
    }
    const data = sourceData(obj, kind);
    cache.set(key, data);
    return data;
  };

  for (const from of container.envFrom ?? []) {
    const ref = from.configMapRef ?? from.secretRef;
    if (!ref?.name) continue;
    const kind = from.configMapRef ? 'ConfigMap' : 'Secret';
    const data = load(kind, ref.name, ref.optional === true);
    if (!data) continue;
    const invalid: string[] = [];
    for (const [k, v] of data) {
      const name = (from.prefix ?? '') + k;
      if (!ENV_NAME.test(name)) {
        invalid.push(name);
        continue;
      }
      env.set(name, v.toString('utf8'));
    }
    if (invalid.length) i.onInvalidKeys?.(invalid.sort(), kind === 'ConfigMap' ? 'configMap' : 'secret', ref.name);
  }

  for (const e of container.env ?? []) {
    let value = e.value ?? '';
    const vf = e.valueFrom;
    if (value !== '') {
      value = expand(value, lookup);
    } else if (vf) {
      try {
        if (vf.fieldRef) value = fieldRefValue(pod, vf.fieldRef.fieldPath, i.addr);
        else if (vf.resourceFieldRef) value = resourceFieldValue(pod, vf.resourceFieldRef, container.name, i.allocatable);
        else if (vf.configMapKeyRef || vf.secretKeyRef) {
          const ref = (vf.configMapKeyRef ?? vf.secretKeyRef)!;
          const kind = vf.configMapKeyRef ? 'ConfigMap' : 'Secret';
          const optional = ref.optional === true;
          const data = load(kind, ref.name ?? '', optional);
          if (!data) continue;
          const v = data.get(ref.key);
          if (v === undefined) {
            if (optional) continue;
            throw new ConfigError(`couldn't find key ${ref.key} in ${kind} ${ns}/${ref.name}`);
          }
          value = v.toString('utf8');
        }
      } catch (err) {
        if (err instanceof DownwardError) throw new ConfigError(err.message);
        throw err;
      }
    }
    env.set(e.name, value);
  }
  for (const [k, v] of services) if (!env.has(k)) env.set(k, v);
  return [...env].map(([name, value]) => ({ name, value }));
}

/** Where `$(VAR)` looks names up. */
export interface EnvLookup {
  has(name: string): boolean;
  get(name: string): string | undefined;
}

/**
 * Kubernetes' `$(VAR)` expansion: `$(VAR)` becomes VAR's value when defined (else stays as is),
 * `$$` is an escaped `$`, any other `$` is kept.
 */
export function expand(input: string, env: EnvLookup): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    const ch = input[i]!;
    if (ch !== '$' || i + 1 >= input.length) {
      out += ch;
      continue;
    }
    const next = input[i + 1]!;
    if (next === '$') {
      out += '$';
      i++;
    } else if (next === '(') {
      const close = input.indexOf(')', i + 2);
      if (close < 0) {
        out += input.slice(i);
        break;
      }
      const name = input.slice(i + 2, close);
      out += env.has(name) ? env.get(name)! : `$(${name})`;
      i = close;
    } else {
      out += ch;
    }
  }
  return out;
}

export function expandAll(list: string[] | undefined, env: EnvVar[]): string[] | undefined {
  if (!list) return undefined;
  const map = new Map(env.map((e) => [e.name, e.value]));
  return list.map((s) => expand(s, map));
}

const MIN_SHARES = 2;
const MAX_SHARES = 262_144;

/** requests.cpu (in millicores) → cgroup CPU shares, the kubelet's MilliCPUToShares. */
export function milliCpuToShares(milli: number): number {
  if (milli <= 0) return MIN_SHARES;
  const shares = Math.floor((milli * 1024) / 1000);
  return Math.min(MAX_SHARES, Math.max(MIN_SHARES, shares));
}

/** limits.memory → memory limit; limits.cpu → NanoCpus (the CFS quota); requests.cpu → shares. */
export function containerResources(c: k8s.Container): Resources {
  const limits = (c.resources?.limits ?? {}) as Record<string, string>;
  const requests = (c.resources?.requests ?? {}) as Record<string, string>;
  const out: Resources = {};
  if (limits.memory !== undefined) out.memoryLimitBytes = Number(parseQuantity(String(limits.memory)).value());
  if (limits.cpu !== undefined) {
    const milli = Number(parseQuantity(String(limits.cpu)).milliValue());
    // The kubelet's minimum CFS quota is 1 ms per 100 ms period: 10m.
    if (milli > 0) out.nanoCpus = Math.max(milli, 10) * 1_000_000;
  }
  const req = requests.cpu ?? limits.cpu;
  out.cpuShares = milliCpuToShares(req === undefined ? 0 : Number(parseQuantity(String(req)).milliValue()));
  return out;
}

/** Pod-level securityContext as defaults, the container's own on top. */
export function securityContextFor(pod: Pod, c: k8s.Container): SecurityContext {
  const psc = pod.spec.securityContext ?? {};
  const sc = c.securityContext ?? {};
  const out: SecurityContext = {};
  const runAsUser = sc.runAsUser ?? psc.runAsUser;
  const runAsGroup = sc.runAsGroup ?? psc.runAsGroup;
  if (runAsUser !== undefined) out.runAsUser = runAsUser;
  if (runAsGroup !== undefined) out.runAsGroup = runAsGroup;
  const groups = [...(psc.supplementalGroups ?? []), ...(psc.fsGroup !== undefined ? [psc.fsGroup] : [])];
  if (groups.length) out.supplementalGroups = [...new Set(groups)];
  if (sc.readOnlyRootFilesystem) out.readOnlyRootFilesystem = true;
  if (sc.privileged) out.privileged = true;
  if (sc.allowPrivilegeEscalation !== undefined) out.allowPrivilegeEscalation = sc.allowPrivilegeEscalation;
  if (sc.capabilities?.add?.length) out.capAdd = [...sc.capabilities.add];
  if (sc.capabilities?.drop?.length) out.capDrop = [...sc.capabilities.drop];
  const nonRoot = sc.runAsNonRoot ?? psc.runAsNonRoot;
  if (nonRoot && runAsUser === 0) {
    throw new ConfigError(`container's runAsUser breaks non-root policy (pod: "${podDesc(pod)}", container: ${c.name})`);
  }
  return out;
}
