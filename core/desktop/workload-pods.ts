/**
 * Which pods belong to a workload: the pods whose chain of controller owner references reaches
 * it (Pod → ReplicaSet → Deployment, Pod → Job → CronJob, Pod → StatefulSet/DaemonSet/Job/RS).
 */
import type { KubeObject } from '../api/types.ts';
import type { Client } from '../client/client.ts';
import type { WorkloadKind } from '../desktop-api.ts';
import { objectRef } from './kinds.ts';

export async function podsOfWorkload(client: Client, kind: WorkloadKind, namespace: string, name: string): Promise<KubeObject[]> {
  const w = await client.get<KubeObject>(objectRef(kind, namespace, name));
  const uid = w.metadata.uid;
  const [pods, middle] = await Promise.all([
    client.list<KubeObject>({ apiVersion: 'v1', kind: 'Pod', namespace }),
    kind === 'Deployment'
      ? client.list<KubeObject>({ apiVersion: 'apps/v1', kind: 'ReplicaSet', namespace })
      : kind === 'CronJob'
        ? client.list<KubeObject>({ apiVersion: 'batch/v1', kind: 'Job', namespace })
        : Promise.resolve(undefined),
  ]);
  const owners = new Set<string>(uid ? [uid] : []);
  for (const m of middle?.items ?? []) {
    if (controllerUid(m) === uid && m.metadata.uid) owners.add(m.metadata.uid);
  }
  return pods.items
    .filter((p) => {
      const o = controllerUid(p);
      return !!o && owners.has(o);
    })
    .sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
}

function controllerUid(o: KubeObject): string | undefined {
  return o.metadata.ownerReferences?.find((r) => r.controller)?.uid;
}
