/**
 * Defaulting as kube-apiserver applies it on decode: `applyDefaults` returns a defaulted deep copy
 * (pure, idempotent). Server-owned metadata (uid, creationTimestamp, generation, a generated name)
 * is not touched there; the API server calls `defaultObjectMeta` on create for that.
 *
 * Deliberate desktop choice: a Job's (or CronJob's) pod template gets no restartPolicy, so
 * validation asks for OnFailure or Never instead of rejecting a silently defaulted Always.
 */
import { randomInt } from 'node:crypto';
import type { KubeObject } from './types.ts';
import {
  defaultEndpoints, defaultHPA, defaultLimitRange, defaultNamespace, defaultPriorityClass, defaultPV, defaultPVCSpec, defaultSecret,
  defaultService,
} from './defaults/other.ts';
import { defaultPodSpec } from './defaults/pod.ts';
import { child, isObj, type Obj } from './defaults/util.ts';
import {
  defaultCronJob, defaultDaemonSet, defaultDeployment, defaultJob, defaultReplicaSet, defaultStatefulSet, generateJobSelector,
} from './defaults/workloads.ts';

export { defaultPullPolicy, defaultPodSpec } from './defaults/pod.ts';
export { generateJobSelector } from './defaults/workloads.ts';

/** Defaulters of a kind's `spec` (created when missing, as Go's value structs are). */
const SPEC_DEFAULTERS: Record<string, (spec: Obj, obj: Obj) => void> = {
  Pod: (spec) => defaultPodSpec(spec, { pod: true }),
  ReplicaSet: defaultReplicaSet,
  Deployment: defaultDeployment,
  StatefulSet: defaultStatefulSet,
  DaemonSet: defaultDaemonSet,
  Job: (_spec, job) => defaultJob(job),
  CronJob: defaultCronJob,
  Service: defaultService,
  PersistentVolumeClaim: defaultPVCSpec,
  PersistentVolume: defaultPV,
  HorizontalPodAutoscaler: defaultHPA,
  LimitRange: defaultLimitRange,
};

/** Defaulters of the whole object. */
const OBJECT_DEFAULTERS: Record<string, (obj: Obj) => void> = {
  Namespace: defaultNamespace,
  Secret: defaultSecret,
  Endpoints: defaultEndpoints,
  PriorityClass: defaultPriorityClass,
};

/** A defaulted deep copy of `obj`. Unknown kinds come back copied, unchanged. */
export function applyDefaults<T extends KubeObject>(obj: T): T {
  const out = structuredClone(obj) as T & Obj;
  if (!isObj(out)) return out;
  const kind = typeof out.kind === 'string' ? out.kind : '';
  const spec = Object.hasOwn(SPEC_DEFAULTERS, kind) ? SPEC_DEFAULTERS[kind] : undefined;
  if (spec) {
    const s = child(out, 'spec');
    if (s) spec(s, out);
  }
  if (Object.hasOwn(OBJECT_DEFAULTERS, kind)) OBJECT_DEFAULTERS[kind]!(out);
  return out;
}

/** Kubernetes' name-generator alphabet: no vowels (no words), no confusable 0/1/3. */
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const MAX_NAME = 63;
const RANDOM_LENGTH = 5;

/** `generateName` plus five random characters, the prefix cut to leave room (SimpleNameGenerator). */
export function generateName(base: string, random: (n: number) => number = randomInt): string {
  let s = base.slice(0, MAX_NAME - RANDOM_LENGTH);
  for (let i = 0; i < RANDOM_LENGTH; i++) s += ALPHABET[random(ALPHABET.length)];
  return s;
}

/** RFC 3339 at second precision, as metav1.Time serializes: `2024-05-01T12:00:00Z`. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * For the API server on create, in place (and returned): a name from `generateName` when there is
 * no name, a fresh uid and creationTimestamp (always — a client's are never kept, as in
 * Kubernetes), generation 1 for objects with a spec, and for Jobs without `manualSelector` the
 * generated selector and template labels (which need the uid).
 */
export function defaultObjectMeta<T extends KubeObject>(
  obj: T,
  now: Date,
  newUid: () => string,
  random?: (n: number) => number,
): T {
  const meta: Obj = (obj.metadata ??= {});
  if (!meta.name && meta.generateName) {
    meta.name = generateName(meta.generateName, random);
    if (obj.kind === 'Namespace') (meta.labels ??= {})['kubernetes.io/metadata.name'] = meta.name;
  }
  meta.uid = newUid();
  meta.creationTimestamp = rfc3339(now);
  if (obj.spec !== undefined) meta.generation = 1;
  if (obj.kind === 'Job') generateJobSelector(obj as Obj);
  return obj;
}
