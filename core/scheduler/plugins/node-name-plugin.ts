/** NodeName: a pod that names its node (`spec.nodeName`) fits that node only. */
import { Status, type Plugin } from '../framework.ts';

export const name = 'NodeName';
export const ERR_REASON = "node(s) didn't match the requested node name";

const REJECT = Status.unresolvable(ERR_REASON);

export function create(): Plugin {
  return {
    name,
    preFilter(_state, pod) {
      return pod.pod.spec?.nodeName ? null : Status.SKIP;
    },
    filter(_state, pod, node) {
      const want = pod.pod.spec?.nodeName;
      return !want || want === node.name ? null : REJECT;
    },
    events: [{ event: 'NodeAdd' }],
  };
}
