/**
 * What a DaemonSet sync should do, computed from the caches (no I/O): `planManage` is
 * podsShouldBeOnNode over every node (create where a pod should run and none is, delete where
 * none should, delete failed pods and duplicates), `planRollingUpdate` is update.go's
 * rollingUpdate (replace old pods within maxUnavailable, or surge new ones within maxSurge).
 */
import type { KubeObject } from '../../api/types.ts';
import { CONTROLLER_REVISION_HASH_LABEL } from '../controller-revision.ts';
import { isPodAvailable, isPodReady, scaledValue } from '../controller-utils.ts';
import { byCreationAndPhase, nodeShouldRunDaemonPod, targetNodeName } from './placement.ts';

export interface Plan {
  /** Nodes that need a new daemon pod. */
  create: string[];
  /** Pods to delete. */
  delete: KubeObject[];
  /** Failed pods found (each also in `delete` unless its node is in backoff). */
  failed: KubeObject[];
}

const isTerminal = (p: KubeObject): boolean => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';

/** getNodesToDaemonPods: the daemon's pods by the node they are (or will be) on. */
export function nodesToDaemonPods(pods: KubeObject[], includeDeletedTerminal = false): Map<string, KubeObject[]> {
  const out = new Map<string, KubeObject[]>();
  for (const pod of pods) {
    if (!includeDeletedTerminal && isTerminal(pod) && pod.metadata.deletionTimestamp) continue;
    const node = targetNodeName(pod);
    if (!node) continue;
    const list = out.get(node);
    if (list) list.push(pod);
    else out.set(node, [pod]);
  }
  return out;
}

export const isPodUpdated = (pod: KubeObject, hash: string): boolean => !!hash && pod.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL] === hash;

/** util.SurgeCount / UnavailableCount over `desired` nodes (percentages rounded up). */
export function rollingCounts(ds: KubeObject, desired: number): { maxSurge: number; maxUnavailable: number } {
  const ru = ds.spec?.updateStrategy?.rollingUpdate ?? {};
  const maxSurge = scaledValue(ru.maxSurge ?? 0, desired, true);
  let maxUnavailable = scaledValue(ru.maxUnavailable ?? 1, desired, true);
  if (desired > 0 && maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable };
}

export const allowsSurge = (ds: KubeObject): boolean =>
  (ds.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate' && rollingCounts(ds, 1).maxSurge > 0;

/** manage(): for each node, what podsShouldBeOnNode asks for; plus pods pinned to nodes that are gone. */
export function planManage(ds: KubeObject, nodes: KubeObject[], pods: KubeObject[], hash: string, now: Date): Plan {
  const byNode = nodesToDaemonPods(pods);
  const plan: Plan = { create: [], delete: [], failed: [] };
  const minReady = Number(ds.spec?.minReadySeconds ?? 0);
  const surge = allowsSurge(ds);
  for (const node of nodes) {
    const name = node.metadata.name!;
    const { shouldRun, shouldContinueRunning } = nodeShouldRunDaemonPod(node, ds);
    const daemonPods = byNode.get(name);
    if (shouldRun && !daemonPods) {
      plan.create.push(name);
      continue;
    }
    if (!daemonPods) continue;
    if (!shouldContinueRunning) {
      for (const p of daemonPods) if (!p.metadata.deletionTimestamp) plan.delete.push(p);
      continue;
    }
    const running: KubeObject[] = [];
    for (const p of daemonPods) {
      if (p.metadata.deletionTimestamp) continue;
      if (p.status?.phase === 'Failed') plan.failed.push(p);
      else running.push(p);
    }
    running.sort(byCreationAndPhase);
    if (!surge) {
      // One pod per node: the oldest stays.
      plan.delete.push(...running.slice(1));
      continue;
    }
    if (running.length <= 1) {
      if (!running.length && shouldRun && !daemonPods.some((p) => p.metadata.deletionTimestamp)) plan.create.push(name);
      continue;
    }
    // Surging: an old and a new pod may overlap until the new one is available.
    let oldestNew: KubeObject | undefined;
    let oldestOld: KubeObject | undefined;
    for (const p of running) {
      if (isPodUpdated(p, hash)) {
        if (!oldestNew) oldestNew = p;
        else plan.delete.push(p);
      } else if (!oldestOld) oldestOld = p;
      else plan.delete.push(p);
    }
    if (oldestNew && oldestOld && (!isPodReady(oldestOld) || isPodAvailable(oldestNew, minReady, now))) plan.delete.push(oldestOld);
  }
  // Unscheduled pods pinned to nodes that no longer exist can never run: delete them.
  const names = new Set(nodes.map((n) => n.metadata.name!));
  for (const [node, list] of byNode) {
    if (names.has(node)) continue;
    for (const p of list) if (!p.spec?.nodeName && !p.metadata.deletionTimestamp) plan.delete.push(p);
  }
  return plan;
}

/** findUpdatedPodsOnNode: at most one new and one old live pod, else undefined (manage prunes). */
function updatedPodsOnNode(pods: KubeObject[], hash: string): { newPod?: KubeObject; oldPod?: KubeObject } | undefined {
  let newPod: KubeObject | undefined;
  let oldPod: KubeObject | undefined;
  for (const p of pods) {
    if (p.metadata.deletionTimestamp) continue;
    if (isPodUpdated(p, hash)) {
      if (newPod) return undefined;
      newPod = p;
    } else {
      if (oldPod) return undefined;
      oldPod = p;
    }
  }
  return { newPod, oldPod };
}

/** rollingUpdate(): old pods to delete and nodes to surge new pods onto. */
export function planRollingUpdate(ds: KubeObject, nodes: KubeObject[], pods: KubeObject[], hash: string, now: Date): { delete: KubeObject[]; create: string[] } {
  const byNode = nodesToDaemonPods(pods);
  const nodeByName = new Map(nodes.map((n) => [n.metadata.name!, n]));
  let desired = 0;
  for (const node of nodes) {
    if (!nodeShouldRunDaemonPod(node, ds).shouldRun) continue;
    desired++;
    if (!byNode.has(node.metadata.name!)) byNode.set(node.metadata.name!, []);
  }
  const { maxSurge, maxUnavailable } = rollingCounts(ds, desired);
  const minReady = Number(ds.spec?.minReadySeconds ?? 0);
  const available = (p: KubeObject) => isPodAvailable(p, minReady, now);

  if (maxSurge === 0) {
    let unavailable = 0;
    const allowed: KubeObject[] = [];
    const candidates: KubeObject[] = [];
    for (const [, list] of byNode) {
      const found = updatedPodsOnNode(list, hash);
      if (!found) {
        unavailable++;
        continue;
      }
      const { newPod, oldPod } = found;
      if ((!oldPod && !newPod) || (oldPod && newPod)) unavailable++;
      else if (newPod) {
        if (!available(newPod)) unavailable++;
      } else if (!available(oldPod!)) {
        allowed.push(oldPod!); // an unavailable old pod may always be replaced
        unavailable++;
      } else if (unavailable < maxUnavailable) candidates.push(oldPod!);
    }
    const room = Math.min(Math.max(0, maxUnavailable - unavailable), candidates.length);
    return { delete: [...allowed, ...candidates.slice(0, room)], create: [] };
  }

  const toDelete: KubeObject[] = [];
  const shouldNotRun: KubeObject[] = [];
  const allowedNew: string[] = [];
  const candidateNew: string[] = [];
  let surging = 0;
  let numAvailable = 0;
  for (const [nodeName, list] of byNode) {
    const found = updatedPodsOnNode(list, hash);
    if (!found) {
      surging++;
      continue;
    }
    const { newPod, oldPod } = found;
    if (oldPod ? available(oldPod) : newPod && available(newPod)) numAvailable++;
    if (!oldPod) continue;
    const node = nodeByName.get(nodeName);
    const shouldRun = !!node && nodeShouldRunDaemonPod(node, ds).shouldRun;
    if (!newPod) {
      if (!available(oldPod)) {
        if (!shouldRun) toDelete.push(oldPod);
        else allowedNew.push(nodeName);
      } else if (!shouldRun) shouldNotRun.push(oldPod);
      else if (surging < maxSurge) candidateNew.push(nodeName);
      continue;
    }
    if (!available(newPod)) surging++;
    else toDelete.push(oldPod); // the new pod is up: the old one goes
  }
  // Pods on nodes that should no longer run one go only as new ones elsewhere become available.
  const deletable = Math.min(Math.max(0, numAvailable - desired), shouldNotRun.length);
  toDelete.push(...shouldNotRun.slice(0, deletable));
  const room = Math.min(Math.max(0, maxSurge - surging), candidateNew.length);
  return { delete: toDelete, create: [...allowedNew, ...candidateNew.slice(0, room)] };
}

/** updateDaemonSetStatus's counts: per node that should run a pod, its oldest pod's state. */
export function daemonSetCounts(ds: KubeObject, nodes: KubeObject[], pods: KubeObject[], hash: string, now: Date) {
  const minReady = Number(ds.spec?.minReadySeconds ?? 0);
  const byNode = nodesToDaemonPods(pods);
  const c = { desiredNumberScheduled: 0, currentNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0, numberAvailable: 0, numberUnavailable: 0, updatedNumberScheduled: 0 };
  for (const node of nodes) {
    const list = byNode.get(node.metadata.name!) ?? [];
    if (!nodeShouldRunDaemonPod(node, ds).shouldRun) {
      if (list.length) c.numberMisscheduled++;
      continue;
    }
    c.desiredNumberScheduled++;
    if (!list.length) continue;
    c.currentNumberScheduled++;
    const pod = [...list].sort(byCreationAndPhase)[0]!;
    if (isPodReady(pod)) {
      c.numberReady++;
      if (isPodAvailable(pod, minReady, now)) c.numberAvailable++;
    }
    if (isPodUpdated(pod, hash)) c.updatedNumberScheduled++;
  }
  c.numberUnavailable = c.desiredNumberScheduled - c.numberAvailable;
  return c;
}
