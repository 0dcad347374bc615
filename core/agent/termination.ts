/**
 * Stopping containers the kubelet's way: a `Killing` event, the preStop hook (exec or httpGet,
 * bounded by the grace period), then SIGTERM and SIGKILL once what is left of the grace period
 * has passed (at least 2 s after a preStop hook, as the kubelet's minimum shutdown window).
 * A pod is killed with all its containers in parallel — sidecars waiting for their turn
 * (termination-order.ts) after their preStop hook, as the kubelet does — then its sandbox is stopped.
 */
import type * as k8s from 'kubernetes-types/core/v1.js';
import { log } from '../log.ts';
import type { ContainerSummary } from '../runtime/runtime.ts';
import { RuntimeNotFoundError } from '../runtime/runtime.ts';
import { runHandler } from './probe-runners.ts';
import type { PodRuntime } from './pod-runtime.ts';
import { hasSidecars, TerminationOrdering } from './termination-order.ts';
import type { AgentContext } from './types.ts';
import { asObject, fieldPathOf, podDesc, type ContainerKind, type Pod } from './util.ts';

const MIN_GRACE_AFTER_HOOK = 2;

/** The grace period a pod's containers get: deletionGracePeriodSeconds, else terminationGracePeriodSeconds (30). */
export function podGracePeriod(pod: Pod): number {
  const g = pod.metadata.deletionGracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30;
  return Math.max(0, g);
}

/** Which container spec (and kind) a runtime container of the pod runs. */
export function specOf(pod: Pod, name: string): { spec: k8s.Container; kind: ContainerKind } | undefined {
  const init = pod.spec.initContainers?.find((c) => c.name === name);
  if (init) return { spec: init, kind: 'init' };
  const c = pod.spec.containers.find((x) => x.name === name);
  return c ? { spec: c, kind: 'regular' } : undefined;
}

export interface KillOptions {
  graceSeconds: number;
  /** The Killing event's message; default `Stopping container <name>`. */
  message?: string;
  podIP?: string;
  /** No Killing event (the pod is already gone from the API); the preStop hook still runs. */
  quiet?: boolean;
  /** The whole pod stops: the container waits for its turn (sidecars last) before SIGTERM. */
  ordering?: TerminationOrdering;
}

export async function killContainer(ctx: AgentContext, pod: Pod, c: ContainerSummary, o: KillOptions): Promise<void> {
  if (c.state !== 'running') return;
  try {
    await stopOne(ctx, pod, c, o);
  } finally {
    o.ordering?.terminated(c.name);
  }
}

async function stopOne(ctx: AgentContext, pod: Pod, c: ContainerSummary, o: KillOptions): Promise<void> {
  const found = specOf(pod, c.name);
  let grace = o.graceSeconds;
  if (found) {
    if (!o.quiet) ctx.recorder.event(asObject(pod), 'Normal', 'Killing', o.message ?? `Stopping container ${c.name}`, fieldPathOf(found.kind, c.name));
    const preStop = found.spec.lifecycle?.preStop;
    if (preStop && grace > 0) {
      const started = Date.now();
      const err = await runHandler(preStop, { runtime: ctx.runtime, containerId: c.id, container: found.spec, podIP: o.podIP }, grace * 1000);
      if (err && !o.quiet) {
        const what = preStop.exec ? `Exec lifecycle hook (${JSON.stringify(preStop.exec.command ?? [])})` : 'HTTP lifecycle hook';
        ctx.recorder.event(
          asObject(pod),
          'Warning',
          'FailedPreStopHook',
          `${what} for Container "${c.name}" in Pod "${podDesc(pod)}" failed - error: ${err}`,
          fieldPathOf(found.kind, c.name),
        );
      }
      grace = Math.max(MIN_GRACE_AFTER_HOOK, grace - Math.floor((Date.now() - started) / 1000));
    }
  }
  if (o.ordering && grace > 0) {
    const waited = Math.floor(await o.ordering.waitForTurn(c.name, grace));
    if (waited > 0) grace = Math.max(MIN_GRACE_AFTER_HOOK, grace - waited);
  }
  try {
    await ctx.runtime.stopContainer(c.id, grace);
  } catch (err) {
    if (!(err instanceof RuntimeNotFoundError)) throw err;
  }
}

/** Kills every running container of the pod (in parallel, sidecars last), then stops its sandboxes. */
export async function killPod(ctx: AgentContext, pod: Pod, rt: PodRuntime, o: KillOptions): Promise<void> {
  const running = rt.containers.filter((c) => c.state === 'running');
  if (running.length) log.info('killing pod', { pod: `${pod.metadata.namespace}/${pod.metadata.name}`, grace: o.graceSeconds, containers: running.length });
  const ordering = hasSidecars(pod) ? new TerminationOrdering(pod, running.map((c) => c.name)) : undefined;
  await Promise.all(running.map((c) => killContainer(ctx, pod, c, { ...o, ...(ordering ? { ordering } : {}) })));
  await Promise.all(rt.sandboxes.filter((s) => s.state === 'ready').map((s) => ctx.runtime.stopPodSandbox(s.id)));
}
