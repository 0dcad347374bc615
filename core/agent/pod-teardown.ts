/**
 * The two ways a pod leaves a node:
 * - `terminatePod`: the pod was deleted through the API (deletionTimestamp set). Its containers
 *   stop within the grace period (preStop, SIGTERM, SIGKILL), the sandbox and containers are
 *   removed, and the agent deletes the pod with gracePeriodSeconds 0, which removes it from the
 *   store — the kubelet's status manager does the same once a pod is terminated.
 * - `removePod`: the pod is gone from the API (deleted, force-deleted, or the agent was away):
 *   whatever is left of it on the node is stopped and removed, its folders too.
 */
import { isApiError } from '../api/errors.ts';
import { log } from '../log.ts';
import type { PodRuntime } from './pod-runtime.ts';
import type { SyncDeps } from './pod-sync.ts';
import { killPod, podGracePeriod } from './termination.ts';
import type { PodState } from './types.ts';

export async function terminatePod(d: SyncDeps, state: PodState, pr: PodRuntime): Promise<void> {
  const { ctx } = d;
  const pod = state.pod;
  d.probes.removePod(state.uid);
  const grace = podGracePeriod(pod);
  const started = Date.now();
  await killPod(ctx, pod, pr, { graceSeconds: grace, podIP: pod.status?.podIP });
  state.killed = true;
  await removeAll(d, pr);
  try {
    await ctx.client.delete(
      { apiVersion: 'v1', kind: 'Pod', namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name ?? '' },
      { gracePeriodSeconds: 0, preconditions: { uid: state.uid } },
    );
  } catch (err) {
    // NotFound: already gone; Conflict: a new pod took the name.
    if (!isApiError(err, 'NotFound') && !isApiError(err, 'Conflict')) throw err;
  }
  await d.volumes.cleanup(state.uid);
  log.info('pod terminated', { pod: `${pod.metadata.namespace}/${pod.metadata.name}`, grace, tookMs: Date.now() - started });
}

export async function removePod(d: SyncDeps, state: PodState, pr: PodRuntime): Promise<void> {
  d.probes.removePod(state.uid);
  if (pr.containers.some((c) => c.state === 'running')) {
    await killPod(d.ctx, state.pod, pr, { graceSeconds: podGracePeriod(state.pod), quiet: true });
  }
  await removeAll(d, pr);
  await d.volumes.cleanup(state.uid);
  d.forget(state.uid);
}

async function removeAll(d: SyncDeps, pr: PodRuntime): Promise<void> {
  const sandboxes = new Set(pr.sandboxes.map((s) => s.id));
  for (const s of pr.sandboxes) await d.ctx.runtime.removePodSandbox(s.id);
  // A sandbox takes its containers with it; remove only strays (their sandbox already gone).
  for (const c of pr.containers) if (!sandboxes.has(c.sandboxId)) await d.ctx.runtime.removeContainer(c.id);
}
