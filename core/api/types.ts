/**
 * Object types. Objects are plain Kubernetes JSON (Headlamp style): typed with
 * `kubernetes-types`, handled by functions, never wrapped in classes.
 */
import type { ObjectMeta, Status, StatusCause, OwnerReference } from 'kubernetes-types/meta/v1.js';

export type { ObjectMeta, Status, StatusCause, OwnerReference };
export type * as core from 'kubernetes-types/core/v1.js';
export type * as apps from 'kubernetes-types/apps/v1.js';
export type * as batch from 'kubernetes-types/batch/v1.js';
export type * as autoscaling from 'kubernetes-types/autoscaling/v2.js';
export type * as rbac from 'kubernetes-types/rbac/v1.js';
export type * as coordination from 'kubernetes-types/coordination/v1.js';
export type * as scheduling from 'kubernetes-types/scheduling/v1.js';

/** ObjectMeta with the server-set fields writable: the API layer is what sets them. */
export type Meta = { -readonly [K in keyof ObjectMeta]: ObjectMeta[K] };

/** Any stored object: apiVersion, kind, metadata and whatever the kind carries. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: Meta;
  spec?: any;
  status?: any;
  [field: string]: unknown;
}

/** A list as the API returns it. */
export interface KubeList<T extends KubeObject = KubeObject> {
  apiVersion: string;
  kind: string;
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  items: T[];
}

/** `Deployment default/web` or `Namespace web` — how errors and logs name an object. */
export function describeObject(obj: { kind?: string; metadata?: { namespace?: string; name?: string; generateName?: string } }): string {
  const kind = obj.kind ?? 'Object';
  const name = obj.metadata?.name ?? (obj.metadata?.generateName ? `${obj.metadata.generateName}*` : '<unnamed>');
  return obj.metadata?.namespace ? `${kind} ${obj.metadata.namespace}/${name}` : `${kind} ${name}`;
}
