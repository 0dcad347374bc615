/**
 * Fixture builders and small user-level helpers shared by the Config, Deploy/Import and
 * Overview/Services component tests (harness.ts stays as it is: other tests use it).
 */
import { flushSync } from 'svelte';
import { userEvent } from 'vitest/browser';
import type { KubeObject } from '../../core/api/types.ts';
import type { ConfigData, ConfigEntry, ConfigKind, ImagePullState, ImportObject, ImportPreview, WorkloadRef } from '../../core/desktop-api.ts';
import { until } from './harness.ts';

const CREATED = '2024-05-01T10:00:00Z';

export function namespace(name: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, creationTimestamp: CREATED }, spec: {}, status: { phase: 'Active' } } as KubeObject;
}

export function configMap(ns: string, name: string, data: Record<string, string>, extra: { binaryData?: Record<string, string>; resourceVersion?: string } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { namespace: ns, name, creationTimestamp: CREATED, resourceVersion: extra.resourceVersion ?? '10', uid: `uid-cm-${ns}-${name}` },
    data,
    ...(extra.binaryData ? { binaryData: extra.binaryData } : {}),
  } as KubeObject;
}

/** A Secret as lists and watches carry it: every value masked (''). */
export function secret(ns: string, name: string, keys: string[], extra: { type?: string; resourceVersion?: string } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { namespace: ns, name, creationTimestamp: CREATED, resourceVersion: extra.resourceVersion ?? '20', uid: `uid-secret-${ns}-${name}` },
    type: extra.type ?? 'Opaque',
    data: Object.fromEntries(keys.map((k) => [k, ''])),
  } as KubeObject;
}

export function entry(key: string, value: string, opts: Partial<ConfigEntry> = {}): ConfigEntry {
  return { key, value, encoding: 'text', size: new TextEncoder().encode(value).length, masked: false, ...opts };
}

export function maskedEntry(key: string, size: number, encoding: 'text' | 'base64' = 'text'): ConfigEntry {
  return { key, value: '', encoding, size, masked: true };
}

export function configData(kind: ConfigKind, ns: string, name: string, entries: ConfigEntry[], opts: { resourceVersion?: string; usedBy?: WorkloadRef[]; type?: string } = {}): ConfigData {
  return {
    kind,
    namespace: ns,
    name,
    ...(kind === 'Secret' ? { type: opts.type ?? 'Opaque' } : {}),
    resourceVersion: opts.resourceVersion ?? '10',
    entries,
    usedBy: opts.usedBy ?? [],
  };
}

export function node(name: string, opts: { ready?: boolean; cpu?: string; memory?: string } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, creationTimestamp: CREATED, labels: { 'kubernetes.io/hostname': name } },
    spec: {},
    status: {
      capacity: { cpu: opts.cpu ?? '4', memory: opts.memory ?? '8Gi', pods: '110' },
      allocatable: { cpu: opts.cpu ?? '4', memory: opts.memory ?? '8Gi', pods: '110' },
      conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True', reason: opts.ready === false ? 'KubeletNotReady' : 'KubeletReady' }],
    },
  } as KubeObject;
}

export interface PodOpts {
  phase?: 'Running' | 'Pending' | 'Succeeded' | 'Failed' | 'Unknown';
  node?: string;
  cpu?: string;
  memory?: string;
  /** A waiting container reason (CrashLoopBackOff, ImagePullBackOff …). */
  waiting?: { reason: string; message?: string };
  labels?: Record<string, string>;
  ip?: string;
}

export function pod(ns: string, name: string, o: PodOpts = {}): KubeObject {
  const phase = o.phase ?? 'Running';
  const running = phase === 'Running' && !o.waiting;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace: ns, name, creationTimestamp: CREATED, uid: `uid-pod-${ns}-${name}`, labels: o.labels ?? { app: name } },
    spec: {
      ...(o.node === undefined && phase === 'Pending' ? {} : { nodeName: o.node ?? 'node-1' }),
      containers: [{ name: 'app', image: 'nginx:1.27', resources: { requests: { ...(o.cpu ? { cpu: o.cpu } : {}), ...(o.memory ? { memory: o.memory } : {}) } } }],
    },
    status: {
      phase,
      ...(o.ip ? { podIP: o.ip } : {}),
      conditions: [{ type: 'Ready', status: running ? 'True' : 'False' }],
      containerStatuses: [
        {
          name: 'app',
          image: 'nginx:1.27',
          ready: running,
          restartCount: o.waiting ? 4 : 0,
          state: o.waiting ? { waiting: o.waiting } : phase === 'Running' ? { running: { startedAt: CREATED } } : phase === 'Succeeded' ? { terminated: { exitCode: 0, reason: 'Completed' } } : phase === 'Failed' ? { terminated: { exitCode: 1, reason: 'Error' } } : { waiting: { reason: 'ContainerCreating' } },
        },
      ],
    },
  } as KubeObject;
}

export function deployment(ns: string, name: string): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { namespace: ns, name, creationTimestamp: CREATED, uid: `uid-deploy-${ns}-${name}` },
    spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] } } },
    status: { replicas: 1, readyReplicas: 1 },
  } as KubeObject;
}

let eventSeq = 0;
export function event(ns: string, o: { type?: 'Normal' | 'Warning'; reason: string; message: string; kind: string; name: string; at: string; count?: number; uid?: string }): KubeObject {
  eventSeq++;
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { namespace: ns, name: `${o.name}.${eventSeq}`, creationTimestamp: o.at },
    type: o.type ?? 'Normal',
    reason: o.reason,
    message: o.message,
    involvedObject: { kind: o.kind, namespace: ns, name: o.name, ...(o.uid ? { uid: o.uid } : {}) },
    firstTimestamp: o.at,
    lastTimestamp: o.at,
    count: o.count ?? 1,
  } as KubeObject;
}

export interface ServiceOpts {
  type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
  clusterIP?: string;
  ports?: Array<{ name?: string; port: number; targetPort?: number | string; nodePort?: number; protocol?: string; appProtocol?: string }>;
  selector?: Record<string, string> | null;
  ingress?: Array<{ ip: string; ports?: Array<{ port: number; protocol: string; error?: string }> }>;
  externalName?: string;
  labels?: Record<string, string>;
}

export function service(ns: string, name: string, o: ServiceOpts = {}): KubeObject {
  const type = o.type ?? 'ClusterIP';
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace: ns, name, creationTimestamp: CREATED, uid: `uid-svc-${ns}-${name}`, labels: o.labels ?? { app: name } },
    spec: {
      type,
      ...(type === 'ExternalName' ? { externalName: o.externalName } : { clusterIP: o.clusterIP ?? '10.96.0.10', clusterIPs: [o.clusterIP ?? '10.96.0.10'] }),
      ...(o.selector === null ? {} : { selector: o.selector ?? { app: name } }),
      ports: (o.ports ?? [{ port: 80, targetPort: 8080 }]).map((p) => ({ protocol: 'TCP', ...p })),
      sessionAffinity: 'None',
    },
    status: { loadBalancer: o.ingress ? { ingress: o.ingress } : {} },
  } as KubeObject;
}

export function endpoints(ns: string, name: string, ready: Array<{ ip: string; pod: string; node?: string; hostname?: string }>, notReady: Array<{ ip: string; pod: string }> = [], ports: number[] = [8080]): KubeObject {
  const addr = (a: { ip: string; pod: string; node?: string; hostname?: string }) => ({ ip: a.ip, ...(a.hostname ? { hostname: a.hostname } : {}), nodeName: a.node ?? 'node-1', targetRef: { kind: 'Pod', namespace: ns, name: a.pod } });
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { namespace: ns, name, creationTimestamp: CREATED },
    subsets: ready.length || notReady.length ? [{ addresses: ready.map(addr), notReadyAddresses: notReady.map(addr), ports: ports.map((p) => ({ port: p, protocol: 'TCP' })) }] : [],
  } as KubeObject;
}

export function pull(image: string, o: Partial<ImagePullState> = {}): ImagePullState {
  return { image, container: 'app', done: false, currentBytes: 0, totalBytes: 0, layers: 0, ...o };
}

export function importObject(o: Partial<ImportObject> & Pick<ImportObject, 'kind' | 'name'>): ImportObject {
  const namespace = o.namespace ?? 'default';
  return {
    file: 'app.yaml',
    document: 1,
    line: 1,
    apiVersion: o.kind === 'Deployment' ? 'apps/v1' : 'v1',
    namespace,
    object: `${o.kind} ${namespace}/${o.name}`,
    action: 'created',
    ...o,
  };
}

export function importPreview(objects: ImportObject[], problems: ImportPreview['problems'] = [], applied = false): ImportPreview {
  return { ok: problems.length === 0, objects, problems, applied };
}

// ---------------------------------------------------------------------------------------------
// Finding things the way a user sees them
// ---------------------------------------------------------------------------------------------

/** Text with runs of white space collapsed. */
export const textOf = (el: Element | null | undefined): string => (el?.textContent ?? '').replace(/\s+/g, ' ').trim();

/** The button whose visible text is `label` (first match). */
export function button(root: ParentNode, label: string | RegExp): HTMLButtonElement | undefined {
  return [...root.querySelectorAll<HTMLButtonElement>('button')].find((b) => (typeof label === 'string' ? textOf(b) === label : label.test(textOf(b))));
}

export async function buttonOf(root: ParentNode, label: string | RegExp): Promise<HTMLButtonElement> {
  return until(`a button "${label}"`, () => button(root, label));
}

/** The form control inside the `<label>` whose text starts with `text`. */
export function labelled<T extends HTMLElement = HTMLInputElement>(root: ParentNode, text: string): T | undefined {
  const label = [...root.querySelectorAll('label')].find((l) => textOf(l).startsWith(text));
  return (label?.querySelector('input, select, textarea') as T | null) ?? undefined;
}

export const byLabel = <T extends HTMLElement = HTMLInputElement>(root: ParentNode, aria: string): T[] => [...root.querySelectorAll<T>(`[aria-label="${aria}"]`)];

/** Replaces a field's text the way a user does: focus, select all, enter the text (real input events). */
export async function typeInto(el: HTMLElement, text: string): Promise<void> {
  await userEvent.fill(el, text);
}

/** Types key by key (keydown, keypress, input, keyup for each character) at the end of a field. */
export async function typeKeys(el: HTMLElement, text: string): Promise<void> {
  await userEvent.type(el, text);
}

/** Picks an option of a `<select>` by its label or value (a real selection). */
export async function choose(el: HTMLSelectElement, option: string): Promise<void> {
  await userEvent.selectOptions(el, option);
}

/** Sets location.hash and waits until the router has seen it (its hashchange listener runs first). */
export async function navigate(hash: string): Promise<void> {
  if (location.hash === hash) return;
  const changed = new Promise((r) => window.addEventListener('hashchange', r, { once: true }));
  location.hash = hash;
  await changed;
  flushSync();
}

export async function waitForHash(hash: string): Promise<void> {
  await until(`location ${hash}`, () => decodeURIComponent(location.hash) === hash);
}

/** Lets pending promises and effects settle. */
export const settle = (ms = 60): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Everything a user can read in `root`: its text and the values of its fields. */
export function visibleText(root: ParentNode): string {
  const fields = [...root.querySelectorAll<HTMLInputElement | HTMLTextAreaElement>('input, textarea')].map((f) => f.value);
  return `${(root as Element).textContent ?? ''}\n${fields.join('\n')}`;
}
