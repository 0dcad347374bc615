/**
 * Which pods belong to a workload: the pods whose chain of controller owner references reaches
 * it (Pod → ReplicaSet → Deployment, Pod → Job → CronJob, Pod → StatefulSet/DaemonSet/Job/RS).
 */
import type { KubeObject } from '../api/types.ts';
import type { Client } from '../client/client.ts';
import type { WorkloadKind } from '../desktop-api.ts';
import { objectRef } from './kinds.ts';

export async function podsOfWorkload(client: Client, kind: WorkloadKind, namespace: string, name: string): Promise<KubeObject[]> {
  const [owners, pods] = await Promise.all([ownersOfWorkload(client, kind, namespace, name), client.list<KubeObject>({ apiVersion: 'v1', kind: 'Pod', namespace })]);
  return pods.items
    .filter((p) => {
      const o = controllerUid(p);
      return !!o && owners.has(o);
    })
    .sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
}

/** The uids a pod's controller reference may name for it to belong to the workload: the workload's and its ReplicaSets' or Jobs'. */
export async function ownersOfWorkload(client: Client, kind: WorkloadKind, namespace: string, name: string): Promise<Set<string>> {
  const w = await client.get<KubeObject>(objectRef(kind, namespace, name));
  const uid = w.metadata.uid;
  const middle =
    kind === 'Deployment'
      ? await client.list<KubeObject>({ apiVersion: 'apps/v1', kind: 'ReplicaSet', namespace })
      : kind === 'CronJob'
        ? await client.list<KubeObject>({ apiVersion: 'batch/v1', kind: 'Job', namespace })
        : undefined;
  const owners = new Set<string>(uid ? [uid] : []);
  for (const m of middle?.items ?? []) {
    if (controllerUid(m) === uid && m.metadata.uid) owners.add(m.metadata.uid);
  }
  return owners;
}

export function controllerUid(o: KubeObject): string | undefined {
  return o.metadata.ownerReferences?.find((r) => r.controller)?.uid;
}
