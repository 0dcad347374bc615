/** Kind names of the contract → API references (apiVersion, namespaced). */
import { apiVersionOf, kindByName, type KindInfo } from '../api/kinds.ts';
import type { KindRef, ObjectRef } from '../client/client.ts';
import { DesktopError } from '../desktop-api.ts';

export function kindInfo(kind: string): KindInfo {
  const info = kindByName(kind);
  if (!info) throw new DesktopError('BadRequest', `args.kind: ${JSON.stringify(kind)} is not a kind Wheelhouse serves`, { field: 'args.kind' });
  return info;
}

/** A KindRef; a namespace given for a cluster-scoped kind is refused. */
export function kindRef(kind: string, namespace?: string): KindRef {
  const info = kindInfo(kind);
  if (!info.namespaced && namespace !== undefined) {
    throw new DesktopError('BadRequest', `args.namespace: ${kind} is not namespaced`, { field: 'args.namespace' });
  }
  return { apiVersion: apiVersionOf(info), kind: info.kind, ...(info.namespaced && namespace ? { namespace } : {}) };
}

export function objectRef(kind: string, namespace: string | undefined, name: string): ObjectRef {
  const info = kindInfo(kind);
  if (info.namespaced && !namespace) throw new DesktopError('BadRequest', `args.namespace: ${kind} is namespaced: a namespace is required`, { field: 'args.namespace' });
  return { ...kindRef(kind, namespace), name };
}
