/**
 * A pod as a list row: its status the way `kubectl get pods` words it (CrashLoopBackOff,
 * ImagePullBackOff, Init:0/1, Terminating, Completed …), why it is Pending (the scheduler's
 * message), ready containers, restarts, node and age — computed once per object version (the
 * objects are immutable: a change arrives as a new object) and cached.
 */
import type { KubeObject } from '../../../core/api/types.ts';

export type StatusTone = 'ok' | 'pending' | 'warn' | 'error' | 'done' | 'muted';

export interface PodRow {
  key: string;
  namespace: string;
  name: string;
  phase: string;
  status: string;
  tone: StatusTone;
  /** Why: the scheduler's message for Pending, a container's waiting message … */
  message: string;
  ready: string;
  readyCount: number;
  total: number;
  restarts: number;
  node: string;
  created: number;
  labels: Record<string, string>;
  images: string[];
  /** Lower-cased text the search box matches. */
  search: string;
  pod: KubeObject;
}

const cache = new WeakMap<KubeObject, PodRow>();

interface CState {
  name: string;
  ready?: boolean;
  started?: boolean;
  restartCount?: number;
  state?: { waiting?: { reason?: string; message?: string }; terminated?: { reason?: string; exitCode?: number; signal?: number; message?: string }; running?: unknown };
}

export function podStatus(pod: KubeObject): { status: string; tone: StatusTone; message: string } {
  const st = pod.status ?? {};
  let reason: string = st.reason || st.phase || 'Pending';
  let message: string = st.message ?? '';
  const inits: CState[] = st.initContainerStatuses ?? [];
  const containers: CState[] = st.containerStatuses ?? [];
  let initializing = false;
  const sidecar = isSidecarOf(pod);
  inits.forEach((c, i) => {
    const t = c.state?.terminated;
    if (t && t.exitCode === 0) return;
    if (sidecar(c.name) && c.started) return; // a started sidecar is done initializing
    if (initializing) return;
    initializing = true;
    if (t) reason = t.reason ? `Init:${t.reason}` : t.signal ? `Init:Signal:${t.signal}` : `Init:ExitCode:${t.exitCode}`;
    else if (c.state?.waiting?.reason && c.state.waiting.reason !== 'PodInitializing') {
      reason = `Init:${c.state.waiting.reason}`;
      message = c.state.waiting.message ?? message;
    } else reason = `Init:${i}/${(pod.spec?.initContainers ?? []).length}`;
  });
  const initialized = (st.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Initialized' && c.status === 'True');
  if (!initializing || initialized) {
    let hasRunning = false;
    for (let i = containers.length - 1; i >= 0; i--) {
      const c = containers[i]!;
      if (c.state?.waiting?.reason) {
        reason = c.state.waiting.reason;
        message = c.state.waiting.message ?? message;
      } else if (c.state?.terminated) {
        const t = c.state.terminated;
        reason = t.reason || (t.signal ? `Signal:${t.signal}` : `ExitCode:${t.exitCode}`);
        message = t.message ?? message;
      } else if (c.ready && c.state?.running) hasRunning = true;
    }
    if (reason === 'Completed' && hasRunning) reason = 'Running';
  }
  if (pod.metadata.deletionTimestamp) reason = st.reason === 'NodeLost' ? 'Unknown' : 'Terminating';
  if (st.phase === 'Pending' && !pod.spec?.nodeName) {
    const sched = (st.conditions ?? []).find((c: { type: string }) => c.type === 'PodScheduled') as { status?: string; reason?: string; message?: string } | undefined;
    if (sched?.status === 'False') message = sched.message ?? message;
  }
  return { status: reason, tone: toneOf(reason, st.phase), message };
}

export function toneOf(status: string, phase?: string): StatusTone {
  if (status === 'Running') return 'ok';
  if (status === 'Completed' || status === 'Succeeded') return 'done';
  if (status === 'Terminating') return 'muted';
  if (/BackOff|Err|Error|Failed|OOMKilled|Invalid|CannotRun|Evicted|Unknown|Signal|ExitCode/.test(status) || phase === 'Failed') return 'error';
  if (status === 'Pending' || status === 'ContainerCreating' || status === 'PodInitializing' || status.startsWith('Init:')) return 'pending';
  return 'warn';
}

export function podRow(pod: KubeObject): PodRow {
  let r = cache.get(pod);
  if (r) return r;
  const { status, tone, message } = podStatus(pod);
  // Sidecars (init containers with restartPolicy Always) count as containers, as in kubectl.
  const sidecar = isSidecarOf(pod);
  const sidecars = ((pod.status?.initContainerStatuses ?? []) as CState[]).filter((c) => sidecar(c.name));
  const cs: CState[] = [...sidecars, ...(pod.status?.containerStatuses ?? [])];
  const total = (pod.spec?.containers ?? []).length + ((pod.spec?.initContainers ?? []) as Array<{ restartPolicy?: string }>).filter((c) => c.restartPolicy === 'Always').length;
  const readyCount = cs.filter((c) => c.ready).length;
  const restarts = cs.reduce((n, c) => n + (c.restartCount ?? 0), 0);
  const namespace = pod.metadata.namespace ?? 'default';
  const name = pod.metadata.name ?? '';
  const node = pod.spec?.nodeName ?? '';
  const labels = (pod.metadata.labels ?? {}) as Record<string, string>;
  const images = ((pod.spec?.containers ?? []) as Array<{ image?: string }>).map((c) => c.image ?? '');
  r = {
    key: `${namespace}/${name}`,
    namespace,
    name,
    phase: pod.status?.phase ?? 'Pending',
    status,
    tone,
    message,
    ready: `${readyCount}/${total}`,
    readyCount,
    total,
    restarts,
    node,
    created: pod.metadata.creationTimestamp ? Date.parse(String(pod.metadata.creationTimestamp)) : 0,
    labels,
    images,
    search: `${namespace}/${name} ${node} ${status} ${images.join(' ')}`.toLowerCase(),
    pod,
  };
  cache.set(pod, r);
  return r;
}

/**
 * The pod's requests as the scheduler counts them: the containers and sidecars summed, raised to
 * the largest init container (plus the sidecars started before it).
 */
export function podRequests(pod: KubeObject, parse: (q: string | undefined) => number): { cpu: number; memory: number } {
  type C = { restartPolicy?: string; resources?: { requests?: Record<string, string> } };
  let cpu = 0;
  let memory = 0;
  for (const c of (pod.spec?.containers ?? []) as C[]) {
    cpu += parse(c.resources?.requests?.cpu);
    memory += parse(c.resources?.requests?.memory);
  }
  let sideCpu = 0;
  let sideMemory = 0;
  let initCpu = 0;
  let initMemory = 0;
  for (const c of (pod.spec?.initContainers ?? []) as C[]) {
    const rc = parse(c.resources?.requests?.cpu);
    const rm = parse(c.resources?.requests?.memory);
    if (c.restartPolicy === 'Always') {
      sideCpu += rc;
      sideMemory += rm;
      cpu += rc;
      memory += rm;
    } else {
      initCpu = Math.max(initCpu, rc + sideCpu);
      initMemory = Math.max(initMemory, rm + sideMemory);
    }
  }
  return { cpu: Math.max(cpu, initCpu), memory: Math.max(memory, initMemory) };
}

/** Whether the named init container is a sidecar (restartPolicy Always). */
function isSidecarOf(pod: KubeObject): (name: string) => boolean {
  const specs = (pod.spec?.initContainers ?? []) as Array<{ name: string; restartPolicy?: string }>;
  return (name) => specs.some((c) => c.name === name && c.restartPolicy === 'Always');
}

export function isTerminated(pod: KubeObject): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}
