/**
 * Init containers, in order (the kubelet's computeInitContainerActions with SidecarContainers):
 * - an ordinary init container runs to completion before the next one starts; one that fails is
 *   restarted (CrashLoopBackOff) unless the pod's restartPolicy is Never, which fails the pod;
 * - a sidecar (restartPolicy Always) counts as done once it has started — and, with a startupProbe,
 *   once that probe succeeded — and the next init container starts while it keeps running. It is
 *   restarted whenever it exits (CrashLoopBackOff), whatever the pod's restartPolicy, and replaced
 *   when its definition changes or its liveness/startup probe fails.
 * Once a later init container (or any of the pod's containers) has run in the current sandbox,
 * the earlier ones are done: ordinary ones are never run again, sidecars are only kept running.
 */
import type { ContainerActions, SyncRun } from './container-actions.ts';
import type { ProbeManager } from './probes.ts';
import { isSidecar } from './termination-order.ts';

/** `initialized`: the pod's containers may run; `waiting`: not yet; `failed`: the pod has failed (restartPolicy Never). */
export type InitProgress = 'initialized' | 'waiting' | 'failed';

export async function syncInitContainers(a: ContainerActions, probes: ProbeManager, run: SyncRun, requeue: (delayMs: number) => void): Promise<InitProgress> {
  const pod = run.state.pod;
  const inits = pod.spec.initContainers ?? [];
  const policy = pod.spec.restartPolicy ?? 'Always';
  // progressed[i]: something after init container i has run in this sandbox.
  const progressed: boolean[] = new Array(inits.length);
  let after = pod.spec.containers.some((c) => a.latest(run, c.name));
  for (let i = inits.length - 1; i >= 0; i--) {
    progressed[i] = after;
    after ||= !!a.latest(run, inits[i]!.name);
  }
  for (let i = 0; i < inits.length; i++) {
    const c = inits[i]!;
    const cur = a.latest(run, c.name);
    if (isSidecar(c)) {
      let up = false;
      if (!cur) up = (await a.start(run, c, 'init')) && !c.startupProbe;
      else if (cur.state === 'created') {
        await a.resume(run, cur);
        requeue(1); // a start sends no event: look again
      } else if (cur.state === 'exited') up = (await a.restart(run, c, 'init', cur)) && !c.startupProbe;
      else if (cur.state === 'running') {
        const why = a.replaceReason(cur, c, 'init');
        if (why) {
          await a.kill(run, cur, why);
          await a.replace(run, c, 'init', cur);
        } else up = probes.started(cur.id, c);
      }
      if (!up && !progressed[i]) return 'waiting';
      continue;
    }
    if (progressed[i]) continue;
    if (!cur) {
      await a.start(run, c, 'init');
      return 'waiting';
    }
    if (cur.state === 'created') {
      await a.resume(run, cur);
      return 'waiting';
    }
    if (cur.state !== 'exited') return 'waiting';
    if (cur.exitCode === 0) continue;
    if (policy === 'Never') return 'failed';
    await a.restart(run, c, 'init', cur);
    return 'waiting';
  }
  return 'initialized';
}
