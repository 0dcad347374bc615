/**
 * Pod sandboxes: one pause container per pod that owns the pod's network namespace (it joins the
 * cluster's Docker network → the pod IP; host ports are published on it), its IPC namespace
 * (shareable) and, with `sharePidNamespace`, the PID namespace the containers join.
 */
import type Docker from 'dockerode';
import {
  LABEL,
  RuntimeNotFoundError,
  type Labels,
  type PodSandboxConfig,
  type PodSandboxFilter,
  type PodSandboxStatus,
} from '../runtime.ts';
import type { Engine } from './engine.ts';
import { dockerName, intLabel, labelFilters, objectLabels, podLabels, podRefOf, userLabelsOf } from './labels.ts';

/** How long a sandbox gets to stop; the pause binary exits on SIGTERM at once. */
const SANDBOX_STOP_SECONDS = 2;

export async function runPodSandbox(engine: Engine, pauseImage: string, cfg: PodSandboxConfig): Promise<string> {
  const labels = objectLabels('sandbox', cfg.labels, cfg.annotations, {
    ...podLabels(cfg),
    [LABEL.attempt]: String(cfg.attempt),
    [LABEL.hostname]: cfg.hostname,
    [LABEL.network]: cfg.network,
    ...(cfg.sharePidNamespace ? { [LABEL.sharePid]: 'true' } : {}),
  });
  const exposed: Record<string, object> = {};
  const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const p of cfg.portMappings) {
    const key = `${p.containerPort}/${p.protocol.toLowerCase()}`;
    exposed[key] = {};
    if (p.hostPort) (bindings[key] ??= []).push({ HostIp: p.hostIP ?? '', HostPort: String(p.hostPort) });
  }
  const name = dockerName(cfg, 'POD', cfg.attempt);
  const create: Docker.ContainerCreateOptions = {
    name,
    Image: pauseImage,
    Hostname: cfg.hostname,
    Labels: labels,
    ExposedPorts: exposed,
    HostConfig: {
      NetworkMode: cfg.network,
      PortBindings: bindings,
      IpcMode: 'shareable',
      RestartPolicy: { Name: 'no' },
      ...(cfg.dns
        ? { Dns: cfg.dns.servers, DnsSearch: cfg.dns.searches, DnsOptions: cfg.dns.options }
        : {}),
      LogConfig: { Type: 'json-file', Config: { 'max-size': '1m', 'max-file': '1' } },
    },
  };
  const c = await engine.call((d) => d.createContainer(create), { kind: 'sandbox', ref: name });
  try {
    await engine.call((d) => d.getContainer(c.id).start(), { kind: 'sandbox', ref: name });
  } catch (err) {
    await engine.call((d) => d.getContainer(c.id).remove({ force: true })).catch(() => {});
    throw err;
  }
  return c.id;
}

export async function stopPodSandbox(engine: Engine, id: string): Promise<void> {
  const full = await sandboxId(engine, id);
  if (!full) return;
  const running = await engine.call((d) =>
    d.listContainers({ all: false, filters: { label: [`${LABEL.sandboxId}=${full}`] } }),
  );
  // Whatever the agent did not stop gracefully is killed now (CRI: StopPodSandbox reclaims all).
  await Promise.all(running.map((c) => ignoreGone(engine.call((d) => d.getContainer(c.Id).stop({ t: 0 })))));
  await ignoreGone(engine.call((d) => d.getContainer(full).stop({ t: SANDBOX_STOP_SECONDS }), { kind: 'sandbox', ref: id }));
}

export async function removePodSandbox(engine: Engine, id: string): Promise<void> {
  const full = await sandboxId(engine, id);
  if (!full) return;
  const members = await engine.call((d) =>
    d.listContainers({ all: true, filters: { label: [`${LABEL.sandboxId}=${full}`] } }),
  );
  await Promise.all(members.map((c) => ignoreGone(engine.call((d) => d.getContainer(c.Id).remove({ force: true, v: true })))));
  await ignoreGone(engine.call((d) => d.getContainer(full).remove({ force: true, v: true }), { kind: 'sandbox', ref: id }));
}

/** The full id of sandbox `id` (which may be a prefix); undefined when it is gone. */
async function sandboxId(engine: Engine, id: string): Promise<string | undefined> {
  try {
    const info = await engine.call((d) => d.getContainer(id).inspect(), { kind: 'sandbox', ref: id });
    if (info.Config.Labels?.[LABEL.type] !== 'sandbox') throw new RuntimeNotFoundError('sandbox', id, 'not a Wheelhouse sandbox');
    return info.Id;
  } catch (err) {
    if (err instanceof RuntimeNotFoundError && !/not a Wheelhouse sandbox/.test(err.message)) return undefined;
    throw err;
  }
}

export async function podSandboxStatus(engine: Engine, id: string): Promise<PodSandboxStatus> {
  const info = await engine.call((d) => d.getContainer(id).inspect(), { kind: 'sandbox', ref: id });
  const labels = (info.Config.Labels ?? {}) as Labels;
  if (labels[LABEL.type] !== 'sandbox') throw new RuntimeNotFoundError('sandbox', id, 'not a Wheelhouse sandbox');
  const network = labels[LABEL.network] ?? '';
  const ip = info.State.Running ? info.NetworkSettings.Networks?.[network]?.IPAddress : undefined;
  return toStatus(info.Id, labels, info.State.Running, new Date(info.Created), ip || undefined);
}

export async function listPodSandboxes(engine: Engine, f: PodSandboxFilter = {}): Promise<PodSandboxStatus[]> {
  const filters: Record<string, string[]> = { label: labelFilters('sandbox', f) };
  if (f.id) filters.id = [f.id];
  if (f.state === 'ready') filters.status = ['running'];
  const list = await engine.call((d) => d.listContainers({ all: f.state !== 'ready', filters }));
  return list
    .map((c) => {
      const labels = (c.Labels ?? {}) as Labels;
      const running = c.State === 'running';
      const ip = running ? c.NetworkSettings?.Networks?.[labels[LABEL.network] ?? '']?.IPAddress : undefined;
      return toStatus(c.Id, labels, running, new Date(c.Created * 1000), ip || undefined);
    })
    .filter((s) => !f.state || s.state === f.state)
    .filter((s) => !f.id || s.id === f.id || s.id.startsWith(f.id));
}

function toStatus(id: string, labels: Labels, running: boolean, createdAt: Date, ip: string | undefined): PodSandboxStatus {
  return {
    id,
    ...podRefOf(labels),
    attempt: intLabel(labels, LABEL.attempt),
    state: running ? 'ready' : 'notready',
    createdAt,
    ...(ip ? { ip } : {}),
    network: labels[LABEL.network] ?? '',
    hostname: labels[LABEL.hostname] ?? '',
    ...userLabelsOf(labels),
  };
}

/** Swallows "already gone" (and "already stopped", which dockerode reports as an error). */
export async function ignoreGone(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (err instanceof RuntimeNotFoundError) return;
    const msg = (err as { engineMessage?: string; message?: string }).engineMessage ?? (err as Error).message ?? '';
    if (/already stopped|No such container|is not running|removal of container .* is already in progress/i.test(msg)) return;
    throw err;
  }
}
