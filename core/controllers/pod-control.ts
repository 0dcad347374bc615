/**
 * Creating and deleting pods for a controller, and claiming objects by selector — Kubernetes'
 * RealPodControl and ControllerRefManager, generic over the owner kind (ReplicaSet, Job,
 * StatefulSet, DaemonSet …):
 *
 * - `podFromTemplate` / `PodControl.createPod`: a pod from a template with the owner's controller
 *   ownerReference, `generateName: <owner>-`, optional extra labels (a Job's controller-uid), and
 *   the events `SuccessfulCreate` "Created pod: web-7d4b9c-x2k4q" / `FailedCreate` "Error creating: …".
 * - `PodControl.deletePod`: `SuccessfulDelete` "Deleted pod: …" / `FailedDelete` "Error deleting: …".
 * - `claimObjects`: keep what the owner controls and still selects, adopt matching orphans (after
 *   re-reading the owner once to be sure it is not being deleted), release what no longer matches.
 */
import { isApiError } from '../api/errors.ts';
import type { Selector } from '../api/selectors.ts';
import type { KubeObject, OwnerReference } from '../api/types.ts';
import type { Client } from '../client/client.ts';
import type { EventRecorder } from '../client/event-recorder.ts';
import type { Informer } from './informer.ts';

const POD = { apiVersion: 'v1', kind: 'Pod' } as const;

/** Index of objects by the uid of their controller ownerReference (shared by every controller). */
export const BY_CONTROLLER_UID = 'controllerUid';

export function controllerUidOf(obj: KubeObject): string[] {
  const ref = getControllerOf(obj);
  return ref ? [ref.uid] : [];
}

/** Add the by-controller-uid index (idempotent: the same name and function every time). */
export function indexByControllerUid(inf: Informer): void {
  inf.addIndex(BY_CONTROLLER_UID, controllerUidOf);
}

/** metav1.NewControllerRef: the ownerReference a controller puts on what it creates. */
export function newControllerRef(owner: KubeObject): OwnerReference {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name!,
    uid: owner.metadata.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** metav1.GetControllerOf. */
export function getControllerOf(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata.ownerReferences?.find((r) => r.controller === true);
}

/**
 * The owner a controller reference points at, from the owner kind's informer — only if it is
 * still that object (same uid), as client-go's resolveControllerRef.
 */
export function resolveControllerRef(
  namespace: string | undefined,
  ref: Pick<OwnerReference, 'kind' | 'name' | 'uid'> | undefined,
  kind: string,
  owners: Informer,
): KubeObject | undefined {
  if (!ref || ref.kind !== kind) return undefined;
  const owner = owners.get(namespace ? `${namespace}/${ref.name}` : ref.name);
  return owner && owner.metadata.uid === ref.uid ? owner : undefined;
}

export function isControlledBy(obj: KubeObject, owner: KubeObject): boolean {
  const ref = getControllerOf(obj);
  return !!ref && ref.uid === owner.metadata.uid;
}

export interface PodTemplateOptions {
  /** Default `<owner name>-`. */
  generateName?: string;
  /** Added to (and overriding) the template's labels, e.g. `batch.kubernetes.io/controller-uid`. */
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Set spec.nodeName (DaemonSet-style placement); normally the scheduler binds. */
  nodeName?: string;
  /** Default: the owner's controller reference; `null` creates an unowned pod. */
  controllerRef?: OwnerReference | null;
}

/** GetPodFromTemplate: the pod a controller would create from `template` for `owner`. */
export function podFromTemplate(template: any, owner: KubeObject, opts: PodTemplateOptions = {}): KubeObject {
  const t = structuredClone(template ?? {});
  const labels = { ...(t.metadata?.labels ?? {}), ...(opts.labels ?? {}) };
  const annotations = { ...(t.metadata?.annotations ?? {}), ...(opts.annotations ?? {}) };
  const ref = opts.controllerRef === undefined ? newControllerRef(owner) : opts.controllerRef;
  const metadata: KubeObject['metadata'] = {
    generateName: opts.generateName ?? `${owner.metadata.name}-`,
    namespace: owner.metadata.namespace,
    labels,
  };
  if (Object.keys(annotations).length) metadata.annotations = annotations;
  if (t.metadata?.finalizers?.length) metadata.finalizers = [...t.metadata.finalizers];
  if (ref) metadata.ownerReferences = [ref];
  const spec = t.spec ?? {};
  if (opts.nodeName) spec.nodeName = opts.nodeName;
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec };
}

/** True for the error of a write into a namespace that is being deleted. */
export function isNamespaceTerminating(e: unknown): boolean {
  return isApiError(e, 'Forbidden') && /because it is being terminated/.test(e.message);
}

/** Creates and deletes pods for an owner, recording Kubernetes' events on the owner. */
export class PodControl {
  constructor(
    private readonly client: Client,
    private readonly recorder: EventRecorder,
    private readonly fieldManager?: string,
  ) {}

  async createPod(template: any, owner: KubeObject, opts: PodTemplateOptions = {}): Promise<KubeObject> {
    const pod = podFromTemplate(template, owner, opts);
    if (!Object.keys(pod.metadata.labels ?? {}).length) throw new Error('unable to create pods, no labels');
    try {
      const created = await this.client.create(pod, { fieldManager: this.fieldManager });
      this.recorder.event(owner, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`);
      return created;
    } catch (e) {
      // Creating into a terminating namespace is expected while it goes; no event for that.
      if (!isNamespaceTerminating(e)) this.recorder.event(owner, 'Warning', 'FailedCreate', `Error creating: ${(e as Error).message}`);
      throw e;
    }
  }

  /** Delete a pod; NotFound is rethrown as is (callers usually ignore it), without an event. */
  async deletePod(namespace: string, name: string, owner: KubeObject): Promise<void> {
    try {
      await this.client.delete({ ...POD, namespace, name }, { fieldManager: this.fieldManager });
      this.recorder.event(owner, 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`);
    } catch (e) {
      if (!isApiError(e, 'NotFound')) this.recorder.event(owner, 'Warning', 'FailedDelete', `Error deleting: ${(e as Error).message}`);
      throw e;
    }
  }
}

/**
 * RecheckDeletionTimestamp as a `canAdopt` check: reads the owner from the API once (however
 * many objects are adopted) and refuses when it is gone, replaced (new uid) or being deleted.
 */
export function recheckOwner(client: Client, owner: KubeObject): () => Promise<void> {
  let check: Promise<void> | undefined;
  const m = owner.metadata;
  const what = `${owner.kind} ${m.namespace ? `${m.namespace}/` : ''}${m.name}`;
  return () =>
    (check ??= (async () => {
      const fresh = await client.get({ apiVersion: owner.apiVersion, kind: owner.kind, namespace: m.namespace, name: m.name! });
      if (fresh.metadata.uid !== m.uid) throw new Error(`original ${what} is gone: got uid ${fresh.metadata.uid}, wanted ${m.uid}`);
      if (fresh.metadata.deletionTimestamp) throw new Error(`${what} has just been deleted at ${fresh.metadata.deletionTimestamp}`);
    })());
}

export interface ClaimOptions {
  client: Client;
  /** The controller claiming (its uid, namespace and deletionTimestamp matter). */
  owner: KubeObject;
  selector: Selector;
  /** Throws when the owner may not adopt (see recheckOwner). */
  canAdopt: () => Promise<void>;
  fieldManager?: string;
  /** Further condition an object must meet to be claimed (besides the selector). */
  match?: (obj: KubeObject) => boolean;
}

/**
 * ClaimObjects: the objects `owner` should manage. Owned and matching: kept. Owned but no longer
 * matching: released (unless the owner is being deleted). Orphans that match: adopted. Others'
 * objects are never touched. Errors are collected; the first is thrown after trying them all.
 */
export async function claimObjects<T extends KubeObject>(objects: readonly T[], opts: ClaimOptions): Promise<T[]> {
  const claimed: T[] = [];
  const errors: unknown[] = [];
  for (const obj of objects) {
    try {
      const got = await claimObject(obj, opts);
      if (got) claimed.push(got);
    } catch (e) {
      errors.push(e);
    }
  }
  if (errors.length) throw errors[0];
  return claimed;
}

async function claimObject<T extends KubeObject>(obj: T, opts: ClaimOptions): Promise<T | undefined> {
  const { owner } = opts;
  const matches = opts.selector.matches(obj.metadata.labels ?? {}) && (opts.match?.(obj) ?? true);
  const ref = getControllerOf(obj);
  if (ref) {
    if (ref.uid !== owner.metadata.uid) return undefined;
    if (matches) return obj;
    if (owner.metadata.deletionTimestamp) return undefined;
    await release(obj, opts);
    return undefined;
  }
  if (owner.metadata.deletionTimestamp || !matches || obj.metadata.deletionTimestamp) return undefined;
  if (owner.metadata.namespace && owner.metadata.namespace !== obj.metadata.namespace) return undefined;
  try {
    await opts.canAdopt();
  } catch (e) {
    throw new Error(`can't adopt ${obj.kind} ${obj.metadata.namespace}/${obj.metadata.name} (${obj.metadata.uid}): ${(e as Error).message}`);
  }
  try {
    // A strategic merge keyed by uid adds the reference without disturbing anyone else's.
    return await opts.client.patch<T>(
      refOf(obj),
      'strategic',
      { metadata: { ownerReferences: [newControllerRef(owner)], uid: obj.metadata.uid } },
      { fieldManager: opts.fieldManager },
    );
  } catch (e) {
    if (isApiError(e, 'NotFound')) return undefined;
    throw e;
  }
}

async function release(obj: KubeObject, opts: ClaimOptions): Promise<void> {
  try {
    await opts.client.patch(
      refOf(obj),
      'strategic',
      { metadata: { ownerReferences: [{ $patch: 'delete', uid: opts.owner.metadata.uid }], uid: obj.metadata.uid } },
      { fieldManager: opts.fieldManager },
    );
  } catch (e) {
    // Gone, or already released / recreated: nothing to release.
    if (isApiError(e, 'NotFound') || isApiError(e, 'Invalid')) return;
    throw e;
  }
}

function refOf(obj: KubeObject) {
  return { apiVersion: obj.apiVersion, kind: obj.kind, namespace: obj.metadata.namespace, name: obj.metadata.name! };
}
