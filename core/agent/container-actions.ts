/**
 * What one pod sync does to one container (the kubelet's SyncPod steps for a container): start
 * its next attempt, restart an exited one when its CrashLoopBackOff allows, resume one created
 * but never started, and replace a running one whose definition changed or whose liveness/startup
 * probe failed. Used for init containers (sidecars included) and the pod's containers alike.
 */
import type * as k8s from 'kubernetes-types/core/v1.js';
import type { ContainerStatus, PodSandboxStatus } from '../runtime/runtime.ts';
import { startContainer } from './container-start.ts';
import { instancesOf, type PodRuntime } from './pod-runtime.ts';
import type { SyncDeps } from './pod-sync.ts';
import { killContainer, podGracePeriod } from './termination.ts';
import type { PodState } from './types.ts';
import type { PreparedVolumes } from './volumes.ts';
import { asObject, containerHash, fieldPathOf, goDuration, podDesc, type ContainerKind } from './util.ts';

/** What a sync changed in the runtime: started container ids, or `reload` for anything else. */
export interface Track {
  reload: boolean;
  started: string[];
}

/** One sync of one pod: what it works on. */
export interface SyncRun {
  state: PodState;
  pr: PodRuntime;
  sandbox: PodSandboxStatus;
  vols: PreparedVolumes;
  track: Track;
}

export interface ReplaceReason {
  message: string;
  probeGrace?: number;
}

export class ContainerActions {
  constructor(private readonly d: SyncDeps) {}

  /** The container's instance in the current sandbox, if any. */
  latest(run: SyncRun, name: string): ContainerStatus | undefined {
    return instancesOf(run.pr, name).find((s) => s.sandboxId === run.sandbox.id);
  }

  /** Why a running container must be replaced, if it must (the kubelet's Killing messages). */
  replaceReason(cur: ContainerStatus, c: k8s.Container, kind: ContainerKind): ReplaceReason | undefined {
    const what = kind === 'init' ? `Init container ${c.name}` : `Container ${c.name}`;
    const tail = kind === 'init' ? '' : ', will be restarted';
    if (cur.specHash && cur.specHash !== containerHash(c)) return { message: `${what} definition changed${tail}` };
    const failed = this.d.probes.failed(cur.id);
    if (!failed) return undefined;
    const probe = failed === 'liveness' ? c.livenessProbe : c.startupProbe;
    return {
      message: `${what} failed ${failed} probe${tail}`,
      ...(probe?.terminationGracePeriodSeconds !== undefined ? { probeGrace: probe.terminationGracePeriodSeconds } : {}),
    };
  }

  /** Stops a running container that must be replaced (its next attempt is up to the caller). */
  async kill(run: SyncRun, cur: ContainerStatus, why: ReplaceReason): Promise<void> {
    const pod = run.state.pod;
    const grace = why.probeGrace ?? podGracePeriod(pod);
    await killContainer(this.d.ctx, pod, cur, { graceSeconds: grace, message: why.message, podIP: run.sandbox.ip });
    run.track.reload = true;
  }

  /** An exited container that should run again: now, or when its CrashLoopBackOff ends. True when it runs now. */
  async restart(run: SyncRun, c: k8s.Container, kind: ContainerKind, cur: ContainerStatus): Promise<boolean> {
    const { state } = run;
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
      return false;
    }
    b.next(key, finished);
    return this.start(run, c, kind);
  }

  /**
   * The next attempt after `cur` was killed (a failed liveness/startup probe, a changed
   * definition): at once the first time, then under CrashLoopBackOff as the kubelet's doBackOff
   * does — measured from when the previous exited instance finished, so that a container its probe
   * keeps killing backs off instead of being restarted in a tight loop.
   */
  async replace(run: SyncRun, c: k8s.Container, kind: ContainerKind, cur: ContainerStatus): Promise<boolean> {
    const prev = run.pr.containers
      .filter((x) => x.name === c.name && x.id !== cur.id && x.state === 'exited')
      .sort((a, b) => b.attempt - a.attempt)[0];
    const status = prev && run.pr.statuses.get(prev.id);
    return status ? this.restart(run, c, kind, status) : this.start(run, c, kind);
  }

  /** Creates and starts the container's next attempt. True when it runs now (started, postStart hook passed). */
  async start(run: SyncRun, c: k8s.Container, kind: ContainerKind): Promise<boolean> {
    const { ctx } = this.d;
    const { state, pr } = run;
    const instances = pr.containers.filter((x) => x.name === c.name);
    const seen = Math.max(state.attempts.get(c.name) ?? -1, ...instances.map((x) => x.attempt));
    const attempt = instances.length || state.attempts.has(c.name) ? seen + 1 : 0;
    const res = await startContainer({
      ctx,
      images: this.d.images,
      pod: state.pod,
      state,
      spec: c,
      kind,
      sandbox: run.sandbox,
      attempt,
      volumes: run.vols,
      podDir: this.d.volumes.podDir(state.uid),
    });
    if (res.retryAt) this.d.requeue(state.uid, Math.max(1, res.retryAt - Date.now()));
    if (!res.id) return false;
    run.track.started.push(res.id);
    state.attempts.set(c.name, attempt);
    // Keep the previous instance (for `logs --previous`), remove older ones.
    for (const old of instances) {
      if (old.attempt >= attempt - 1) continue;
      await ctx.runtime.removeContainer(old.id);
      pr.containers.splice(pr.containers.indexOf(old), 1);
      pr.statuses.delete(old.id);
    }
    return res.started && !state.waiting.has(c.name);
  }

  /** A container created but never started (the agent stopped in between): start it now. */
  async resume(run: SyncRun, cur: ContainerStatus): Promise<void> {
    await this.d.ctx.runtime.startContainer(cur.id).catch(() => this.d.ctx.runtime.removeContainer(cur.id));
    run.track.reload = true;
  }
}
