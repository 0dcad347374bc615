/**
 * LimitRanger, as Kubernetes' admission plugin: LimitRanges of type Container fill in default
 * requests and limits on new pods' containers, then every Container / Pod / PersistentVolumeClaim
 * limit (min, max, maxLimitRequestRatio) is checked; violations are Forbidden and all listed.
 */
import { ApiError } from '../../api/errors.ts';
import { podResourceList } from '../../api/pod-resources.ts';
import { parseQuantity } from '../../api/quantity.ts';
import type { KubeObject } from '../../api/types.ts';
import type { AdmissionPlugin } from './chain.ts';

export type ListLimitRanges = (namespace: string) => Promise<KubeObject[]>;

export function limitRanger(listLimitRanges: ListLimitRanges): AdmissionPlugin {
  return {
    name: 'LimitRanger',
    async admit(a) {
      if (a.operation !== 'CREATE' || a.subresource || a.info.kind !== 'Pod') return;
      for (const lr of await listLimitRanges(a.namespace!)) {
        for (const item of lr.spec?.limits ?? []) {
          if (item.type !== 'Container') continue;
          for (const c of [...(a.object.spec?.initContainers ?? []), ...(a.object.spec?.containers ?? [])]) {
            const r = (c.resources ??= {});
            for (const [res, v] of Object.entries<string>(item.default ?? {})) {
              r.limits ??= {};
              r.limits[res] ??= v;
            }
            for (const [res, v] of Object.entries<string>(item.defaultRequest ?? {})) {
              r.requests ??= {};
              r.requests[res] ??= v;
            }
          }
        }
      }
    },
    async validate(a) {
      if (a.subresource || (a.operation !== 'CREATE' && a.operation !== 'UPDATE')) return;
      if (a.info.kind !== 'Pod' && a.info.kind !== 'PersistentVolumeClaim') return;
      if (a.info.kind === 'Pod' && a.operation === 'UPDATE') return; // pod resources are immutable
      const problems: string[] = [];
      for (const lr of await listLimitRanges(a.namespace!)) {
        for (const item of lr.spec?.limits ?? []) {
          if (a.info.kind === 'Pod' && item.type === 'Container') {
            for (const c of a.object.spec?.containers ?? []) check(problems, item, 'Container', c.resources?.requests ?? {}, c.resources?.limits ?? {});
          } else if (a.info.kind === 'Pod' && item.type === 'Pod') {
            check(problems, item, 'Pod', podResourceList(a.object, 'requests'), podResourceList(a.object, 'limits'));
          } else if (a.info.kind === 'PersistentVolumeClaim' && item.type === 'PersistentVolumeClaim') {
            const req = a.object.spec?.resources?.requests ?? {};
            check(problems, item, 'PersistentVolumeClaim', req, req);
          }
        }
      }
      if (problems.length) {
        throw new ApiError('Forbidden', `${a.info.plural} "${a.name}" is forbidden: [${problems.join(', ')}]`);
      }
    },
  };
}

function check(problems: string[], item: any, scope: string, requests: Record<string, string>, limits: Record<string, string>): void {
  for (const [res, min] of Object.entries<string>(item.min ?? {})) {
    const req = requests[res];
    if (req === undefined) problems.push(`minimum ${res} usage per ${scope} is ${min}.  No request is specified`);
    else if (parseQuantity(req).cmp(parseQuantity(min)) < 0) problems.push(`minimum ${res} usage per ${scope} is ${min}, but request is ${req}`);
  }
  for (const [res, max] of Object.entries<string>(item.max ?? {})) {
    const lim = scope === 'PersistentVolumeClaim' ? requests[res] : limits[res];
    if (lim === undefined) problems.push(`maximum ${res} usage per ${scope} is ${max}.  No limit is specified`);
    else if (parseQuantity(lim).cmp(parseQuantity(max)) > 0) problems.push(`maximum ${res} usage per ${scope} is ${max}, but ${scope === 'PersistentVolumeClaim' ? 'request' : 'limit'} is ${lim}`);
  }
  for (const [res, ratio] of Object.entries<string>(item.maxLimitRequestRatio ?? {})) {
    const req = requests[res];
    const lim = limits[res];
    if (!req || !lim) continue;
    const r = parseQuantity(lim).toNumber() / parseQuantity(req).toNumber();
    if (r > parseQuantity(ratio).toNumber()) problems.push(`${res} max limit to request ratio per ${scope} is ${ratio}, but provided ratio is ${r.toFixed(6)}`);
  }
}
