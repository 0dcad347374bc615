/**
 * A pod's status as the kubelet reports it (generateAPIPodStatus + the status manager's
 * normalisation): phase by the kubelet's getPhase, the conditions PodReadyToStartContainers,
 * Initialized, Ready, ContainersReady, PodScheduled (with transition times kept while a condition
 * does not change), init container statuses in spec order (sidecars — init containers with
 * restartPolicy Always — count as initialized once started, feed readiness like containers, and
 * their exits do not decide the phase), container statuses sorted by name,
 * each with state, lastState, restartCount, image, imageID, containerID, started and ready.
 */
import type * as k8s from 'kubernetes-types/core/v1.js';
import type { ContainerStatus as RtStatus, PodSandboxStatus } from '../runtime/runtime.ts';
import { instancesOf, type PodRuntime } from './pod-runtime.ts';
import { isSidecar } from './termination-order.ts';
import type { PodState } from './types.ts';
import { apiTime, type Pod } from './util.ts';

export interface StatusInputs {
  pod: Pod;
  state: PodState;
  rt: PodRuntime;
  sandbox?: PodSandboxStatus;
  hostIP: string;
  imageIds: Map<string, string>;
  started(containerId: string, spec: k8s.Container): boolean;
  ready(containerId: string, spec: k8s.Container): boolean;
  now: Date;
  /** The status this agent last wrote: its startTime and transition times win over a stale copy. */
  previous?: k8s.PodStatus;
}

export function computePodStatus(i: StatusInputs): k8s.PodStatus {
  const { pod } = i;
  const seen = pod.status ?? {};
  const old = i.previous ?? seen;
  const hasInit = (pod.spec.initContainers?.length ?? 0) > 0;
  const initStatuses = (pod.spec.initContainers ?? []).map((c) => {
    const st = containerStatus(i, c, hasInit);
    // An ordinary init container that completed counts as ready (the kubelet's prober manager).
    if (!isSidecar(c) && st.state?.terminated?.exitCode === 0) st.ready = true;
    return st;
  });
  const statuses = pod.spec.containers.map((c) => containerStatus(i, c, hasInit)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let phase = getPhase(pod, initStatuses, statuses);
  // A terminal phase is final.
  for (const prev of [seen, old]) if (prev.phase === 'Succeeded' || prev.phase === 'Failed') phase = prev.phase;
  const kubeletOwned = new Set(['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']);
  const conditions: k8s.PodCondition[] = (seen.conditions ?? []).filter((c) => !kubeletOwned.has(c.type)).map((c) => ({ ...c }));
  conditions.push({ type: 'PodReadyToStartContainers', status: i.sandbox?.ip ? 'True' : 'False' });
  conditions.push(initializedCondition(pod, initStatuses, statuses, phase));
  const containersReady = containersReadyCondition(pod, initStatuses, statuses, phase);
  conditions.push(readyCondition(pod, containersReady, seen.conditions ?? []));
  conditions.push(containersReady);
  conditions.push({ type: 'PodScheduled', status: 'True' });
  const nowText = apiTime(i.now);
  for (const c of conditions) {
    if (c.lastTransitionTime) continue;
    const prev = old.conditions?.find((o) => o.type === c.type);
    c.lastProbeTime = null as unknown as string;
    c.lastTransitionTime = prev && prev.status === c.status ? prev.lastTransitionTime : nowText;
  }
  const out: k8s.PodStatus = { phase, conditions };
  if (i.hostIP) {
    out.hostIP = i.hostIP;
    out.hostIPs = [{ ip: i.hostIP }];
  }
  const podIP = i.sandbox?.ip ?? (phase === 'Succeeded' || phase === 'Failed' ? old.podIP : undefined);
  if (podIP) {
    out.podIP = podIP;
    out.podIPs = [{ ip: podIP }];
  }
  out.startTime = old.startTime ?? seen.startTime ?? nowText;
  if (phase === old.phase && (phase === 'Failed' || phase === 'Succeeded')) {
    if (old.reason) out.reason = old.reason;
    if (old.message) out.message = old.message;
  }
  if (initStatuses.length) out.initContainerStatuses = initStatuses;
  out.containerStatuses = statuses;
  const qos = seen.qosClass ?? old.qosClass;
  if (qos) out.qosClass = qos;
  return out;
}

function containerStatus(i: StatusInputs, c: k8s.Container, hasInit: boolean): k8s.ContainerStatus {
  const [cur, prev] = instancesOf(i.rt, c.name);
  const waiting = i.state.waiting.get(c.name);
  const st: k8s.ContainerStatus = {
    name: c.name,
    state: {},
    lastState: {},
    ready: false,
    restartCount: cur?.attempt ?? i.state.attempts.get(c.name) ?? 0,
    image: c.image ?? '',
    imageID: '',
    started: false,
  };
  const defaultWaiting = { reason: hasInit ? 'PodInitializing' : 'ContainerCreating' };
  if (!cur || cur.state === 'created' || cur.state === 'unknown') {
    st.state = { waiting: waiting ? waitingOf(waiting) : defaultWaiting };
    if (cur) st.containerID = `docker://${cur.id}`;
    if (prev?.state === 'exited') st.lastState = { terminated: terminated(i, prev) };
    return reorder(st);
  }
  st.containerID = `docker://${cur.id}`;
  st.image = cur.image || st.image;
  st.imageID = i.imageIds.get(cur.imageRef) ?? (cur.imageRef ? `docker://${cur.imageRef}` : '');
  if (cur.state === 'running') {
    st.state = { running: { startedAt: apiTime(cur.startedAt ?? cur.createdAt) } };
    st.started = i.started(cur.id, c);
    st.ready = i.ready(cur.id, c);
    if (prev?.state === 'exited') st.lastState = { terminated: terminated(i, prev) };
    return reorder(st);
  }
  if (waiting) {
    st.state = { waiting: waitingOf(waiting) };
    st.lastState = { terminated: terminated(i, cur) };
  } else {
    st.state = { terminated: terminated(i, cur) };
    if (prev?.state === 'exited') st.lastState = { terminated: terminated(i, prev) };
  }
  return reorder(st);
}

function waitingOf(w: { reason: string; message?: string }): k8s.ContainerStateWaiting {
  return w.message ? { reason: w.reason, message: w.message } : { reason: w.reason };
}

function terminated(i: StatusInputs, s: RtStatus): k8s.ContainerStateTerminated {
  const message = i.state.terminationMessages.get(s.id) || (s.reason === 'ContainerCannotRun' ? s.message : undefined);
  return {
    exitCode: s.exitCode ?? 0,
    reason: s.reason ?? (s.exitCode === 0 ? 'Completed' : 'Error'),
    ...(message ? { message } : {}),
    startedAt: apiTime(s.startedAt ?? s.createdAt),
    finishedAt: apiTime(s.finishedAt ?? s.startedAt ?? s.createdAt),
    containerID: `docker://${s.id}`,
  };
}

/** Field order as the API serializes a ContainerStatus. */
function reorder(s: k8s.ContainerStatus): k8s.ContainerStatus {
  const { containerID, image, imageID, lastState, name, ready, restartCount, started, state } = s;
  return { ...(containerID ? { containerID } : {}), image, imageID, lastState, name, ready, restartCount, started, state };
}

/** The kubelet's getPhase (sidecars: a running one counts as running, an exited one is ignored). */
export function getPhase(pod: Pod, init: k8s.ContainerStatus[], regular: k8s.ContainerStatus[]): k8s.PodStatus['phase'] {
  let pendingInit = 0;
  let failedInit = 0;
  let unknown = 0;
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  const specs = pod.spec.initContainers ?? [];
  for (const c of specs) {
    const s = init.find((x) => x.name === c.name);
    if (isSidecar(c)) {
      if (!s) {
        unknown++;
        continue;
      }
      if (s.state?.running) {
        if (!s.started) pendingInit++;
        running++;
      } else if (s.state?.terminated) {
        // an exited sidecar does not count
      } else if (s.state?.waiting) {
        if (!s.lastState?.terminated) {
          pendingInit++;
          waiting++;
        }
      } else {
        pendingInit++;
        unknown++;
      }
      continue;
    }
    if (!s || s.state?.running) pendingInit++;
    else if (s.state?.terminated) {
      if (s.state.terminated.exitCode !== 0) failedInit++;
    } else if (s.state?.waiting) {
      if (s.lastState?.terminated) {
        if (s.lastState.terminated.exitCode !== 0) failedInit++;
      } else pendingInit++;
    } else pendingInit++;
  }
  for (const s of regular) {
    if (s.state?.running) running++;
    else if (s.state?.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.state?.waiting) {
      if (s.lastState?.terminated) stopped++;
      else waiting++;
    } else unknown++;
  }
  const policy = pod.spec.restartPolicy ?? 'Always';
  if (failedInit > 0 && policy === 'Never') return 'Failed';
  if ((pendingInit > 0 && !anyRegularStarted(regular)) || waiting > 0) return 'Pending';
  if (running > 0 && unknown === 0) return 'Running';
  if (running === 0 && stopped > 0 && unknown === 0) {
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

function anyRegularStarted(regular: k8s.ContainerStatus[]): boolean {
  return regular.some((s) => s.state?.running || s.state?.terminated || s.lastState?.terminated);
}

function initializedCondition(pod: Pod, init: k8s.ContainerStatus[], regular: k8s.ContainerStatus[], phase: string | undefined): k8s.PodCondition {
  if (!pod.spec.initContainers?.length) return { type: 'Initialized', status: 'True' };
  if (phase === 'Succeeded') return { type: 'Initialized', status: 'True', reason: 'PodCompleted' };
  if (anyRegularStarted(regular)) return { type: 'Initialized', status: 'True' };
  const incomplete = pod.spec.initContainers
    .filter((c) => {
      const s = init.find((x) => x.name === c.name);
      if (isSidecar(c)) return !s?.started;
      return !(s?.state?.terminated && s.state.terminated.exitCode === 0);
    })
    .map((c) => c.name);
  if (!incomplete.length) return { type: 'Initialized', status: 'True' };
  return { type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized', message: `containers with incomplete status: [${incomplete.join(' ')}]` };
}

/** Sidecars count with the containers: first, in their declaration order. */
function containersReadyCondition(pod: Pod, init: k8s.ContainerStatus[], regular: k8s.ContainerStatus[], phase: string | undefined): k8s.PodCondition {
  if (phase === 'Succeeded') return { type: 'ContainersReady', status: 'False', reason: 'PodCompleted' };
  if (phase === 'Failed') return { type: 'ContainersReady', status: 'False', reason: 'PodFailed' };
  const unready = [
    ...(pod.spec.initContainers ?? []).filter(isSidecar).map((c) => c.name).filter((n) => !init.find((s) => s.name === n)?.ready),
    ...pod.spec.containers.map((c) => c.name).filter((n) => !regular.find((s) => s.name === n)?.ready),
  ];
  if (!unready.length) return { type: 'ContainersReady', status: 'True' };
  return { type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady', message: `containers with unready status: [${unready.join(' ')}]` };
}

function readyCondition(pod: Pod, containersReady: k8s.PodCondition, oldConditions: k8s.PodCondition[]): k8s.PodCondition {
  if (containersReady.status !== 'True') return { ...containersReady, type: 'Ready' };
  const notReady: string[] = [];
  for (const g of pod.spec.readinessGates ?? []) {
    const c = oldConditions.find((x) => x.type === g.conditionType);
    if (!c) notReady.push(`corresponding condition of pod readiness gate "${g.conditionType}" does not exist.`);
    else if (c.status !== 'True') notReady.push(`the status of pod readiness gate "${g.conditionType}" is not "True", but ${c.status}`);
  }
  if (notReady.length) return { type: 'Ready', status: 'False', reason: 'ReadinessGatesNotReady', message: notReady.join(', ') };
  return { type: 'Ready', status: 'True' };
}
