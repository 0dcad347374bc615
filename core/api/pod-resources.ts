/**
 * A pod's effective requests and limits, as Kubernetes computes them (resourcehelper):
 * per resource, the larger of the sum over containers and the largest init container (sidecar
 * init containers, restartPolicy Always, add to the sum), plus spec.overhead.
 */
import { addResourceLists, parseQuantity, type Quantity, type ResourceList } from './quantity.ts';
import type { KubeObject } from './types.ts';

type Which = 'requests' | 'limits';

function maxLists(a: ResourceList, b: ResourceList): ResourceList {
  const out: ResourceList = { ...a };
  for (const [k, v] of Object.entries(b)) {
    if (out[k] === undefined || parseQuantity(v).cmp(parseQuantity(out[k]!)) > 0) out[k] = v;
  }
  return out;
}

function containerList(c: any, which: Which): ResourceList {
  const r = c?.resources ?? {};
  // Requests default to limits when only limits are set (as API defaulting does).
  if (which === 'requests') return { ...(r.limits ?? {}), ...(r.requests ?? {}) };
  return { ...(r.limits ?? {}) };
}

export function podResourceList(pod: KubeObject, which: Which): ResourceList {
  const spec = pod.spec ?? {};
  let sum: ResourceList = {};
  for (const c of spec.containers ?? []) sum = addResourceLists(sum, containerList(c, which));
  let sidecars: ResourceList = {};
  let initMax: ResourceList = {};
  for (const c of spec.initContainers ?? []) {
    const l = containerList(c, which);
    if (c.restartPolicy === 'Always') {
      sidecars = addResourceLists(sidecars, l);
      sum = addResourceLists(sum, l);
    } else {
      initMax = maxLists(initMax, addResourceLists(l, sidecars));
    }
  }
  let out = maxLists(sum, initMax);
  if (spec.overhead) out = addResourceLists(out, spec.overhead);
  return out;
}

export const podRequests = (pod: KubeObject) => podResourceList(pod, 'requests');
export const podLimits = (pod: KubeObject) => podResourceList(pod, 'limits');

export function q(v: string | number | undefined): Quantity {
  return parseQuantity(v ?? 0);
}
