/**
 * One sync of one pod (the kubelet's SyncPod / computePodActions), run by the pod workers:
 * read what the runtime holds for the pod, then
 *   deleted from the API       → stop and remove everything (pod-teardown.ts)
 *   deletionTimestamp set      → graceful termination, then delete with gracePeriodSeconds 0
 *   Succeeded / Failed         → make sure nothing runs; keep the containers for logs
 *   otherwise                  → sandbox (a new one when it is gone), volumes, init containers
 *                                in order (sidecars started and kept running: init-containers.ts),
 *                                then the containers, restarting per restartPolicy with
 *                                CrashLoopBackOff; liveness/startup failures and spec changes
 *                                restart a running container (container-actions.ts); once a
 *                                Never/OnFailure pod's containers have finished, its sidecars stop
 * and write the pod's status when it changed. Timed work (backoff ends, volume retries) asks for
 * a later sync instead of waiting.
 */
import { log } from '../log.ts';
import type { ContainerRuntime, PodSandboxStatus } from '../runtime/runtime.ts';
import type { Backoff } from './backoff.ts';
import { ContainerActions, type SyncRun, type Track } from './container-actions.ts';
import type { ImageManager } from './images.ts';
import { syncInitContainers } from './init-containers.ts';
import { loadPodRuntime, readySandbox, type PodRuntime } from './pod-runtime.ts';
import { createSandbox } from './sandbox.ts';
import type { ProbeManager } from './probes.ts';
import { finishSync, type FinishDeps } from './pod-finish.ts';
import { removePod, terminatePod } from './pod-teardown.ts';
import { killPod, podGracePeriod } from './termination.ts';
import type { AgentContext, PodState } from './types.ts';
import { VolumeError, type PreparedVolumes, type VolumeManager } from './volumes.ts';
import { asObject } from './util.ts';

import type { Reaper } from './reaper.ts';

export interface SyncDeps extends FinishDeps {
  ctx: AgentContext;
  images: ImageManager;
  volumes: VolumeManager;
  probes: ProbeManager;
  restarts: Backoff;
  /** Removes dead sandboxes once the node is quiet. */
  reaper: Reaper;
  states: Map<string, PodState>;
  requeue(uid: string, delayMs: number): void;
  /** The pod is gone for good: drop it from the agent's books. */
  forget(uid: string): void;
}

export class PodSyncer {
  private readonly actions: ContainerActions;

  constructor(private readonly d: SyncDeps) {
    this.actions = new ContainerActions(d);
  }

  async sync(uid: string): Promise<void> {
    const state = this.d.states.get(uid);
    if (!state) return;
    const { ctx } = this.d;
    const fresh = state.fresh && !state.deleted;
    state.fresh = false;
    // The relist's periodic full sync of a pod the engine holds nothing new for starts from what
    // the last sync saw, as the kubelet's does from its pod cache: 100 pods were 300 engine
    // requests every 5 minutes, a visible bump in an idle app's CPU. Anything else looks again.
    const cached = state.runtimeCurrent && !state.deleted ? state.runtime : undefined;
    state.runtimeCurrent = false;
    let pr = fresh ? emptyRuntime() : (cached ?? (await loadPodRuntime(ctx.runtime, ctx.cluster, ctx.nodeName, uid)));
    if (state.deleted) return removePod(this.d, state, pr);
    const pod = state.pod;
    if (pod.metadata.deletionTimestamp) return terminatePod(this.d, state, pr);
    rememberAttempts(state, pr);
    const terminal = (p?: string) => p === 'Succeeded' || p === 'Failed';
    if (terminal(pod.status?.phase) || terminal(state.lastStatus?.phase)) {
      await killPod(ctx, pod, pr, { graceSeconds: podGracePeriod(pod), podIP: pod.status?.podIP });
      if (pr.containers.some((c) => c.state === 'running')) pr = await loadPodRuntime(ctx.runtime, ctx.cluster, ctx.nodeName, uid);
      return finishSync(this.d, state, pr, undefined);
    }
    if (await this.deadlineExceeded(state, pr)) return;

    let sandbox = readySandbox(pr);
    const neverAgain = (pod.spec.restartPolicy ?? 'Always') === 'Never' && pr.sandboxes.length > 0 && pr.containers.length > 0;
    if (!sandbox && !neverAgain) {
      sandbox = await createSandbox(this.d, state, pr);
      pr = { sandboxes: [sandbox], containers: [], statuses: new Map() };
    }
    const track: Track = { reload: false, started: [] };
    if (sandbox && (await this.stopStrays(state, pr, sandbox))) track.reload = true;
    if (sandbox) {
      const vols = await this.setupVolumes(state, sandbox);
      if (vols) await this.runContainers({ state, pr, sandbox, vols, track });
    }
    // Read back only what this sync changed: new containers one inspect each; after a kill, all.
    if (track.reload) pr = await loadPodRuntime(ctx.runtime, ctx.cluster, ctx.nodeName, uid);
    else if (track.started.length) await addStarted(ctx.runtime, pr, track.started);
    await finishSync(this.d, state, pr, readySandbox(pr));
  }

  private async setupVolumes(state: PodState, sandbox: PodSandboxStatus): Promise<PreparedVolumes | undefined> {
    const { ctx } = this.d;
    try {
      const v = await this.d.volumes.setup(state.pod, { podIP: sandbox.ip, hostIP: ctx.hostIP() });
      state.volumeError = undefined;
      state.volumeFailures = 0;
      return v;
    } catch (err) {
      if (!(err instanceof VolumeError)) throw err;
      state.volumeError = err.message;
      state.volumeFailures++;
      ctx.recorder.event(asObject(state.pod), 'Warning', 'FailedMount', err.message);
      this.d.requeue(state.uid, Math.min(ctx.opts.volumeRetryMs * 2 ** (state.volumeFailures - 1), 60_000));
      return undefined;
    }
  }

  /** Init containers in order (sidecars kept running), then the containers; a finished pod is stopped. */
  private async runContainers(run: SyncRun): Promise<void> {
    const { state, pr, track } = run;
    const pod = state.pod;
    const policy = pod.spec.restartPolicy ?? 'Always';
    const a = this.actions;
    // restartPolicy Never/OnFailure: once every container has finished for good, the pod is done;
    // its sidecars are not restarted but stopped (the kubelet's KillPod), sidecars last.
    const finished = policy !== 'Always' && pod.spec.containers.every((c) => {
      const cur = a.latest(run, c.name);
      return cur?.state === 'exited' && (policy === 'Never' || cur.exitCode === 0);
    });
    if (finished) {
      for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) state.waiting.delete(c.name);
      if (pr.containers.some((c) => c.state === 'running')) await this.killAll(run);
      return;
    }
    const init = await syncInitContainers(a, this.d.probes, run, (ms) => this.d.requeue(state.uid, ms));
    if (init === 'failed') {
      if (pr.containers.some((c) => c.state === 'running')) await this.killAll(run);
      return;
    }
    if (init !== 'initialized') return;
    for (const c of pod.spec.containers) {
      const cur = a.latest(run, c.name);
      if (!cur) {
        await a.start(run, c, 'regular');
        continue;
      }
      if (cur.state === 'created') {
        await a.resume(run, cur);
        continue;
      }
      if (cur.state === 'running') {
        const why = a.replaceReason(cur, c, 'regular');
        if (!why) continue;
        await a.kill(run, cur, why);
        if (policy !== 'Never') await a.replace(run, c, 'regular', cur);
        continue;
      }
      const restart = policy === 'Always' || (policy === 'OnFailure' && cur.exitCode !== 0);
      if (restart) await a.restart(run, c, 'regular', cur);
      else state.waiting.delete(c.name); // done for good: it shows as terminated
    }
  }

  /**
   * Stops whatever runs of the pod outside its current sandbox: an older sandbox that is ready
   * too, and containers in it. That happens when the process was killed while the engine was
   * still creating the pod's sandbox: the new agent saw it not started yet, made a new one, and
   * the engine finished starting the old one afterwards (the kubelet reconciles several ready
   * sandboxes of a pod the same way). Their removal is the reaper's. True when anything was stopped.
   */
  private async stopStrays(state: PodState, pr: PodRuntime, current: PodSandboxStatus): Promise<boolean> {
    const sandboxes = pr.sandboxes.filter((s) => s.id !== current.id && s.state === 'ready');
    const containers = pr.containers.filter((c) => c.sandboxId !== current.id && c.state === 'running');
    if (!sandboxes.length && !containers.length) return false;
    const pod = state.pod;
    log.warn('stopping a pod\'s containers outside its current sandbox', {
      pod: `${pod.metadata.namespace}/${pod.metadata.name}`,
      sandboxes: sandboxes.length,
      containers: containers.length,
    });
    await killPod(this.d.ctx, pod, { sandboxes, containers, statuses: new Map() }, { graceSeconds: podGracePeriod(pod) });
    this.d.reaper.removeSandboxes(new Set([...sandboxes.map((s) => s.id), ...containers.map((c) => c.sandboxId)]));
    return true;
  }

  /** Stops what still runs of the pod (sidecars last, in reverse order) and its sandbox. */
  private async killAll(run: SyncRun): Promise<void> {
    const pod = run.state.pod;
    await killPod(this.d.ctx, pod, run.pr, { graceSeconds: podGracePeriod(pod), podIP: run.sandbox.ip });
    run.track.reload = true;
  }

  /** activeDeadlineSeconds: past it, the pod is killed and Failed with DeadlineExceeded. */
  private async deadlineExceeded(state: PodState, pr: PodRuntime): Promise<boolean> {
    const pod = state.pod;
    const deadline = pod.spec.activeDeadlineSeconds;
    const start = pod.status?.startTime;
    if (!deadline || !start) return false;
    const left = Date.parse(start) + deadline * 1000 - Date.now();
    if (left > 0) {
      this.d.requeue(state.uid, left);
      return false;
    }
    const message = 'Pod was active on the node longer than the specified deadline';
    this.d.ctx.recorder.event(asObject(pod), 'Normal', 'DeadlineExceeded', message);
    await killPod(this.d.ctx, pod, pr, { graceSeconds: podGracePeriod(pod), podIP: pod.status?.podIP });
    const after = await loadPodRuntime(this.d.ctx.runtime, this.d.ctx.cluster, this.d.ctx.nodeName, state.uid);
    await finishSync(this.d, state, after, undefined, { phase: 'Failed', reason: 'DeadlineExceeded', message });
    return true;
  }
}

function emptyRuntime(): PodRuntime {
  return { sandboxes: [], containers: [], statuses: new Map() };
}

/** Adds freshly created containers to `pr` (newest first), one inspect each. */
async function addStarted(rt: ContainerRuntime, pr: PodRuntime, ids: string[]): Promise<void> {
  const statuses = await Promise.all(ids.map((id) => rt.containerStatus(id)));
  for (const st of statuses) {
    pr.statuses.set(st.id, st);
    pr.containers.push(st);
  }
  pr.containers.sort((a, b) => b.attempt - a.attempt || b.createdAt.getTime() - a.createdAt.getTime());
}

/** Restart counts come from the runtime's labels too: an adopted pod keeps counting. */
function rememberAttempts(state: PodState, pr: PodRuntime): void {
  for (const c of pr.containers) if (c.attempt > (state.attempts.get(c.name) ?? -1)) state.attempts.set(c.name, c.attempt);
}

