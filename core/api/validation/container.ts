/** Containers: names, image, ports, env, resources, probes, lifecycle hooks, volume mounts. */
import { Forbidden, Inv, NotSupported, Req } from '../errors.ts';
import {
  arr, dedupe, filled, has, isConfigMapKey, isDNS1123Label, isDNS1123Subdomain, isEnvVarName, isInt, isStr, isValidPortName,
  isValidPortNum, nonNegative, NotFoundField, obj, oneOf, positive, ReqD, type Errs,
} from './common.ts';
import { validateContainerResources } from './resources.ts';

export const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];
const FIELD_REF_PATHS = [
  'metadata.annotations', 'metadata.labels', 'metadata.name', 'metadata.namespace', 'metadata.uid', 'spec.nodeName',
  'spec.serviceAccountName', 'status.hostIP', 'status.hostIPs', 'status.podIP', 'status.podIPs',
];
const RESOURCE_FIELD_REFS = ['limits.cpu', 'limits.ephemeral-storage', 'limits.memory', 'requests.cpu', 'requests.ephemeral-storage', 'requests.memory'];

export interface ContainerContext {
  /** Volume names the pod declares. */
  volumes: Set<string>;
  /** Container names seen so far, across initContainers and containers. */
  names: Set<string>;
  /** `${protocol}/${hostIP}/${hostPort}` seen so far, across all containers. */
  hostPorts: Set<string>;
  hostNetwork: boolean;
}

/** Validate `containers` or `initContainers` (`init` true) at `path`. */
export function validateContainers(list: unknown, path: string, ctx: ContainerContext, init: boolean): Errs {
  const errs: Errs = [];
  if (list !== undefined && list !== null && !Array.isArray(list)) return [Inv(path, list, 'must be a list of containers')];
  arr(list).forEach((c, i) => errs.push(...validateContainer(c, `${path}[${i}]`, ctx, init)));
  return errs;
}

function validateContainer(c: any, path: string, ctx: ContainerContext, init: boolean): Errs {
  const errs: Errs = [];
  if (!obj(c)) return [Inv(path, c ?? null, 'must be a container object')];
  if (!filled(c.name)) errs.push(Req(`${path}.name`));
  else {
    for (const msg of isDNS1123Label(c.name)) errs.push(Inv(`${path}.name`, c.name, msg));
    errs.push(...dedupe(ctx.names, c.name, `${path}.name`));
  }
  if (!filled(c.image)) errs.push(Req(`${path}.image`));
  else if (c.image.trim() !== c.image) errs.push(Inv(`${path}.image`, c.image, 'must not have leading or trailing whitespace'));
  errs.push(...oneOf(`${path}.imagePullPolicy`, c.imagePullPolicy, PULL_POLICIES));
  errs.push(...oneOf(`${path}.terminationMessagePolicy`, c.terminationMessagePolicy, ['File', 'FallbackToLogsOnError']));
  for (const f of ['command', 'args']) {
    if (has(c[f]) && (!Array.isArray(c[f]) || c[f].some((x: unknown) => !isStr(x)))) {
      errs.push(Inv(`${path}.${f}`, c[f], 'must be a list of strings (quote numbers in YAML)'));
    }
  }
  const sidecar = init && c.restartPolicy === 'Always';
  if (has(c.restartPolicy)) {
    if (!init) errs.push(Forbidden(`${path}.restartPolicy`, 'may not be set for non-init containers'));
    else errs.push(...oneOf(`${path}.restartPolicy`, c.restartPolicy, ['Always']));
  }
  errs.push(...validatePorts(c.ports, `${path}.ports`, ctx));
  errs.push(...validateEnv(c.env, `${path}.env`));
  errs.push(...validateEnvFrom(c.envFrom, `${path}.envFrom`));
  errs.push(...validateContainerResources(c.resources, `${path}.resources`));
  errs.push(...validateVolumeMounts(c.volumeMounts, `${path}.volumeMounts`, ctx.volumes));
  // Lifecycle, then the probes (Kubernetes' order); both only for sidecars among init containers.
  if (has(c.lifecycle)) {
    if (init && !sidecar) errs.push(Forbidden(`${path}.lifecycle`, 'may not be set for init containers without restartPolicy=Always'));
    else {
      for (const hook of ['postStart', 'preStop']) {
        if (has(c.lifecycle[hook])) errs.push(...validateHandler(c.lifecycle[hook], `${path}.lifecycle.${hook}`, true));
      }
    }
  }
  for (const kind of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
    if (!has(c[kind])) continue;
    if (init && !sidecar) errs.push(Forbidden(`${path}.${kind}`, 'may not be set for init containers without restartPolicy=Always'));
    else errs.push(...validateProbe(c[kind], `${path}.${kind}`, kind !== 'readinessProbe'));
  }
  const sc = obj(c.securityContext);
  if (sc) {
    for (const f of ['runAsUser', 'runAsGroup']) errs.push(...nonNegative(`${path}.securityContext.${f}`, sc[f]));
    if (sc.privileged === true && sc.allowPrivilegeEscalation === false) {
      errs.push(Inv(`${path}.securityContext`, sc, 'cannot set `allowPrivilegeEscalation` to false and `privileged` to true'));
    }
  }
  return errs;
}

function validatePorts(ports: unknown, path: string, ctx: ContainerContext): Errs {
  const errs: Errs = [];
  const names = new Set<string>();
  arr(ports).forEach((p: any, i: number) => {
    const ip = `${path}[${i}]`;
    if (!obj(p)) return void errs.push(Inv(ip, p ?? null, 'must be a port object'));
    if (has(p.name) && p.name !== '') {
      const msgs = isStr(p.name) ? isValidPortName(p.name) : ['must be a string'];
      if (msgs.length) for (const msg of msgs) errs.push(Inv(`${ip}.name`, p.name, msg));
      else errs.push(...dedupe(names, p.name, `${ip}.name`));
    }
    if (!has(p.containerPort) || p.containerPort === 0) errs.push(Req(`${ip}.containerPort`));
    else for (const msg of isValidPortNum(p.containerPort)) errs.push(Inv(`${ip}.containerPort`, p.containerPort, msg));
    if (has(p.hostPort) && p.hostPort !== 0) {
      for (const msg of isValidPortNum(p.hostPort)) errs.push(Inv(`${ip}.hostPort`, p.hostPort, msg));
      const key = `${p.protocol ?? 'TCP'}/${p.hostIP ?? ''}/${p.hostPort}`;
      errs.push(...dedupe(ctx.hostPorts, key, `${ip}.hostPort`));
      if (ctx.hostNetwork && p.hostPort !== p.containerPort) {
        errs.push(Inv(`${ip}.containerPort`, p.containerPort, 'must match `hostPort` when `hostNetwork` is true'));
      }
    }
    errs.push(...oneOf(`${ip}.protocol`, p.protocol, PROTOCOLS));
  });
  return errs;
}

function validateEnv(env: unknown, path: string): Errs {
  const errs: Errs = [];
  arr(env).forEach((e: any, i: number) => {
    const ip = `${path}[${i}]`;
    if (!filled(e?.name)) errs.push(Req(`${ip}.name`));
    else for (const msg of isEnvVarName(e.name)) errs.push(Inv(`${ip}.name`, e.name, msg));
    if (has(e?.value) && !isStr(e.value)) errs.push(Inv(`${ip}.value`, e.value, 'must be a string (quote it in YAML)'));
    if (!has(e?.valueFrom)) return;
    const vf = obj(e.valueFrom) ?? {};
    const vp = `${ip}.valueFrom`;
    const sources = ['fieldRef', 'resourceFieldRef', 'configMapKeyRef', 'secretKeyRef'].filter((s) => has(vf[s]));
    if (has(vf.fieldRef)) {
      const fp = vf.fieldRef.fieldPath;
      if (!filled(fp)) errs.push(Req(`${vp}.fieldRef.fieldPath`));
      else if (!FIELD_REF_PATHS.includes(fp) && !/^metadata\.(labels|annotations)\['[^']+'\]$/.test(fp)) {
        errs.push(NotSupported(`${vp}.fieldRef.fieldPath`, fp, FIELD_REF_PATHS));
      }
    }
    if (has(vf.resourceFieldRef)) {
      errs.push(...oneOf(`${vp}.resourceFieldRef.resource`, vf.resourceFieldRef.resource ?? '', RESOURCE_FIELD_REFS));
    }
    for (const ref of ['configMapKeyRef', 'secretKeyRef']) {
      if (!has(vf[ref])) continue;
      const r = vf[ref];
      if (!filled(r.name)) errs.push(Req(`${vp}.${ref}.name`));
      else for (const msg of isDNS1123Subdomain(r.name)) errs.push(Inv(`${vp}.${ref}.name`, r.name, msg));
      if (!filled(r.key)) errs.push(Req(`${vp}.${ref}.key`));
      else for (const msg of isConfigMapKey(r.key)) errs.push(Inv(`${vp}.${ref}.key`, r.key, msg));
    }
    if (sources.length === 0) {
      errs.push(Inv(vp, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
    } else if (filled(e.value)) {
      errs.push(Inv(vp, '', 'may not be specified when `value` is not empty'));
    } else if (sources.length > 1) {
      errs.push(Inv(vp, '', 'may not have more than one field specified at a time'));
    }
  });
  return errs;
}

function validateEnvFrom(envFrom: unknown, path: string): Errs {
  const errs: Errs = [];
  arr(envFrom).forEach((e: any, i: number) => {
    const ip = `${path}[${i}]`;
    if (filled(e?.prefix)) for (const msg of isEnvVarName(e.prefix)) errs.push(Inv(`${ip}.prefix`, e.prefix, msg));
    const sources = ['configMapRef', 'secretRef'].filter((s) => has(e?.[s]));
    for (const s of sources) {
      const name = e[s].name;
      if (!filled(name)) errs.push(Req(`${ip}.${s}.name`));
      else for (const msg of isDNS1123Subdomain(name)) errs.push(Inv(`${ip}.${s}.name`, name, msg));
    }
    if (sources.length === 0) errs.push(Inv(path, '', 'must specify one of: `configMapRef` or `secretRef`'));
    else if (sources.length > 1) errs.push(Inv(path, '', 'may not have more than one field specified at a time'));
  });
  return errs;
}

function validateVolumeMounts(mounts: unknown, path: string, volumes: Set<string>): Errs {
  const errs: Errs = [];
  const points = new Set<string>();
  arr(mounts).forEach((m: any, i: number) => {
    const ip = `${path}[${i}]`;
    if (!filled(m?.name)) errs.push(Req(`${ip}.name`));
    else if (!volumes.has(m.name)) errs.push(NotFoundField(`${ip}.name`, m.name));
    if (!filled(m?.mountPath)) errs.push(Req(`${ip}.mountPath`));
    else if (points.has(m.mountPath)) errs.push(Inv(`${ip}.mountPath`, m.mountPath, 'must be unique'));
    else points.add(m.mountPath);
    if (filled(m?.subPath)) errs.push(...localDescendingPath(m.subPath, `${ip}.subPath`));
    if (filled(m?.subPathExpr)) {
      if (filled(m.subPath)) errs.push(Inv(`${ip}.subPathExpr`, m.subPathExpr, 'subPathExpr and subPath are mutually exclusive'));
      errs.push(...localDescendingPath(m.subPathExpr, `${ip}.subPathExpr`));
    }
    errs.push(...oneOf(`${ip}.mountPropagation`, m?.mountPropagation, ['Bidirectional', 'HostToContainer', 'None']));
  });
  return errs;
}

/** validateLocalDescendingPath: relative, no `..` element. */
export function localDescendingPath(p: string, path: string): Errs {
  const errs: Errs = [];
  if (p.startsWith('/')) errs.push(Inv(path, p, 'must be a relative path'));
  if (p.split(/[\\/]/).includes('..')) errs.push(Inv(path, p, "must not contain '..'"));
  return errs;
}

/** A port given by number or by IANA name (probes, Service targetPort). */
export function portNumOrName(v: unknown, path: string): Errs {
  if (!has(v) || v === 0 || v === '') return [Req(path)];
  if (typeof v === 'string') {
    if (/^[0-9]+$/.test(v)) return isValidPortNum(Number(v)).map((m) => Inv(path, v, m));
    return isValidPortName(v).map((m) => Inv(path, v, m));
  }
  return isValidPortNum(v).map((m) => Inv(path, v, m));
}

const PROBE_HANDLERS = ['exec', 'httpGet', 'tcpSocket', 'grpc'];
const HOOK_HANDLERS = ['exec', 'httpGet', 'tcpSocket', 'sleep'];

/** validateHandler: exactly one handler type, each well-formed. */
function validateHandler(h: any, path: string, hook: boolean): Errs {
  const o = obj(h);
  if (!o) return [Inv(path, h ?? null, 'must be an object')];
  const errs: Errs = [];
  const types = (hook ? HOOK_HANDLERS : PROBE_HANDLERS).filter((t) => has(o[t]));
  if (types.length === 0) errs.push(ReqD(path, 'must specify a handler type'));
  types.slice(1).forEach((t) => errs.push(Forbidden(`${path}.${t}`, 'may not specify more than 1 handler type')));
  if (has(o.exec) && arr(o.exec.command).length === 0) errs.push(Req(`${path}.exec.command`));
  if (has(o.httpGet)) {
    const g = o.httpGet;
    errs.push(...portNumOrName(g.port, `${path}.httpGet.port`));
    errs.push(...oneOf(`${path}.httpGet.scheme`, g.scheme, ['HTTP', 'HTTPS']));
    if (has(g.path) && !isStr(g.path)) errs.push(Inv(`${path}.httpGet.path`, g.path, 'must be a string'));
    arr(g.httpHeaders).forEach((hd: any, i: number) => {
      if (!filled(hd?.name) || !/^[-A-Za-z0-9!#$%&'*+.^_`|~]+$/.test(hd.name)) {
        errs.push(Inv(`${path}.httpGet.httpHeaders[${i}].name`, hd?.name ?? '', 'a valid HTTP header must consist of alphanumeric characters or \'-\''));
      }
    });
  }
  if (has(o.tcpSocket)) errs.push(...portNumOrName(o.tcpSocket.port, `${path}.tcpSocket.port`));
  if (has(o.grpc)) {
    for (const msg of isValidPortNum(o.grpc.port)) errs.push(Inv(`${path}.grpc.port`, o.grpc.port ?? null, msg));
  }
  if (has(o.sleep)) errs.push(...nonNegative(`${path}.sleep.seconds`, o.sleep.seconds ?? -1));
  return errs;
}

/** validateProbe; liveness and startup probes need successThreshold 1, readiness probes take no terminationGracePeriodSeconds. */
function validateProbe(p: any, path: string, mustSucceedOnce: boolean): Errs {
  const errs = validateHandler(p, path, false);
  if (!obj(p)) return errs;
  for (const f of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold']) {
    errs.push(...nonNegative(`${path}.${f}`, p[f]));
  }
  if (mustSucceedOnce && isInt(p.successThreshold) && p.successThreshold !== 1 && p.successThreshold !== 0) {
    errs.push(Inv(`${path}.successThreshold`, p.successThreshold, 'must be 1'));
  }
  if (!mustSucceedOnce && has(p.terminationGracePeriodSeconds)) {
    errs.push(Inv(`${path}.terminationGracePeriodSeconds`, p.terminationGracePeriodSeconds, 'must not be set for readinessProbes'));
  } else errs.push(...positive(`${path}.terminationGracePeriodSeconds`, p.terminationGracePeriodSeconds));
  return errs;
}
