/**
 * VolumeBinding for the desktop. Every PersistentVolumeClaim a pod mounts (including generic
 * ephemeral volumes' `<pod>-<volume>` claims) must exist and not be terminating; a bound claim's
 * PersistentVolume must exist and its node affinity must match the node. An unbound claim is
 * provisionable on any node (the desktop provisions local volumes wherever the pod lands), and
 * gets the `volume.kubernetes.io/selected-node` annotation before the pod is bound, as
 * kube-scheduler does for WaitForFirstConsumer claims.
 */
import { compileNodeSelectorTerms, type NodeMatcher } from '../affinity.ts';
import { Status, type Handle, type Plugin, type StateData } from '../framework.ts';
import type { PodInfo } from '../pod-info.ts';
import type { KubeObject } from '../../api/types.ts';

export const name = 'VolumeBinding';
export const ERR_NODE_CONFLICT = "node(s) didn't match PersistentVolume's node affinity";
export const ERR_PV_NOT_EXIST = 'node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)';
export const SELECTED_NODE_ANNOTATION = 'volume.kubernetes.io/selected-node';

const REJECT_CONFLICT = Status.unresolvable(ERR_NODE_CONFLICT);
const REJECT_MISSING_PV = Status.unresolvable(ERR_PV_NOT_EXIST);
const KEY = 'PreFilter' + name;

class State implements StateData {
  constructor(
    readonly matchers: NodeMatcher[],
    readonly missingPV: boolean,
  ) {}
  clone() {
    return this;
  }
}

export function claimNames(pod: PodInfo): string[] {
  const out: string[] = [];
  for (const v of pod.pod.spec?.volumes ?? []) {
    if (v?.persistentVolumeClaim?.claimName) out.push(v.persistentVolumeClaim.claimName);
    else if (v?.ephemeral) out.push(`${pod.name}-${v.name}`);
  }
  return out;
}

export function create(handle: Handle): Plugin {
  const { listers } = handle;
  return {
    name,
    preFilter(state, pod) {
      const names = claimNames(pod);
      if (!names.length) return Status.SKIP;
      const matchers: NodeMatcher[] = [];
      let missingPV = false;
      for (const claim of names) {
        const pvc = listers.pvc(pod.namespace, claim);
        if (!pvc) return Status.unresolvable(`persistentvolumeclaim "${claim}" not found`);
        if (pvc.metadata.deletionTimestamp) return Status.unresolvable(`persistentvolumeclaim "${claim}" is being deleted`);
        const volumeName: string | undefined = pvc.spec?.volumeName;
        if (!volumeName) continue; // unbound: provisionable wherever the pod goes
        const pv = listers.pv(volumeName);
        if (!pv) {
          missingPV = true;
          continue;
        }
        const terms = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms;
        if (terms) matchers.push(compileNodeSelectorTerms(terms));
      }
      if (!matchers.length && !missingPV) return Status.SKIP;
      state.write(KEY, new State(matchers, missingPV));
      return null;
    },
    filter(state, _pod, node) {
      const s = state.read<State>(KEY);
      if (!s) return null;
      if (s.missingPV) return REJECT_MISSING_PV;
      for (const m of s.matchers) if (!m.matches(node.labels, node.name)) return REJECT_CONFLICT;
      return null;
    },
    async preBind(pod, nodeName) {
      const client = handle.client;
      if (!client) return;
      for (const claim of claimNames(pod)) {
        const pvc: KubeObject | undefined = listers.pvc(pod.namespace, claim);
        if (!pvc || pvc.spec?.volumeName || pvc.metadata.annotations?.[SELECTED_NODE_ANNOTATION] === nodeName) continue;
        await client.patch({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: pod.namespace, name: claim }, 'merge', {
          metadata: { annotations: { [SELECTED_NODE_ANNOTATION]: nodeName } },
        });
      }
    },
    events: [{ event: 'PvcAdd' }, { event: 'PvcUpdate' }, { event: 'PvAdd' }, { event: 'PvUpdate' }, { event: 'NodeAdd' }, { event: 'NodeLabelUpdate' }],
  };
}
