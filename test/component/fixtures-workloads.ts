/**
 * Fixture builders for the Pods and Workloads component tests (pods in their states, workloads of
 * every kind, ReplicaSets, Events, rollout histories) and small helpers that drive the views the
 * way a user does: typing (input events), choosing an option (change), keys, navigating by hash.
 */
import { flushSync } from 'svelte';
import type { KubeObject } from '../../core/api/types.ts';
import type { RolloutRevision } from '../../core/desktop-api.ts';
import { route } from '../../renderer/src/lib/router.svelte.ts';
import { until } from './harness.ts';

// ---------------------------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------------------------

/** An RFC 3339 time `seconds` ago. */
export const ago = (seconds: number): string => new Date(Date.now() - seconds * 1000).toISOString();
export const MIN = 60;
export const HOUR = 3600;
export const DAY = 86_400;

// ---------------------------------------------------------------------------------------------
// Pods
// ---------------------------------------------------------------------------------------------

type ContainerState =
  | { running: { startedAt: string } }
  | { waiting: { reason: string; message?: string } }
  | { terminated: { reason?: string; exitCode: number; message?: string; finishedAt?: string; startedAt?: string } };

export interface ContainerFixture {
  name: string;
  image?: string;
  ready?: boolean;
  restarts?: number;
  state?: ContainerState;
  lastState?: ContainerState;
  ports?: Array<{ containerPort: number; name?: string; protocol?: string }>;
}

export interface PodFixture {
  namespace?: string;
  labels?: Record<string, string>;
  node?: string;
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
  /** Seconds since creation. */
  age?: number;
  containers?: ContainerFixture[];
  conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
  owner?: { kind: string; name: string; uid: string };
  uid?: string;
  podIP?: string;
  terminating?: boolean;
}

let uidSeq = 1;
const nextUid = (p: string) => `${p}-uid-${uidSeq++}`;

export function pod(name: string, f: PodFixture = {}): KubeObject {
  const containers = f.containers ?? [{ name: 'app', image: 'nginx:1.27', ready: true, state: { running: { startedAt: ago(f.age ?? 5 * MIN) } } }];
  const phase = f.phase ?? 'Running';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: f.namespace ?? 'default',
      uid: f.uid ?? nextUid(name),
      resourceVersion: '1',
      creationTimestamp: ago(f.age ?? 5 * MIN + 30),
      labels: f.labels ?? { app: name.split('-')[0]! },
      ...(f.owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: f.owner.kind, name: f.owner.name, uid: f.owner.uid, controller: true }] } : {}),
      ...(f.terminating ? { deletionTimestamp: ago(1) } : {}),
    },
    spec: {
      ...(f.node ? { nodeName: f.node } : {}),
      containers: containers.map((c) => ({ name: c.name, image: c.image ?? 'nginx:1.27', ...(c.ports ? { ports: c.ports } : {}) })),
    },
    status: {
      phase,
      ...(f.podIP ? { podIP: f.podIP } : {}),
      qosClass: 'BestEffort',
      conditions: f.conditions ?? (phase === 'Running' ? [
        { type: 'PodScheduled', status: 'True' },
        { type: 'Initialized', status: 'True' },
        { type: 'ContainersReady', status: containers.every((c) => c.ready) ? 'True' : 'False' },
        { type: 'Ready', status: containers.every((c) => c.ready) ? 'True' : 'False' },
      ] : []),
      ...(phase === 'Pending' && !f.node ? {} : {
        containerStatuses: containers.map((c) => ({
          name: c.name,
          image: c.image ?? 'nginx:1.27',
          ready: c.ready ?? false,
          started: !!c.state && 'running' in c.state,
          restartCount: c.restarts ?? 0,
          state: c.state ?? { waiting: { reason: 'ContainerCreating' } },
          ...(c.lastState ? { lastState: c.lastState } : {}),
        })),
      }),
    },
  };
}

export const runningPod = (name: string, f: PodFixture & { restarts?: number; image?: string } = {}): KubeObject =>
  pod(name, { node: 'node-1', ...f, containers: f.containers ?? [{ name: 'app', image: f.image ?? 'nginx:1.27', ready: true, restarts: f.restarts ?? 0, state: { running: { startedAt: ago(f.age ?? 5 * MIN) } } }] });

export const crashLoopPod = (name: string, f: PodFixture & { restarts?: number } = {}): KubeObject =>
  pod(name, {
    node: 'node-1',
    ...f,
    containers: [{
      name: 'app',
      image: 'busybox:1.36',
      ready: false,
      restarts: f.restarts ?? 7,
      state: { waiting: { reason: 'CrashLoopBackOff', message: `back-off 5m0s restarting failed container=app pod=${name}` } },
      lastState: { terminated: { reason: 'Error', exitCode: 1, finishedAt: ago(30) } },
    }],
  });

export const imagePullPod = (name: string, f: PodFixture = {}): KubeObject =>
  pod(name, {
    node: 'node-2',
    phase: 'Pending',
    ...f,
    containers: [{ name: 'app', image: 'registry.local/nope:9.9', ready: false, state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "registry.local/nope:9.9"' } } }],
  });

export const UNSCHEDULABLE = '0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.';

export const pendingPod = (name: string, f: PodFixture = {}): KubeObject =>
  pod(name, {
    phase: 'Pending',
    ...f,
    containers: [{ name: 'app', image: 'nginx:1.27' }],
    conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: UNSCHEDULABLE }],
  });

export const completedPod = (name: string, f: PodFixture = {}): KubeObject =>
  pod(name, {
    node: 'node-1',
    phase: 'Succeeded',
    ...f,
    containers: [{ name: 'job', image: 'busybox:1.36', ready: false, state: { terminated: { reason: 'Completed', exitCode: 0, finishedAt: ago(60) } } }],
    conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'False', reason: 'PodCompleted' }],
  });

/** `n` plain running pods, `bulk-00000` …, spread over namespaces and nodes. */
export function manyPods(n: number): KubeObject[] {
  const out: KubeObject[] = [];
  for (let i = 0; i < n; i++) {
    const name = `bulk-${String(i).padStart(5, '0')}`;
    out.push(runningPod(name, { namespace: `bulk-${i % 4}`, node: `node-${(i % 3) + 1}`, labels: { app: 'bulk', shard: String(i % 10) }, age: HOUR + i }));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Workloads
// ---------------------------------------------------------------------------------------------

interface WorkloadFixture {
  namespace?: string;
  uid?: string;
  image?: string;
  age?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  generation?: number;
}

const meta = (name: string, f: WorkloadFixture) => ({
  name,
  namespace: f.namespace ?? 'default',
  uid: f.uid ?? nextUid(name),
  resourceVersion: '1',
  generation: f.generation ?? 1,
  creationTimestamp: ago(f.age ?? 2 * HOUR + 30),
  labels: f.labels ?? { app: name },
  ...(f.annotations ? { annotations: f.annotations } : {}),
});

const template = (name: string, image: string) => ({
  metadata: { labels: { app: name } },
  spec: { containers: [{ name: 'app', image }] },
});

export function deployment(
  name: string,
  f: WorkloadFixture & { replicas?: number; ready?: number; updated?: number; available?: number; total?: number; paused?: boolean; progressing?: { status: string; reason: string; message: string } } = {},
): KubeObject {
  const replicas = f.replicas ?? 3;
  const ready = f.ready ?? replicas;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(name, f),
    spec: { replicas, selector: { matchLabels: { app: name } }, template: template(name, f.image ?? `registry.local/${name}:1.0`), ...(f.paused ? { paused: true } : {}) },
    status: {
      observedGeneration: f.generation ?? 1,
      replicas: f.total ?? replicas,
      readyReplicas: ready,
      updatedReplicas: f.updated ?? replicas,
      availableReplicas: f.available ?? ready,
      conditions: [f.progressing ?? { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${name}-abc" has successfully progressed.` }].map((c) => ({ type: 'Progressing', ...c })),
    },
  };
}

export function statefulSet(name: string, f: WorkloadFixture & { replicas?: number; ready?: number } = {}): KubeObject {
  const replicas = f.replicas ?? 2;
  const ready = f.ready ?? replicas;
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: meta(name, f),
    spec: { replicas, serviceName: name, selector: { matchLabels: { app: name } }, template: template(name, f.image ?? `registry.local/${name}:16`) },
    status: { observedGeneration: 1, replicas, readyReplicas: ready, updatedReplicas: replicas, availableReplicas: ready, currentReplicas: replicas },
  };
}

export function daemonSet(name: string, f: WorkloadFixture & { desired?: number; ready?: number } = {}): KubeObject {
  const desired = f.desired ?? 2;
  const ready = f.ready ?? desired;
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: meta(name, f),
    spec: { selector: { matchLabels: { app: name } }, template: template(name, f.image ?? `registry.local/${name}:2.1`) },
    status: { observedGeneration: 1, desiredNumberScheduled: desired, currentNumberScheduled: desired, numberReady: ready, updatedNumberScheduled: desired, numberAvailable: ready },
  };
}

export function job(
  name: string,
  f: WorkloadFixture & { completions?: number; succeeded?: number; active?: number; complete?: boolean; failed?: string; suspend?: boolean; owner?: { kind: string; name: string; uid: string } } = {},
): KubeObject {
  const conditions = [
    ...(f.complete ? [{ type: 'Complete', status: 'True' }] : []),
    ...(f.failed ? [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: f.failed }] : []),
  ];
  const m = meta(name, f);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: f.owner ? { ...m, ownerReferences: [{ apiVersion: 'batch/v1', kind: f.owner.kind, name: f.owner.name, uid: f.owner.uid, controller: true }] } : m,
    spec: { completions: f.completions ?? 1, ...(f.suspend ? { suspend: true } : {}), template: { ...template(name, f.image ?? 'busybox:1.36'), spec: { restartPolicy: 'Never', containers: [{ name: 'job', image: f.image ?? 'busybox:1.36' }] } } },
    status: { succeeded: f.succeeded ?? 0, ...(f.active ? { active: f.active } : {}), conditions },
  };
}

export function cronJob(name: string, f: WorkloadFixture & { schedule?: string; suspend?: boolean; lastSchedule?: string; active?: number } = {}): KubeObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: meta(name, f),
    spec: {
      schedule: f.schedule ?? '*/5 * * * *',
      ...(f.suspend ? { suspend: true } : {}),
      jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'job', image: f.image ?? 'registry.local/report:3' }] } } } },
    },
    status: { ...(f.lastSchedule ? { lastScheduleTime: f.lastSchedule } : {}), active: Array.from({ length: f.active ?? 0 }, (_, i) => ({ kind: 'Job', name: `${name}-${i}` })) },
  };
}

/** A ReplicaSet a Deployment controls (its pods point at it). */
export function replicaSet(name: string, owner: KubeObject, f: { revision: number; image?: string; replicas?: number; uid?: string; resourceVersion?: string }): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name,
      namespace: owner.metadata.namespace!,
      uid: f.uid ?? nextUid(name),
      resourceVersion: f.resourceVersion ?? '1',
      creationTimestamp: ago(HOUR),
      annotations: { 'deployment.kubernetes.io/revision': String(f.revision) },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: owner.metadata.name!, uid: owner.metadata.uid!, controller: true }],
    },
    spec: { replicas: f.replicas ?? 0, template: template(owner.metadata.name!, f.image ?? 'x') },
    status: { replicas: f.replicas ?? 0, readyReplicas: f.replicas ?? 0 },
  };
}

export function event(
  name: string,
  f: { involved: { kind: string; namespace: string; name: string }; type?: 'Normal' | 'Warning'; reason: string; message: string; age?: number; count?: number },
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name, namespace: f.involved.namespace, uid: nextUid(name), resourceVersion: '1', creationTimestamp: ago(f.age ?? 60) },
    involvedObject: { kind: f.involved.kind, namespace: f.involved.namespace, name: f.involved.name },
    type: f.type ?? 'Normal',
    reason: f.reason,
    message: f.message,
    count: f.count ?? 1,
    lastTimestamp: ago(f.age ?? 60),
  };
}

/** One revision of a rollout history, its pod template carrying the image and an env value. */
export function revision(n: number, f: { image: string; cause?: string; current?: boolean; replicas?: number; age?: number; version?: string }): RolloutRevision {
  return {
    revision: n,
    replicaSet: `web-rs${n}`,
    images: [f.image],
    ...(f.cause ? { changeCause: f.cause } : {}),
    created: ago(f.age ?? (10 - n) * HOUR),
    replicas: f.replicas ?? (f.current ? 3 : 0),
    readyReplicas: f.replicas ?? (f.current ? 3 : 0),
    current: !!f.current,
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: f.image, env: [{ name: 'VERSION', value: f.version ?? `v${n}` }] }] } },
  };
}

// ---------------------------------------------------------------------------------------------
// Driving the UI
// ---------------------------------------------------------------------------------------------

/** Goes to a hash route the way a link click does, and waits for the router to follow. */
export async function navigate(hash: string): Promise<void> {
  const want = hash.replace(/^#\/?/, '');
  if (location.hash.replace(/^#\/?/, '') !== want) location.hash = hash;
  await until(`the route ${hash}`, () => [route.view, ...route.parts].map((p) => encodeURIComponent(p)).join('/') === want);
}

/** Types into an input as a user does: the value changes and an input event fires. */
export function typeInto(input: HTMLInputElement, text: string): void {
  input.focus();
  input.value = text;
  input.dispatchEvent(new Event('input', { bubbles: true }));
  flushSync();
}

/** Picks an option of a select (fires change, which `bind:value` listens to). */
export function choose(select: HTMLSelectElement, value: string): void {
  if (![...select.options].some((o) => o.value === value)) throw new Error(`no option ${value} in ${select.getAttribute('aria-label')}`);
  select.value = value;
  select.dispatchEvent(new Event('change', { bubbles: true }));
  flushSync();
}

export function press(el: HTMLElement, key: string): KeyboardEvent {
  const e = new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true });
  el.dispatchEvent(e);
  flushSync();
  return e;
}

/** The button whose text (or aria-label) is `label`, inside `root`. */
export function buttonIn(root: ParentNode, label: string): HTMLButtonElement {
  const b = [...root.querySelectorAll('button')].find((x) => x.textContent?.trim() === label || x.getAttribute('aria-label') === label);
  if (!b) throw new Error(`no button "${label}" in ${(root as HTMLElement).outerHTML?.slice(0, 300) ?? 'root'}`);
  return b;
}

export const hasButton = (root: ParentNode, label: string): boolean =>
  [...root.querySelectorAll('button')].some((x) => x.textContent?.trim() === label || x.getAttribute('aria-label') === label);

/** Gives a mounted view the height the app's content area gives it (a virtual list needs one). */
export function sized(target: HTMLElement, height = 800): void {
  target.style.height = `${height}px`;
  target.style.display = 'flex';
  target.style.flexDirection = 'column';
  flushSync();
}

export const text = (el: Element | null | undefined): string => (el?.textContent ?? '').replace(/\s+/g, ' ').trim();

/** A table row's cells' texts joined with ` | ` (textContent runs adjacent cells together). */
export const rowText = (tr: Element): string => [...tr.querySelectorAll('td')].map(text).join(' | ');

/** The confirm dialog's OK and Cancel, once it shows. */
export async function confirmDialog(): Promise<{ dialog: HTMLElement; ok: HTMLButtonElement; cancel: HTMLButtonElement }> {
  const dialog = await until('the confirmation dialog', () => document.querySelector<HTMLElement>('[data-testid="confirm-dialog"]'));
  return { dialog, ok: dialog.querySelector<HTMLButtonElement>('[data-testid="confirm-ok"]')!, cancel: buttonIn(dialog, 'Cancel') };
}

/** Lets pending promises and timers run (for asserting that something did NOT happen). */
export const settle = (ms = 100): Promise<void> => new Promise((r) => setTimeout(r, ms)).then(() => flushSync());
