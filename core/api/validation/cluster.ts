/** Namespace, Node, PriorityClass, Lease, Event, ServiceAccount, ControllerRevision. */
import { Forbidden, Inv, Req } from '../errors.ts';
import type { KubeObject } from '../types.ts';
import {
  arr, boolField, filled, has, immutable, isDNS1123Subdomain, isInt, isQualifiedName, isValidIP, nonNegative, obj, oneOf, positive,
  type Errs,
} from './common.ts';
import { validateResourceList } from './resources.ts';
import { validateTaints } from './scheduling.ts';

const STANDARD_FINALIZERS = ['kubernetes', 'orphan', 'foregroundDeletion'];

export function validateNamespace(ns: KubeObject): Errs {
  const errs: Errs = [];
  arr(obj(ns.spec)?.finalizers).forEach((f, i) => {
    const p = `spec.finalizers[${i}]`;
    if (typeof f !== 'string') return void errs.push(Inv(p, f, 'must be a string'));
    for (const m of isQualifiedName(f)) errs.push(Inv(p, f, m));
    if (!f.includes('/') && !STANDARD_FINALIZERS.includes(f)) errs.push(Inv(p, f, 'name is neither a standard finalizer name nor is it fully qualified'));
  });
  return errs;
}

function isCIDR(v: unknown): boolean {
  if (typeof v !== 'string') return false;
  const [ip, bits, ...rest] = v.split('/');
  if (rest.length || bits === undefined || !/^\d+$/.test(bits) || !isValidIP(ip)) return false;
  return Number(bits) <= (ip!.includes(':') ? 128 : 32);
}

export function validateNode(node: KubeObject): Errs {
  const spec = obj(node.spec) ?? {};
  const errs: Errs = [...validateTaints(spec.taints, 'spec.taints'), ...boolField('spec.unschedulable', spec.unschedulable)];
  if (filled(spec.podCIDR) && !isCIDR(spec.podCIDR)) errs.push(Inv('spec.podCIDR', spec.podCIDR, 'must be a valid CIDR'));
  const cidrs = arr(spec.podCIDRs);
  if (cidrs.length > 2) errs.push(Inv('spec.podCIDRs', cidrs, 'may specify no more than one CIDR for each IP family'));
  cidrs.forEach((c, i) => {
    if (!isCIDR(c)) errs.push(Inv(`spec.podCIDRs[${i}]`, c, 'must be a valid CIDR'));
  });
  const status = obj(node.status) ?? {};
  validateResourceList(status.capacity, 'status.capacity', errs);
  validateResourceList(status.allocatable, 'status.allocatable', errs);
  return errs;
}

export function validateNodeUpdate(n: KubeObject, o: KubeObject): Errs {
  const ns = obj(n.spec) ?? {};
  const os = obj(o.spec) ?? {};
  const errs: Errs = [];
  if (filled(os.podCIDR) && ns.podCIDR !== os.podCIDR) {
    errs.push(Forbidden('spec.podCIDR', 'node updates may not change podCIDR except from "" to valid'));
  }
  if (filled(os.providerID) && ns.providerID !== os.providerID) {
    errs.push(Forbidden('spec.providerID', 'node updates may not change providerID except from "" to valid'));
  }
  return errs;
}

const SYSTEM_CLASSES: Record<string, number> = { 'system-cluster-critical': 2000000000, 'system-node-critical': 2000001000 };
export const HIGHEST_USER_PRIORITY = 1000000000;

export function validatePriorityClass(pc: KubeObject): Errs {
  const errs: Errs = [];
  const name = typeof pc.metadata?.name === 'string' ? pc.metadata.name : '';
  const value = pc.value ?? 0;
  if (!isInt(value) || value < -2147483648 || value > 2147483647) errs.push(Inv('value', value, 'must be a 32-bit integer'));
  if (name.startsWith('system-')) {
    if (!Object.hasOwn(SYSTEM_CLASSES, name) || SYSTEM_CLASSES[name] !== value) {
      errs.push(Forbidden('metadata.name', "priority class names with 'system-' prefix are reserved for system use only"));
    }
  } else if (isInt(value) && value > HIGHEST_USER_PRIORITY) {
    errs.push(Forbidden('value', `maximum allowed value of a user defined priority is ${HIGHEST_USER_PRIORITY}`));
  }
  errs.push(...boolField('globalDefault', pc.globalDefault));
  errs.push(...oneOf('preemptionPolicy', pc.preemptionPolicy, ['Never', 'PreemptLowerPriority']));
  return errs;
}

export function validatePriorityClassUpdate(n: KubeObject, o: KubeObject): Errs {
  const errs: Errs = [];
  if ((n.value ?? 0) !== (o.value ?? 0)) errs.push(Forbidden('value', 'may not be changed in an update.'));
  errs.push(...immutable(n.preemptionPolicy, o.preemptionPolicy, 'preemptionPolicy'));
  return errs;
}

export function validateLease(lease: KubeObject): Errs {
  const spec = obj(lease.spec) ?? {};
  return [
    ...positive('spec.leaseDurationSeconds', spec.leaseDurationSeconds),
    ...nonNegative('spec.leaseTransitions', spec.leaseTransitions),
  ];
}

export function validateEvent(ev: KubeObject): Errs {
  const errs: Errs = [];
  const io = obj(ev.involvedObject);
  const regarding = obj(ev.regarding);
  if (!io && !regarding) errs.push(Req('involvedObject'));
  const ns = ev.metadata?.namespace;
  if (io && filled(io.namespace) && filled(ns) && io.namespace !== ns) {
    errs.push(Inv('involvedObject.namespace', io.namespace, 'does not match event.namespace'));
  }
  errs.push(...oneOf('type', ev.type, ['Normal', 'Warning']));
  if (typeof ev.reason === 'string' && ev.reason.length > 128) errs.push(Inv('reason', ev.reason, 'can have at most 128 characters'));
  errs.push(...nonNegative('count', ev.count));
  return errs;
}

export function validateServiceAccount(sa: KubeObject): Errs {
  const errs: Errs = [];
  for (const list of ['secrets', 'imagePullSecrets']) {
    arr(sa[list]).forEach((s: any, i: number) => {
      if (filled(s?.name)) for (const m of isDNS1123Subdomain(s.name)) errs.push(Inv(`${list}[${i}].name`, s.name, m));
    });
  }
  errs.push(...boolField('automountServiceAccountToken', sa.automountServiceAccountToken));
  return errs;
}

export function validateControllerRevision(cr: KubeObject): Errs {
  const errs: Errs = [...nonNegative('revision', cr.revision ?? 0)];
  if (!has(cr.data)) errs.push(Req('data', 'Required value: data is mandatory'));
  return errs;
}

export const validateControllerRevisionUpdate = (n: KubeObject, o: KubeObject): Errs => immutable(n.data, o.data, 'data');
