/**
 * The one Client interface. Controllers, the scheduler, node agents, the desktop UI and the YAML
 * importer all talk to the API layer through it; the in-process and HTTP implementations are
 * interchangeable. Errors are `ApiError`s carrying Kubernetes `Status` objects.
 */
import type { KubeList, KubeObject } from '../api/types.ts';

/** Which kind (and where): `{ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default' }`. */
export interface KindRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
}

export interface ObjectRef extends KindRef {
  name: string;
}

export interface WriteOptions {
  /** Run the whole admission chain but persist nothing. */
  dryRun?: boolean;
  /** Recorded as the field manager (kubectl, wheelhouse-ui, deployment-controller …). */
  fieldManager?: string;
}

export interface ListOptions {
  namespace?: string;
  /** `app=web,tier in (a,b),!canary` */
  labelSelector?: string;
  /** `spec.nodeName=n1,status.phase!=Running` */
  fieldSelector?: string;
  limit?: number;
  continue?: string;
}

export interface WatchOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Resume after this resourceVersion; '' / undefined: send the current state as ADDED first. */
  resourceVersion?: string;
  /** Send BOOKMARK events carrying the newest resourceVersion. */
  allowWatchBookmarks?: boolean;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface ClientWatchEvent<T extends KubeObject = KubeObject> {
  type: WatchEventType;
  /** The object, or a Status for ERROR (e.g. 410 Expired when resuming from a compacted revision). */
  object: T;
}

export interface WatchHandle {
  close(): void;
}

export type PropagationPolicy = 'Foreground' | 'Background' | 'Orphan';

export interface DeleteOptions extends WriteOptions {
  propagationPolicy?: PropagationPolicy;
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
}

export type PatchType = 'merge' | 'json' | 'strategic';

export interface Client {
  create<T extends KubeObject>(obj: T, opts?: WriteOptions): Promise<T>;
  get<T extends KubeObject = KubeObject>(ref: ObjectRef): Promise<T>;
  list<T extends KubeObject = KubeObject>(ref: KindRef, opts?: ListOptions): Promise<KubeList<T>>;
  /** Replace the object; `metadata.resourceVersion`, when set, must be current (else Conflict). */
  update<T extends KubeObject>(obj: T, opts?: WriteOptions): Promise<T>;
  /** Replace only `.status` (the status subresource). */
  updateStatus<T extends KubeObject>(obj: T, opts?: WriteOptions): Promise<T>;
  patch<T extends KubeObject = KubeObject>(ref: ObjectRef, type: PatchType, patch: unknown, opts?: WriteOptions): Promise<T>;
  /** @returns the object as deleted (or as marked for deletion when finalizers hold it). */
  delete<T extends KubeObject = KubeObject>(ref: ObjectRef, opts?: DeleteOptions): Promise<T>;
  /** pods/binding: assign an unbound pod to a node (Conflict when already bound). */
  bind(pod: { namespace: string; name: string }, nodeName: string, opts?: WriteOptions): Promise<void>;
  /**
   * pods/eviction: delete the pod unless its PodDisruptionBudget forbids it (TooManyRequests,
   * 429: try again later). `opts` are the Eviction's deleteOptions.
   */
  evict(pod: { namespace: string; name: string }, opts?: DeleteOptions): Promise<void>;
  watch<T extends KubeObject = KubeObject>(
    ref: KindRef,
    opts: WatchOptions,
    onEvent: (ev: ClientWatchEvent<T>) => void,
  ): WatchHandle;
}
