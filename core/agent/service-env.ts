/**
 * Service environment variables, as the kubelet injects them into every container
 * (pkg/kubelet/kubelet_pods.go getServiceEnvVarMap, pkg/kubelet/envvars):
 *
 * - for each Service of the pod's namespace that has a cluster IP (not headless, not
 *   ExternalName), when `spec.enableServiceLinks` is not false;
 * - and always for the master Service, `kubernetes` in `default` (a Service of that name in the
 *   pod's own namespace takes its place when links are on).
 *
 * `REDIS_MASTER_SERVICE_HOST=10.96.4.7`, `REDIS_MASTER_SERVICE_PORT=6379`,
 * `REDIS_MASTER_SERVICE_PORT_<NAME>` per named port, and the Docker-link variables
 * `REDIS_MASTER_PORT=tcp://10.96.4.7:6379`, `REDIS_MASTER_PORT_6379_TCP{,_PROTO,_PORT,_ADDR}`.
 * What the cache holds when the container starts is what it gets; a later change does not
 * restart anything, exactly as in Kubernetes.
 */
import type { KubeObject } from '../api/types.ts';
import type { ConfigSources } from './types.ts';
import type { Pod } from './util.ts';

const MASTER_SERVICES = new Set(['kubernetes']);

/** The pod's service variables (name → value), Services in name order. */
export function serviceEnv(pod: Pod, sources: ConfigSources): Map<string, string> {
  const ns = pod.metadata.namespace ?? 'default';
  const chosen = new Map<string, KubeObject>();
  for (const s of sources.services('default')) {
    if (MASTER_SERVICES.has(s.metadata.name ?? '') && hasServiceIP(s)) chosen.set(s.metadata.name!, s);
  }
  if (pod.spec.enableServiceLinks !== false) {
    for (const s of sources.services(ns)) if (hasServiceIP(s)) chosen.set(s.metadata.name!, s);
  }
  const env = new Map<string, string>();
  const names = [...chosen.keys()].sort();
  for (const name of names) for (const [k, v] of serviceVars(chosen.get(name)!)) env.set(k, v);
  return env;
}

/** IsServiceIPSet: a cluster IP that is neither empty nor None (ExternalName Services have none). */
export function hasServiceIP(svc: KubeObject): boolean {
  const ip = svc.spec?.clusterIP;
  return svc.spec?.type !== 'ExternalName' && typeof ip === 'string' && ip !== '' && ip !== 'None';
}

/** envvars.FromServices for one Service. */
export function serviceVars(svc: KubeObject): Array<[string, string]> {
  const ports: any[] = svc.spec?.ports ?? [];
  if (!hasServiceIP(svc) || ports.length === 0) return [];
  const ip: string = svc.spec.clusterIP;
  const prefix = envName(svc.metadata.name ?? '');
  const out: Array<[string, string]> = [
    [`${prefix}_SERVICE_HOST`, ip],
    [`${prefix}_SERVICE_PORT`, String(ports[0].port)],
  ];
  for (const p of ports) if (p.name) out.push([`${prefix}_SERVICE_PORT_${envName(p.name)}`, String(p.port)]);
  // Docker links: the first port also as <NAME>_PORT.
  const host = ip.includes(':') ? `[${ip}]` : ip;
  ports.forEach((p, i) => {
    const proto = String(p.protocol || 'TCP');
    const url = `${proto.toLowerCase()}://${host}:${p.port}`;
    if (i === 0) out.push([`${prefix}_PORT`, url]);
    const pp = `${prefix}_PORT_${p.port}_${proto.toUpperCase()}`;
    out.push([pp, url], [`${pp}_PROTO`, proto.toLowerCase()], [`${pp}_PORT`, String(p.port)], [`${pp}_ADDR`, ip]);
  });
  return out;
}

/** makeEnvVariableName: upper case, `-` → `_`. */
function envName(s: string): string {
  return s.replaceAll('-', '_').toUpperCase();
}
