/**
 * Containers of a pod: they join their sandbox's network and IPC namespaces (and its PID
 * namespace when the pod shares it), carry the pod's labels plus their own, and report their
 * state the way the kubelet words it (OOMKilled, Error, Completed, ContainerCannotRun).
 */
import { mkdir, symlink, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type Docker from 'dockerode';
import { log } from '../../log.ts';
import {
  ContainerStartError,
  LABEL,
  RuntimeConflictError,
  RuntimeError,
  RuntimeNotFoundError,
  RuntimeUnavailableError,
  containerSpecHash,
  type ContainerConfig,
  type ContainerFilter,
  type ContainerState,
  type ContainerStatus,
  type ContainerSummary,
  type Labels,
  type Mount,
} from '../runtime.ts';
import type { Engine } from './engine.ts';
import { dockerName, intLabel, labelFilters, objectLabels, podRefOf, userLabelsOf } from './labels.ts';
import { ignoreGone } from './sandboxes.ts';

/** Kubelet defaults (containerLogMaxSize 10Mi, containerLogMaxFiles 5). */
const LOG_MAX_SIZE = '10m';
const LOG_MAX_FILES = '5';

export async function createContainer(engine: Engine, sandboxId: string, cfg: ContainerConfig): Promise<string> {
  const sandbox = await engine.call((d) => d.getContainer(sandboxId).inspect(), { kind: 'sandbox', ref: sandboxId });
  const sLabels = (sandbox.Config.Labels ?? {}) as Labels;
  if (sLabels[LABEL.type] !== 'sandbox') throw new RuntimeNotFoundError('sandbox', sandboxId, 'not a Wheelhouse sandbox');
  if (!sandbox.State.Running) throw new RuntimeConflictError(`sandbox ${sandboxId.slice(0, 12)} is not running`);
  const pod = podRefOf(sLabels);
  const labels = objectLabels('container', cfg.labels, cfg.annotations, {
    [LABEL.cluster]: pod.cluster,
    [LABEL.node]: pod.node,
    [LABEL.namespace]: pod.namespace,
    [LABEL.podName]: pod.podName,
    [LABEL.podUid]: pod.podUid,
    [LABEL.containerName]: cfg.name,
    [LABEL.attempt]: String(cfg.attempt),
    [LABEL.specHash]: cfg.specHash ?? containerSpecHash(cfg),
    [LABEL.sandboxId]: sandbox.Id,
    ...(cfg.logPath ? { [LABEL.logPath]: cfg.logPath } : {}),
  });
  const sc = cfg.securityContext;
  const user = await dockerUser(engine, cfg);
  const ns = `container:${sandbox.Id}`;
  const hostConfig: Docker.HostConfig = {
    NetworkMode: ns,
    IpcMode: ns,
    ...(sLabels[LABEL.sharePid] === 'true' ? { PidMode: ns } : {}),
    Mounts: cfg.mounts.map(toDockerMount),
    RestartPolicy: { Name: 'no' },
    LogConfig: { Type: 'json-file', Config: { 'max-size': LOG_MAX_SIZE, 'max-file': LOG_MAX_FILES } },
    ...(cfg.resources.memoryLimitBytes ? { Memory: cfg.resources.memoryLimitBytes } : {}),
    ...(cfg.resources.nanoCpus ? { NanoCpus: cfg.resources.nanoCpus } : {}),
    ...(cfg.resources.cpuShares ? { CpuShares: cfg.resources.cpuShares } : {}),
    ...(cfg.resources.pidsLimit ? { PidsLimit: cfg.resources.pidsLimit } : {}),
    ...(sc.readOnlyRootFilesystem ? { ReadonlyRootfs: true } : {}),
    ...(sc.privileged ? { Privileged: true } : {}),
    ...(sc.capAdd?.length ? { CapAdd: sc.capAdd.map(capName) } : {}),
    ...(sc.capDrop?.length ? { CapDrop: sc.capDrop.map(capName) } : {}),
    ...(sc.supplementalGroups?.length ? { GroupAdd: sc.supplementalGroups.map(String) } : {}),
    ...(sc.allowPrivilegeEscalation === false ? { SecurityOpt: ['no-new-privileges'] } : {}),
  };
  const name = dockerName(pod, cfg.name, cfg.attempt);
  const create: Docker.ContainerCreateOptions = {
    name,
    Image: cfg.image,
    // Kubernetes semantics: command replaces ENTRYPOINT, args replace CMD. Docker drops the
    // image's CMD when Entrypoint is set, just as Kubernetes ignores it when command is set.
    ...(cfg.command?.length ? { Entrypoint: cfg.command } : {}),
    ...(cfg.args?.length ? { Cmd: cfg.args } : {}),
    Env: cfg.env.map((e) => `${e.name}=${e.value}`),
    ...(cfg.workingDir ? { WorkingDir: cfg.workingDir } : {}),
    ...(user ? { User: user } : {}),
    Tty: cfg.tty ?? false,
    OpenStdin: cfg.stdin ?? false,
    StdinOnce: cfg.stdinOnce ?? false,
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    Labels: labels,
    HostConfig: hostConfig,
  };
  const c = await engine.call((d) => d.createContainer(create), { kind: 'image', ref: cfg.image, what: `creating container ${name}` });
  if (cfg.logPath) await linkLog(engine, c.id, cfg.logPath);
  return c.id;
}

export async function startContainer(engine: Engine, id: string): Promise<void> {
  try {
    await engine.call((d) => d.getContainer(id).start(), { kind: 'container', ref: id });
  } catch (err) {
    if (err instanceof RuntimeNotFoundError || err instanceof RuntimeUnavailableError) throw err;
    const msg = (err as RuntimeError).engineMessage ?? (err as Error).message;
    if (/already started/i.test(msg)) return; // 304
    throw new ContainerStartError(id, msg);
  }
}

export async function stopContainer(engine: Engine, id: string, timeoutSeconds: number): Promise<void> {
  try {
    await engine.call((d) => d.getContainer(id).stop({ t: Math.max(0, Math.round(timeoutSeconds)) }), { kind: 'container', ref: id });
  } catch (err) {
    const msg = (err as RuntimeError).engineMessage ?? '';
    if (!(err instanceof RuntimeNotFoundError) && /already stopped|is not running/i.test(msg)) return;
    throw err;
  }
}

export async function removeContainer(engine: Engine, id: string): Promise<void> {
  let logPath: string | undefined;
  try {
    const info = await engine.call((d) => d.getContainer(id).inspect(), { kind: 'container', ref: id });
    logPath = info.Config.Labels?.[LABEL.logPath];
  } catch (err) {
    if (err instanceof RuntimeNotFoundError) return;
    throw err;
  }
  await ignoreGone(engine.call((d) => d.getContainer(id).remove({ force: true, v: true }), { kind: 'container', ref: id }));
  if (logPath) await unlink(logPath).catch(() => {});
}

export async function containerStatus(engine: Engine, id: string): Promise<ContainerStatus> {
  const info = await engine.call((d) => d.getContainer(id).inspect(), { kind: 'container', ref: id });
  const labels = (info.Config.Labels ?? {}) as Labels;
  if (labels[LABEL.type] !== 'container') throw new RuntimeNotFoundError('container', id, 'not a Wheelhouse container');
  const s = info.State;
  const startedAt = dockerTime(s.StartedAt);
  const finishedAt = dockerTime(s.FinishedAt);
  let state: ContainerState = toState(s.Status);
  let reason: ContainerStatus['reason'];
  let exitCode: number | undefined;
  const message = s.Error ? s.Error : undefined;
  if (state === 'exited') {
    exitCode = s.ExitCode;
    reason = s.OOMKilled ? 'OOMKilled' : s.ExitCode === 0 ? 'Completed' : 'Error';
    if (!startedAt && message) reason = 'ContainerCannotRun';
  } else if (state === 'created' && (message || s.ExitCode !== 0)) {
    // The engine tried to start it and failed (bad command, missing mount source …).
    state = 'exited';
    exitCode = s.ExitCode || 128;
    reason = 'ContainerCannotRun';
  }
  return {
    ...summaryFields(info.Id, labels, info.Config.Image, info.Image, state, new Date(info.Created)),
    ...(startedAt ? { startedAt } : {}),
    ...(finishedAt && state === 'exited' ? { finishedAt } : {}),
    ...(exitCode !== undefined ? { exitCode } : {}),
    ...(reason ? { reason } : {}),
    ...(message ? { message } : {}),
    restartCount: intLabel(labels, LABEL.attempt),
    ...(labels[LABEL.logPath] ? { logPath: labels[LABEL.logPath] } : {}),
    ...(s.Pid ? { pid: s.Pid } : {}),
  };
}

export async function listContainers(engine: Engine, f: ContainerFilter = {}): Promise<ContainerSummary[]> {
  const extra: Labels = {};
  if (f.sandboxId) extra[LABEL.sandboxId] = f.sandboxId;
  if (f.name !== undefined) extra[LABEL.containerName] = f.name;
  const filters: Record<string, string[]> = { label: labelFilters('container', f, extra) };
  if (f.id) filters.id = [f.id];
  const list = await engine.call((d) => d.listContainers({ all: true, filters }));
  return list
    .map((c) => summaryFields(c.Id, (c.Labels ?? {}) as Labels, c.Image, c.ImageID, toState(c.State), new Date(c.Created * 1000)))
    .filter((c) => !f.state || c.state === f.state);
}

function summaryFields(id: string, labels: Labels, image: string, imageRef: string, state: ContainerState, createdAt: Date): ContainerSummary {
  return {
    id,
    ...podRefOf(labels),
    sandboxId: labels[LABEL.sandboxId] ?? '',
    name: labels[LABEL.containerName] ?? '',
    attempt: intLabel(labels, LABEL.attempt),
    image,
    imageRef,
    state,
    createdAt,
    specHash: labels[LABEL.specHash] ?? '',
    ...userLabelsOf(labels),
  };
}

function toState(dockerState: string): ContainerState {
  switch (dockerState) {
    case 'created':
      return 'created';
    case 'running':
    case 'paused':
    case 'restarting':
      return 'running';
    case 'exited':
    case 'dead':
      return 'exited';
    default:
      return 'unknown'; // removing, or anything newer
  }
}

/** Docker's zero time is 0001-01-01T00:00:00Z. */
export function dockerTime(s: string | undefined): Date | undefined {
  if (!s || s.startsWith('0001-')) return undefined;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

function toDockerMount(m: Mount): Docker.MountSettings {
  const readOnly = m.readOnly ?? false;
  if (m.hostPath !== undefined) return { Type: 'bind', Source: m.hostPath, Target: m.containerPath, ReadOnly: readOnly };
  if (m.volumeName !== undefined) return { Type: 'volume', Source: m.volumeName, Target: m.containerPath, ReadOnly: readOnly };
  if (m.tmpfs !== undefined) {
    return {
      Type: 'tmpfs',
      Source: '',
      Target: m.containerPath,
      ReadOnly: readOnly,
      // Mode 1777 like emptyDir (Docker's tmpfs default is 755 root-owned).
      TmpfsOptions: { SizeBytes: m.tmpfs.sizeBytes ?? 0, Mode: 0o1777 },
    };
  }
  throw new RuntimeError(`mount at ${m.containerPath}: one of hostPath, volumeName or tmpfs is required`);
}

function capName(c: string): string {
  const upper = c.toUpperCase();
  return upper === 'ALL' || upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
}

/** runAsUser/runAsGroup → Docker's `uid[:gid]`; a group alone keeps the image's user. */
async function dockerUser(engine: Engine, cfg: ContainerConfig): Promise<string | undefined> {
  const { runAsUser, runAsGroup } = cfg.securityContext;
  if (runAsUser === undefined && runAsGroup === undefined) return undefined;
  if (runAsGroup === undefined) return String(runAsUser);
  let uid = runAsUser !== undefined ? String(runAsUser) : '';
  if (!uid) {
    const image = await engine.call((d) => d.getImage(cfg.image).inspect(), { kind: 'image', ref: cfg.image });
    uid = (image.Config?.User ?? '').split(':')[0] || '0';
  }
  return `${uid}:${runAsGroup}`;
}

/** Kubelet-style log path → a symlink to the engine's json log (local engines only; best effort). */
async function linkLog(engine: Engine, id: string, logPath: string): Promise<void> {
  try {
    const info = await engine.call((d) => d.getContainer(id).inspect());
    if (!info.LogPath || !engine.endpoint.socketPath) return;
    await mkdir(dirname(logPath), { recursive: true });
    await unlink(logPath).catch(() => {});
    await symlink(info.LogPath, logPath);
  } catch (err) {
    log.debug('could not link the container log', { container: id, logPath, error: String(err) });
  }
}
