/**
 * Starting one container of a pod, step by step as the kubelet's startContainer: make sure the
 * image is there (pull policy, backoff), build its config (env, mounts, resources, security
 * context — a missing ConfigMap/Secret is CreateContainerConfigError), create it (`Created`),
 * start it (`Started`), run its postStart hook. A failed step leaves the reason the container waits
 * for (ErrImagePull, ImagePullBackOff, CreateContainerConfigError, CreateContainerError,
 * RunContainerError) in the pod's state, and the Failed event the kubelet records.
 */
import type * as k8s from 'kubernetes-types/core/v1.js';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerConfig, Mount, PodSandboxStatus } from '../runtime/runtime.ts';
import { ConfigError, containerResources, expandAll, makeEnv, securityContextFor } from './container-config.ts';
import type { ImageManager } from './images.ts';
import { runHandler } from './probe-runners.ts';
import { killContainer } from './termination.ts';
import type { AgentContext, PodState } from './types.ts';
import type { PreparedVolumes } from './volumes.ts';
import { asObject, containerHash, errorMessage, fieldPathOf, podDesc, type ContainerKind, type Pod } from './util.ts';

export interface StartInputs {
  ctx: AgentContext;
  images: ImageManager;
  pod: Pod;
  state: PodState;
  spec: k8s.Container;
  kind: ContainerKind;
  sandbox: PodSandboxStatus;
  attempt: number;
  volumes: PreparedVolumes;
  podDir: string;
}

export interface StartResult {
  started: boolean;
  /** Set once the container was created (even if it then failed to start). */
  id?: string;
  /** When a backoff ends and the start should be tried again. */
  retryAt?: number;
}

export async function startContainer(i: StartInputs): Promise<StartResult> {
  const { ctx, pod, state, spec, kind } = i;
  const obj = asObject(pod);
  const fieldPath = fieldPathOf(kind, spec.name);
  const fail = (reason: string, message: string, event = `Error: ${message}`, retryAt?: number): StartResult => {
    state.waiting.set(spec.name, { reason, message });
    ctx.recorder.event(obj, 'Warning', 'Failed', event, fieldPath);
    return { started: false, ...(retryAt ? { retryAt } : {}) };
  };

  const image = await i.images.ensure(pod, spec, fieldPath);
  if (!image.ok) return fail(image.reason, image.message, `Error: ${image.reason}`, image.retryAt);

  let cfg: ContainerConfig;
  try {
    cfg = await buildConfig(i);
  } catch (err) {
    if (err instanceof ConfigError) return fail('CreateContainerConfigError', err.message);
    throw err;
  }

  let id: string;
  try {
    id = await ctx.runtime.createContainer(i.sandbox.id, cfg);
  } catch (err) {
    if ((err as Error).name === 'RuntimeUnavailableError') throw err;
    return fail('CreateContainerError', errorMessage(err));
  }
  ctx.recorder.event(obj, 'Normal', 'Created', `Created container ${spec.name}`, fieldPath);
  try {
    await ctx.runtime.startContainer(id);
  } catch (err) {
    if ((err as Error).name === 'RuntimeUnavailableError') throw err;
    const msg = errorMessage(err);
    fail('RunContainerError', msg, `Error: failed to start container "${spec.name}": ${msg}`);
    return { started: false, id };
  }
  state.waiting.delete(spec.name);
  ctx.recorder.event(obj, 'Normal', 'Started', `Started container ${spec.name}`, fieldPath);

  const postStart = spec.lifecycle?.postStart;
  if (postStart) {
    const err = await runHandler(postStart, { runtime: ctx.runtime, containerId: id, container: spec, podIP: i.sandbox.ip }, 30_000);
    if (err) {
      const what = postStart.exec ? `Exec lifecycle hook (${JSON.stringify(postStart.exec.command ?? [])})` : 'HTTP lifecycle hook';
      ctx.recorder.event(obj, 'Warning', 'FailedPostStartHook', `${what} for Container "${spec.name}" in Pod "${podDesc(pod)}" failed - error: ${err}`, fieldPath);
      const summary = await ctx.runtime.containerStatus(id);
      await killContainer(ctx, pod, summary, { graceSeconds: pod.spec.terminationGracePeriodSeconds ?? 30, message: 'FailedPostStartHook', podIP: i.sandbox.ip });
      state.waiting.set(spec.name, { reason: 'PostStartHookError', message: err });
    }
  }
  return { started: true, id };
}

async function buildConfig(i: StartInputs): Promise<ContainerConfig> {
  const { ctx, pod, spec } = i;
  const ns = pod.metadata.namespace ?? 'default';
  const env = makeEnv({
    pod,
    container: spec,
    sources: ctx.sources,
    addr: { podIP: i.sandbox.ip, hostIP: ctx.hostIP() },
    allocatable: ctx.allocatable(),
    onInvalidKeys: (keys, kind, name) =>
      ctx.recorder.event(
        asObject(pod),
        'Warning',
        'InvalidEnvironmentVariableNames',
        `Keys [${keys.join(', ')}] from the EnvFrom ${kind} ${ns}/${name} were skipped since they are considered invalid environment variable names.`,
      ),
  });
  const mounts: Mount[] = await i.volumes.mountsFor(spec);
  // The termination message file, as the kubelet bind-mounts it at terminationMessagePath.
  const msgFile = terminationLogPath(i.podDir, spec.name, i.attempt);
  await mkdir(join(msgFile, '..'), { recursive: true });
  await writeFile(msgFile, '');
  await chmod(msgFile, 0o666);
  if (!mounts.some((m) => m.containerPath === (spec.terminationMessagePath || '/dev/termination-log'))) {
    mounts.push({ containerPath: spec.terminationMessagePath || '/dev/termination-log', hostPath: msgFile });
  }
  const sc = securityContextFor(pod, spec);
  return {
    name: spec.name,
    attempt: i.attempt,
    image: spec.image ?? '',
    ...(spec.command?.length ? { command: expandAll(spec.command, env) } : {}),
    ...(spec.args?.length ? { args: expandAll(spec.args, env) } : {}),
    env,
    ...(spec.workingDir ? { workingDir: spec.workingDir } : {}),
    mounts,
    resources: containerResources(spec),
    securityContext: sc,
    ...(spec.tty ? { tty: true } : {}),
    ...(spec.stdin ? { stdin: true } : {}),
    ...(spec.stdinOnce ? { stdinOnce: true } : {}),
    labels: { ...(pod.metadata.labels ?? {}) },
    annotations: {},
    specHash: containerHash(spec),
  };
}

export function terminationLogPath(podDir: string, container: string, attempt: number): string {
  return join(podDir, 'containers', container, `${attempt}.termination-log`);
}
