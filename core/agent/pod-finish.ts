/**
 * The end of every pod sync: termination messages read from exited containers, image ids
 * resolved, the status computed and written only when it changed, probe workers aligned with
 * what runs now, and — once the pod is Succeeded or Failed — its sandbox stopped (its containers
 * are kept for their logs until the pod is deleted).
 */
import type * as k8s from 'kubernetes-types/core/v1.js';
import { open } from 'node:fs/promises';
import { isDeepStrictEqual } from 'node:util';
import { isApiError } from '../api/errors.ts';
import { log } from '../log.ts';
import type { PodSandboxStatus } from '../runtime/runtime.ts';
import { terminationLogPath } from './container-start.ts';
import type { ImageManager } from './images.ts';
import { instancesOf, runtimeFingerprint, type PodRuntime } from './pod-runtime.ts';
import { computePodStatus } from './pod-status.ts';
import type { ProbeManager, RunningContainer } from './probes.ts';
import { specOf } from './termination.ts';
import type { AgentContext, PodState } from './types.ts';
import type { VolumeManager } from './volumes.ts';
import { asObject, errorMessage } from './util.ts';

export interface FinishDeps {
  ctx: AgentContext;
  images: ImageManager;
  probes: ProbeManager;
  volumes: VolumeManager;
}

const MAX_MESSAGE = 4096;
const FALLBACK_LINES = 80;
const FALLBACK_BYTES = 2048;

export async function finishSync(
  d: FinishDeps,
  state: PodState,
  pr: PodRuntime,
  sandbox: PodSandboxStatus | undefined,
  override?: Pick<k8s.PodStatus, 'phase' | 'reason' | 'message'>,
): Promise<void> {
  const { ctx } = d;
  const pod = state.pod;
  state.fingerprint = runtimeFingerprint(pr.sandboxes, pr.containers);
  state.runtime = pr;
  state.syncedAt = Date.now();
  await readTerminationMessages(d, state, pr);
  const imageIds = new Map<string, string>();
  for (const s of pr.statuses.values()) if (s.imageRef && !imageIds.has(s.imageRef)) imageIds.set(s.imageRef, await d.images.imageID(s.imageRef));
  let status = computePodStatus({
    pod,
    state,
    rt: pr,
    ...(sandbox ? { sandbox } : {}),
    hostIP: ctx.hostIP(),
    imageIds,
    started: (id, spec) => d.probes.started(id, spec),
    ready: (id, spec) => d.probes.ready(id, spec),
    now: new Date(),
    ...(state.lastStatus ? { previous: state.lastStatus } : {}),
  });
  if (override) status = { ...status, ...override };
  const terminal = status.phase === 'Succeeded' || status.phase === 'Failed';
  const running: RunningContainer[] = [];
  for (const [list, kind] of [[pod.spec.initContainers ?? [], 'init'], [pod.spec.containers, 'regular']] as const) {
    for (const spec of list) {
      const cur = instancesOf(pr, spec.name)[0];
      if (cur?.state === 'running') running.push({ spec, kind, id: cur.id, startedAt: (cur.startedAt ?? cur.createdAt).getTime() });
    }
  }
  if (terminal) d.probes.removePod(state.uid);
  else d.probes.sync(pod, sandbox?.ip, running);
  state.running = new Map(running.map((r) => [r.spec.name, r.id]));
  await writeStatus(ctx, state, status);
  if (terminal && sandbox) await ctx.runtime.stopPodSandbox(sandbox.id);
}

/** updateStatus only when the status differs from what was last written (or read). */
export async function writeStatus(ctx: AgentContext, state: PodState, status: k8s.PodStatus): Promise<void> {
  if (state.lastStatus && isDeepStrictEqual(state.lastStatus, status)) return;
  const pod = state.pod;
  if (isDeepStrictEqual(pod.status, status)) {
    state.lastStatus = status;
    return;
  }
  try {
    const { resourceVersion: _rv, ...metadata } = pod.metadata;
    await ctx.client.updateStatus({ ...asObject(pod), metadata, status });
    state.lastStatus = status;
    // Our copy (not the informer's object) carries the status until the watch brings it back.
    state.pod = { ...pod, status };
  } catch (err) {
    if (isApiError(err, 'NotFound')) return;
    throw err;
  }
}

async function readTerminationMessages(d: FinishDeps, state: PodState, pr: PodRuntime): Promise<void> {
  const live = new Set(pr.statuses.keys());
  for (const id of state.terminationMessages.keys()) if (!live.has(id)) state.terminationMessages.delete(id);
  for (const s of pr.statuses.values()) {
    if (s.state !== 'exited' || state.terminationMessages.has(s.id)) continue;
    let msg = await readHead(terminationLogPath(d.volumes.podDir(state.uid), s.name, s.attempt), MAX_MESSAGE);
    const spec = specOf(state.pod, s.name)?.spec;
    if (!msg && spec?.terminationMessagePolicy === 'FallbackToLogsOnError' && s.exitCode !== 0) {
      msg = await tailLogs(d, s.id);
    }
    state.terminationMessages.set(s.id, msg);
  }
}

async function readHead(path: string, max: number): Promise<string> {
  try {
    const fh = await open(path, 'r');
    try {
      const buf = Buffer.alloc(max);
      const { bytesRead } = await fh.read(buf, 0, max, 0);
      return buf.subarray(0, bytesRead).toString('utf8');
    } finally {
      await fh.close();
    }
  } catch {
    return '';
  }
}

async function tailLogs(d: FinishDeps, id: string): Promise<string> {
  try {
    const lines: string[] = [];
    for await (const l of d.ctx.runtime.logs(id, { tailLines: FALLBACK_LINES })) lines.push(l.line);
    const text = lines.join('\n');
    return text.length > FALLBACK_BYTES ? text.slice(text.length - FALLBACK_BYTES) : text;
  } catch (err) {
    log.debug('could not read logs for the termination message', { container: id, error: errorMessage(err) });
    return '';
  }
}
