/** Services and Endpoints (create and update). */
import { Dup, Forbidden, Inv, Req } from '../errors.ts';
import type { KubeObject } from '../types.ts';
import {
  arr, dedupe, filled, has, inRange, isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidIP, isValidPortNum, obj,
  oneOf, validateLabels, type Errs,
} from './common.ts';
import { PROTOCOLS, portNumOrName } from './container.ts';

export const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
export const NODE_PORT_RANGE = { min: 30000, max: 32767 };
const IP_MSG = 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)';

export function validateService(svc: KubeObject): Errs {
  const spec = obj(svc.spec) ?? {};
  const errs: Errs = [...oneOf('spec.type', spec.type, SERVICE_TYPES)];
  const type = spec.type ?? 'ClusterIP';
  const headless = spec.clusterIP === 'None';
  const ports = arr(spec.ports);
  if (has(spec.ports) && !Array.isArray(spec.ports)) errs.push(Inv('spec.ports', spec.ports, 'must be a list of ports'));
  else if (ports.length === 0 && !headless && type !== 'ExternalName') errs.push(Req('spec.ports'));

  if (type === 'ExternalName') {
    if (filled(spec.clusterIP)) errs.push(Forbidden('spec.clusterIP', 'may not be set for ExternalName services'));
    if (!filled(spec.externalName)) errs.push(Req('spec.externalName'));
    else for (const m of isDNS1123Subdomain(spec.externalName.replace(/\.$/, ''))) errs.push(Inv('spec.externalName', spec.externalName, m));
  } else if (filled(spec.clusterIP) && !headless && !isValidIP(spec.clusterIP)) {
    errs.push(Inv('spec.clusterIP', spec.clusterIP, "must be empty, 'None', or a valid IP address"));
  }
  if (headless && (type === 'NodePort' || type === 'LoadBalancer')) {
    errs.push(Inv('spec.clusterIP', 'None', `may not be set to 'None' for ${type} services`));
  }
  const ips = arr(spec.clusterIPs);
  if (ips.length && filled(spec.clusterIP) && ips[0] !== spec.clusterIP) {
    errs.push(Inv('spec.clusterIPs', ips, 'first value must match `clusterIP`'));
  }

  const names = new Set<string>();
  const portKeys = new Set<string>();
  const nodePorts = new Set<string>();
  ports.forEach((p: any, i: number) => {
    const pp = `spec.ports[${i}]`;
    if (!obj(p)) return void errs.push(Inv(pp, p ?? null, 'must be a port object'));
    if (!filled(p.name)) {
      if (ports.length > 1) errs.push(Req(`${pp}.name`));
    } else {
      for (const m of isDNS1123Label(p.name)) errs.push(Inv(`${pp}.name`, p.name, m));
      errs.push(...dedupe(names, p.name, `${pp}.name`));
    }
    if (!has(p.port)) errs.push(Req(`${pp}.port`));
    else for (const m of isValidPortNum(p.port)) errs.push(Inv(`${pp}.port`, p.port, m));
    errs.push(...oneOf(`${pp}.protocol`, p.protocol, PROTOCOLS));
    if (has(p.targetPort)) errs.push(...portNumOrName(p.targetPort, `${pp}.targetPort`));
    if (filled(p.appProtocol)) for (const m of isQualifiedName(p.appProtocol)) errs.push(Inv(`${pp}.appProtocol`, p.appProtocol, m));
    // JSON, not a template: a port can be any JSON value, `{"toString": 1}` included.
    const key = JSON.stringify([p.port, p.protocol ?? 'TCP']);
    if (portKeys.has(key)) errs.push(Dup(pp, { port: p.port, protocol: p.protocol ?? 'TCP' }));
    portKeys.add(key);
    if (has(p.nodePort) && p.nodePort !== 0) {
      const np = `${pp}.nodePort`;
      if (type === 'ClusterIP' || type === 'ExternalName') errs.push(Forbidden(np, `may not be used when \`type\` is '${type}'`));
      else {
        errs.push(
          ...inRange(np, p.nodePort, NODE_PORT_RANGE.min, NODE_PORT_RANGE.max,
            `provided port is not in the valid range. The range of valid ports is ${NODE_PORT_RANGE.min}-${NODE_PORT_RANGE.max}`),
        );
        errs.push(...dedupe(nodePorts, `${p.nodePort}/${p.protocol ?? 'TCP'}`, np, p.nodePort));
      }
    }
  });

  errs.push(...oneOf('spec.sessionAffinity', spec.sessionAffinity, ['ClientIP', 'None']));
  const sac = obj(spec.sessionAffinityConfig);
  if (spec.sessionAffinity === 'ClientIP') {
    errs.push(...inRange('spec.sessionAffinityConfig.clientIP.timeoutSeconds', obj(sac?.clientIP)?.timeoutSeconds, 1, 86400,
      'must be greater than 0 and less than 86400'));
  } else if (sac) {
    errs.push(Forbidden('spec.sessionAffinityConfig', `must not be set when \`sessionAffinity\` is ${spec.sessionAffinity ?? 'None'}`));
  }
  errs.push(...validateLabels(spec.selector, 'spec.selector'));
  const external = type === 'NodePort' || type === 'LoadBalancer' || (type === 'ClusterIP' && arr(spec.externalIPs).length > 0);
  errs.push(...oneOf('spec.externalTrafficPolicy', spec.externalTrafficPolicy, ['Cluster', 'Local']));
  if (filled(spec.externalTrafficPolicy) && !external) {
    errs.push(Inv('spec.externalTrafficPolicy', spec.externalTrafficPolicy, 'may only be set for externally-accessible services'));
  }
  errs.push(...oneOf('spec.internalTrafficPolicy', spec.internalTrafficPolicy, ['Cluster', 'Local']));
  if (has(spec.healthCheckNodePort) && !(type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local')) {
    errs.push(Inv('spec.healthCheckNodePort', spec.healthCheckNodePort, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"));
  }
  if (has(spec.allocateLoadBalancerNodePorts) && type !== 'LoadBalancer') {
    errs.push(Forbidden('spec.allocateLoadBalancerNodePorts', "may only be used when `type` is 'LoadBalancer'"));
  }
  errs.push(...oneOf('spec.ipFamilyPolicy', spec.ipFamilyPolicy, ['PreferDualStack', 'RequireDualStack', 'SingleStack']));
  const fams = arr(spec.ipFamilies);
  if (fams.length > 2) errs.push(Inv('spec.ipFamilies', fams, 'may specify no more than one IP for each IP family'));
  const seenFam = new Set<string>();
  fams.forEach((f, i) => {
    errs.push(...oneOf(`spec.ipFamilies[${i}]`, f, ['IPv4', 'IPv6']));
    errs.push(...dedupe(seenFam, String(f), `spec.ipFamilies[${i}]`, f));
  });
  arr(spec.externalIPs).forEach((ip, i) => {
    if (!isValidIP(ip)) errs.push(Inv(`spec.externalIPs[${i}]`, ip, IP_MSG));
  });
  return errs;
}

/** The cluster IP never changes once allocated (except when switching to or from ExternalName). */
export function validateServiceUpdate(n: KubeObject, o: KubeObject): Errs {
  const ns = obj(n.spec) ?? {};
  const os = obj(o.spec) ?? {};
  if (ns.type === 'ExternalName' || os.type === 'ExternalName') return [];
  const errs: Errs = [];
  if (filled(ns.clusterIP) && filled(os.clusterIP) && ns.clusterIP !== os.clusterIP) {
    errs.push(Inv('spec.clusterIP', ns.clusterIP, 'field is immutable'));
  }
  const nips = arr(ns.clusterIPs);
  const oips = arr(os.clusterIPs);
  if (nips.length && oips.length && nips[0] !== oips[0]) errs.push(Inv('spec.clusterIPs[0]', nips[0], 'may not change once set'));
  return errs;
}

export function validateEndpoints(ep: KubeObject): Errs {
  const errs: Errs = [];
  arr(ep.subsets).forEach((s: any, i: number) => {
    const sp = `subsets[${i}]`;
    for (const list of ['addresses', 'notReadyAddresses']) {
      arr(s?.[list]).forEach((a: any, j: number) => {
        if (!isValidIP(a?.ip)) errs.push(Inv(`${sp}.${list}[${j}].ip`, a?.ip ?? '', IP_MSG));
        if (filled(a?.hostname)) for (const m of isDNS1123Label(a.hostname)) errs.push(Inv(`${sp}.${list}[${j}].hostname`, a.hostname, m));
      });
    }
    const ports = arr(s?.ports);
    ports.forEach((p: any, j: number) => {
      const pp = `${sp}.ports[${j}]`;
      if (ports.length > 1 && !filled(p?.name)) errs.push(Req(`${pp}.name`));
      else if (filled(p?.name)) for (const m of isDNS1123Label(p.name)) errs.push(Inv(`${pp}.name`, p.name, m));
      for (const m of isValidPortNum(p?.port)) errs.push(Inv(`${pp}.port`, p?.port ?? 0, m));
      errs.push(...oneOf(`${pp}.protocol`, p?.protocol, PROTOCOLS));
    });
  });
  return errs;
}
