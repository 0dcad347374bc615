/**
 * What the runtime holds for one pod, read fresh at every sync (the kubelet's PodStatus from the
 * CRI): its sandboxes and container instances, found by the cluster/node/pod-uid labels. Reading
 * state back from the engine instead of remembering it is what makes adoption after an agent
 * restart (or an engine restart) free: the agent never assumes, it looks.
 */
import {
  RuntimeNotFoundError,
  type ContainerRuntime,
  type ContainerStatus,
  type ContainerSummary,
  type PodSandboxStatus,
} from '../runtime/runtime.ts';

export interface PodRuntime {
  /** Newest attempt first. */
  sandboxes: PodSandboxStatus[];
  /** Every container instance of the pod (all sandboxes), newest attempt first. */
  containers: ContainerSummary[];
  /** Full status of the newest two instances of each container name (latest, previous). */
  statuses: Map<string, ContainerStatus>;
}

export async function loadPodRuntime(rt: ContainerRuntime, cluster: string, node: string, podUid: string): Promise<PodRuntime> {
  const [sandboxes, containers] = await Promise.all([
    rt.listPodSandboxes({ cluster, node, podUid }),
    rt.listContainers({ cluster, node, podUid }),
  ]);
  sandboxes.sort((a, b) => b.attempt - a.attempt || b.createdAt.getTime() - a.createdAt.getTime());
  containers.sort((a, b) => b.attempt - a.attempt || b.createdAt.getTime() - a.createdAt.getTime());
  const wanted: ContainerSummary[] = [];
  const seen = new Map<string, number>();
  for (const c of containers) {
    const n = seen.get(c.name) ?? 0;
    if (n < 2) wanted.push(c);
    seen.set(c.name, n + 1);
  }
  const statuses = new Map<string, ContainerStatus>();
  await Promise.all(
    wanted.map(async (c) => {
      try {
        statuses.set(c.id, await rt.containerStatus(c.id));
      } catch (err) {
        if (!(err instanceof RuntimeNotFoundError)) throw err;
      }
    }),
  );
  return { sandboxes, containers: containers.filter((c) => statuses.has(c.id) || !wanted.includes(c)), statuses };
}

/** Instances of container `name`, newest first (full statuses only). */
export function instancesOf(pr: PodRuntime, name: string): ContainerStatus[] {
  const out: ContainerStatus[] = [];
  for (const c of pr.containers) {
    if (c.name !== name) continue;
    const s = pr.statuses.get(c.id);
    if (s) out.push(s);
  }
  return out;
}

/** The newest sandbox, if it is ready. */
export function readySandbox(pr: PodRuntime): PodSandboxStatus | undefined {
  const s = pr.sandboxes[0];
  return s?.state === 'ready' ? s : undefined;
}

/**
 * What the relist compares: a pod's sandboxes and container instances, id and state. Equal
 * fingerprints mean the engine holds nothing new for the pod since its last sync.
 */
export function runtimeFingerprint(sandboxes: Array<{ id: string; state: string }>, containers: Array<{ id: string; state: string }>): string {
  const parts: string[] = [];
  for (const s of sandboxes) parts.push(`s${s.id}:${s.state}`);
  for (const c of containers) parts.push(`c${c.id}:${c.state}`);
  return parts.sort().join(',');
}
