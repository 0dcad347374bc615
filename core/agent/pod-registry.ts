/**
 * The pods this agent runs, as its pod informer reports them: one PodState per pod uid, what each
 * pod refers to (so a changed ConfigMap re-syncs the pods that use it), and the changes that need
 * a sync — spec, labels/annotations (downward API), deletion, readiness-gate conditions — not the
 * status writes the agent makes itself.
 */
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../api/types.ts';
import { podReferences } from './config-sources.ts';
import type { MetricsTarget } from './metrics.ts';
import { newPodState, type PodState } from './types.ts';
import { asPod } from './util.ts';

export class PodRegistry {
  readonly states = new Map<string, PodState>();
  private readonly refs = new Map<string, Set<string>>();

  constructor(
    private readonly enqueue: (uid: string) => void,
    /** Whether a pod seen now can have nothing in the runtime yet (the adoption scan is done). */
    private readonly freshIfNew: () => boolean,
  ) {}

  onPod(obj: KubeObject, old?: KubeObject): void {
    const pod = asPod(obj);
    const uid = pod.metadata.uid;
    if (!uid) return;
    let state = this.states.get(uid);
    if (!state) this.states.set(uid, (state = newPodState(pod, this.freshIfNew())));
    state.pod = pod;
    state.deleted = false;
    this.refs.set(uid, podReferences(pod));
    if (!old || changedForSync(old, obj)) this.enqueue(uid);
  }

  onPodDeleted(obj: KubeObject): void {
    const uid = obj.metadata.uid;
    const state = uid ? this.states.get(uid) : undefined;
    if (!state) return;
    state.deleted = true;
    state.pod = asPod(obj);
    this.enqueue(state.uid);
  }

  /** `Kind/namespace/name` changed: sync the pods that use it. */
  onSourceChange(ref: string): void {
    for (const [uid, refs] of this.refs) if (refs.has(ref)) this.enqueue(uid);
  }

  find(namespace: string, name: string): PodState | undefined {
    for (const s of this.states.values()) if (s.pod.metadata.namespace === namespace && s.pod.metadata.name === name && !s.deleted) return s;
    return undefined;
  }

  forget(uid: string): void {
    this.states.delete(uid);
    this.refs.delete(uid);
  }

  metricsTargets(): MetricsTarget[] {
    const out: MetricsTarget[] = [];
    for (const s of this.states.values()) {
      if (s.running.size) out.push({ uid: s.uid, namespace: s.pod.metadata.namespace ?? 'default', name: s.pod.metadata.name ?? '', containers: s.running });
    }
    return out;
  }
}

/** A change the pod's sync must see (spec, labels/annotations for the downward API, deletion, readiness gates). */
export function changedForSync(old: KubeObject, obj: KubeObject): boolean {
  if (!isDeepStrictEqual(old.spec, obj.spec)) return true;
  const a = old.metadata;
  const b = obj.metadata;
  if (a.deletionTimestamp !== b.deletionTimestamp || a.deletionGracePeriodSeconds !== b.deletionGracePeriodSeconds) return true;
  if (!isDeepStrictEqual(a.labels, b.labels) || !isDeepStrictEqual(a.annotations, b.annotations)) return true;
  const gates = (obj.spec?.readinessGates ?? []) as Array<{ conditionType: string }>;
  if (!gates.length) return false;
  const pick = (o: KubeObject) => ((o.status?.conditions ?? []) as Array<{ type: string; status: string }>).filter((c) => gates.some((g) => g.conditionType === c.type));
  return !isDeepStrictEqual(pick(old), pick(obj));
}
