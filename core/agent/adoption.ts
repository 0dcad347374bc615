/**
 * Adoption at start (and after the engine comes back): everything this node owns is found by its
 * cluster+node labels. Sandboxes and containers of pods the API still binds to this node are left
 * alone — the next sync of each pod reads them back and carries on (restart counts are labels), so
 * nothing is duplicated. Those of pods that no longer exist (deleted while the agent was away) are
 * stopped with the kubelet's minimum grace period for unknown pods (2 s) and removed, and their
 * folders deleted, so nothing is orphaned.
 */
import { log } from '../log.ts';
import type { AgentContext } from './types.ts';
import type { VolumeManager } from './volumes.ts';
import { errorMessage } from './util.ts';

const ORPHAN_GRACE_SECONDS = 2;

export interface AdoptionResult {
  adoptedPods: number;
  removedPods: number;
}

export async function adopt(ctx: AgentContext, volumes: VolumeManager, isKnown: (uid: string) => boolean): Promise<AdoptionResult> {
  const { runtime, cluster, nodeName: node } = ctx;
  const [sandboxes, containers] = await Promise.all([runtime.listPodSandboxes({ cluster, node }), runtime.listContainers({ cluster, node })]);
  const uids = new Set([...sandboxes.map((s) => s.podUid), ...containers.map((c) => c.podUid)]);
  const orphans = [...uids].filter((u) => !isKnown(u));
  await Promise.all(
    orphans.map(async (uid) => {
      try {
        const mine = containers.filter((c) => c.podUid === uid);
        await Promise.all(mine.filter((c) => c.state === 'running').map((c) => runtime.stopContainer(c.id, ORPHAN_GRACE_SECONDS).catch(() => {})));
        for (const s of sandboxes.filter((x) => x.podUid === uid)) await runtime.removePodSandbox(s.id);
        for (const c of mine) await runtime.removeContainer(c.id);
        await volumes.cleanup(uid);
        const ref = mine[0] ?? sandboxes.find((s) => s.podUid === uid);
        log.info('removed the containers of a pod that no longer exists', { pod: ref ? `${ref.namespace}/${ref.podName}` : uid, podUid: uid });
      } catch (err) {
        log.warn('could not remove an orphaned pod', { podUid: uid, error: errorMessage(err) });
      }
    }),
  );
  await volumes.cleanupOrphans(isKnown);
  return { adoptedPods: uids.size - orphans.length, removedPods: orphans.length };
}
