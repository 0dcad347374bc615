/**
 * One sync of one pod (the kubelet's SyncPod / computePodActions), run by the pod workers:
 * read what the runtime holds for the pod, then
 *   deleted from the API       → stop and remove everything (pod-teardown.ts)
 *   deletionTimestamp set      → graceful termination, then delete with gracePeriodSeconds 0
 *   Succeeded / Failed         → make sure nothing runs; keep the containers for logs
 *   otherwise                  → sandbox (a new one when it is gone), volumes, init containers
 *                                in order, then the containers, restarting per restartPolicy with
 *                                CrashLoopBackOff; liveness/startup failures and spec changes
 *                                restart a running container
 * and write the pod's status when it changed. Timed work (backoff ends, volume retries) asks for
 * a later sync instead of waiting.
 */
import type * as k8s from 'kubernetes-types/core/v1.js';
import type { ContainerRuntime, ContainerStatus, PodSandboxStatus } from '../runtime/runtime.ts';
import type { Backoff } from './backoff.ts';
import { startContainer } from './container-start.ts';
import type { ImageManager } from './images.ts';
import { instancesOf, loadPodRuntime, readySandbox, type PodRuntime } from './pod-runtime.ts';
import { createSandbox } from './sandbox.ts';
import type { ProbeManager } from './probes.ts';
import { finishSync, type FinishDeps } from './pod-finish.ts';
import { removePod, terminatePod } from './pod-teardown.ts';
import { killContainer, killPod, podGracePeriod } from './termination.ts';
import type { AgentContext, PodState } from './types.ts';
import { VolumeError, type PreparedVolumes, type VolumeManager } from './volumes.ts';
import { asObject, containerHash, fieldPathOf, goDuration, podDesc, type ContainerKind } from './util.ts';

export interface SyncDeps extends FinishDeps {
  ctx: AgentContext;
  images: ImageManager;
  volumes: VolumeManager;
  probes: ProbeManager;
  restarts: Backoff;
  states: Map<string, PodState>;
  requeue(uid: string, delayMs: number): void;
  /** The pod is gone for good: drop it from the agent's books. */
  forget(uid: string): void;
}

export class PodSyncer {
  constructor(private readonly d: SyncDeps) {}

  async sync(uid: string): Promise<void> {
    const state = this.d.states.get(uid);
    if (!state) return;
    const { ctx } = this.d;
    const fresh = state.fresh && !state.deleted;
    state.fresh = false;
    let pr = fresh ? emptyRuntime() : await loadPodRuntime(ctx.runtime, ctx.cluster, ctx.nodeName, uid);
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
    if (sandbox) {
      const vols = await this.setupVolumes(state, sandbox);
      if (vols) await this.runContainers(state, pr, sandbox, vols, track);
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

  /** Init containers in order, then the containers. */
  private async runContainers(state: PodState, pr: PodRuntime, sandbox: PodSandboxStatus, vols: PreparedVolumes, track: Track): Promise<void> {
    const pod = state.pod;
    const policy = pod.spec.restartPolicy ?? 'Always';
    const latest = (name: string) => instancesOf(pr, name).find((s) => s.sandboxId === sandbox.id);
    for (const c of pod.spec.initContainers ?? []) {
      const cur = latest(c.name);
      if (!cur) return this.start(state, pr, sandbox, vols, c, 'init', track);
      if (cur.state === 'created') return this.resume(cur, track);
      if (cur.state !== 'exited') return;
      if (cur.exitCode === 0) continue;
      if (policy === 'Never') return; // the pod has failed
      return this.restart(state, pr, sandbox, vols, c, 'init', cur, track);
    }
    for (const c of pod.spec.containers) {
      const cur = latest(c.name);
      if (!cur) {
        await this.start(state, pr, sandbox, vols, c, 'regular', track);
        continue;
      }
      if (cur.state === 'created') {
        await this.resume(cur, track);
        continue;
      }
      if (cur.state === 'running') {
        const why = this.restartReason(cur, c);
        if (!why) continue;
        const grace = why.probeGrace ?? podGracePeriod(pod);
        await killContainer(this.d.ctx, pod, cur, { graceSeconds: grace, message: why.message, podIP: sandbox.ip });
        track.reload = true;
        if (policy !== 'Never') await this.start(state, pr, sandbox, vols, c, 'regular', track);
        continue;
      }
      const restart = policy === 'Always' || (policy === 'OnFailure' && cur.exitCode !== 0);
      if (restart) await this.restart(state, pr, sandbox, vols, c, 'regular', cur, track);
      else state.waiting.delete(c.name); // done for good: it shows as terminated
    }
  }

  private restartReason(cur: ContainerStatus, c: k8s.Container): { message: string; probeGrace?: number } | undefined {
    if (cur.specHash && cur.specHash !== containerHash(c)) return { message: `Container ${c.name} definition changed, will be restarted` };
    const failed = this.d.probes.failed(cur.id);
    if (!failed) return undefined;
    const probe = failed === 'liveness' ? c.livenessProbe : c.startupProbe;
    return {
      message: `Container ${c.name} failed ${failed} probe, will be restarted`,
      ...(probe?.terminationGracePeriodSeconds !== undefined ? { probeGrace: probe.terminationGracePeriodSeconds } : {}),
    };
  }

  /** An exited container that should run again: now, or when its CrashLoopBackOff ends. */
  private async restart(
    state: PodState,
    pr: PodRuntime,
    sandbox: PodSandboxStatus,
    vols: PreparedVolumes,
    c: k8s.Container,
    kind: ContainerKind,
    cur: ContainerStatus,
    track: Track,
  ): Promise<void> {
    const pod = state.pod;
    const key = `${state.uid}_${c.name}_${containerHash(c)}`;
    const finished = cur.finishedAt?.getTime() ?? Date.now();
    const b = this.d.restarts;
    if (b.isInBackOffSince(key, finished)) {
      const ms = b.get(key);
      state.waiting.set(c.name, {
        reason: 'CrashLoopBackOff',
        message: `back-off ${goDuration(ms)} restarting failed container=${c.name} pod=${podDesc(pod)}`,
      });
      this.d.ctx.recorder.event(
        asObject(pod),
        'Warning',
        'BackOff',
        `Back-off restarting failed container ${c.name} in pod ${podDesc(pod)}`,
        fieldPathOf(kind, c.name),
      );
      this.d.requeue(state.uid, Math.max(1, finished + ms - Date.now()));
      return;
    }
    b.next(key, finished);
    return this.start(state, pr, sandbox, vols, c, kind, track);
  }

  private async start(
    state: PodState,
    pr: PodRuntime,
    sandbox: PodSandboxStatus,
    vols: PreparedVolumes,
    c: k8s.Container,
    kind: ContainerKind,
    track: Track,
  ): Promise<void> {
    const { ctx } = this.d;
    const instances = pr.containers.filter((x) => x.name === c.name);
    const seen = Math.max(state.attempts.get(c.name) ?? -1, ...instances.map((x) => x.attempt));
    const attempt = instances.length || state.attempts.has(c.name) ? seen + 1 : 0;
    const res = await startContainer({ ctx, images: this.d.images, pod: state.pod, state, spec: c, kind, sandbox, attempt, volumes: vols, podDir: this.d.volumes.podDir(state.uid) });
    if (res.retryAt) this.d.requeue(state.uid, Math.max(1, res.retryAt - Date.now()));
    if (!res.id) return;
    track.started.push(res.id);
    state.attempts.set(c.name, attempt);
    // Keep the previous instance (for `logs --previous`), remove older ones.
    for (const old of instances) {
      if (old.attempt >= attempt - 1) continue;
      await ctx.runtime.removeContainer(old.id);
      pr.containers.splice(pr.containers.indexOf(old), 1);
      pr.statuses.delete(old.id);
    }
  }

  /** A container created but never started (the agent stopped in between): start it now. */
  private async resume(cur: ContainerStatus, track: Track): Promise<void> {
    await this.d.ctx.runtime.startContainer(cur.id).catch(() => this.d.ctx.runtime.removeContainer(cur.id));
    track.reload = true;
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

/** What a sync changed in the runtime: started container ids, or `reload` for anything else. */
interface Track {
  reload: boolean;
  started: string[];
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

