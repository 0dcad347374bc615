/**
 * The Docker driver of ContainerRuntime (dockerode). This file wires the parts together; each
 * role lives in its own file: connect (finding the engine), engine (errors, reachability),
 * sandboxes, containers, images, volumes, networks, logs, exec, stats, events, pause-image.
 */
import type {
  AvailabilityListener,
  ContainerConfig,
  ContainerFilter,
  ContainerRuntime,
  ContainerStats,
  ContainerStatus,
  ContainerSummary,
  EventFilter,
  ExecOptions,
  ExecResult,
  ExecSession,
  ImageStatus,
  ImageSummary,
  Labels,
  StatsOptions,
  LogLine,
  LogOptions,
  NetworkInfo,
  ObjectFilter,
  PodSandboxConfig,
  PodSandboxFilter,
  PodSandboxStatus,
  PullProgress,
  RegistryAuth,
  RuntimeEvent,
  RuntimeVersion,
  VolumeInfo,
} from '../runtime.ts';
import { RuntimeNotFoundError } from '../runtime.ts';
import { dockerodeFor, parseHost, resolveDockerEndpoint, type DockerEndpoint, type ResolveOptions } from './connect.ts';
import * as containers from './containers.ts';
import { Engine, type EngineOptions } from './engine.ts';
import { subscribeEvents } from './events.ts';
import { exec, execSync } from './exec.ts';
import * as images from './images.ts';
import { logs } from './logs.ts';
import * as networks from './networks.ts';
import { DEFAULT_PAUSE_IMAGE, ensurePauseImage } from './pause-image.ts';
import * as sandboxes from './sandboxes.ts';
import { StatsSampler } from './stats.ts';
import * as volumes from './volumes.ts';

export interface DockerRuntimeOptions extends EngineOptions {
  /** An engine address in DOCKER_HOST syntax; default: found as the docker CLI does. */
  host?: string;
  /** Environment to resolve the engine from (DOCKER_HOST, DOCKER_CONTEXT …); default process.env. */
  env?: ResolveOptions['env'];
  /** Sandbox image tag; default wheelhouse/pause:<version>, built locally when missing. */
  pauseImage?: string;
}

export class DockerRuntime implements ContainerRuntime {
  readonly endpoint: DockerEndpoint;
  readonly pauseImage: string;
  private readonly engine: Engine;
  private readonly sampler: StatsSampler;
  private pauseReady: Promise<string> | undefined;
  private readonly stopEvents = new Set<() => void>();

  constructor(opts: DockerRuntimeOptions = {}) {
    this.endpoint = opts.host ? parseHost(opts.host, 'host option') : resolveDockerEndpoint({ env: opts.env });
    this.engine = new Engine(dockerodeFor(this.endpoint), this.endpoint, opts);
    this.sampler = new StatsSampler(this.engine);
    this.pauseImage = opts.pauseImage ?? DEFAULT_PAUSE_IMAGE;
  }

  async version(): Promise<RuntimeVersion> {
    const v = await this.engine.call((d) => d.version());
    return {
      runtimeName: 'docker',
      runtimeVersion: v.Version,
      apiVersion: v.ApiVersion,
      os: v.Os,
      arch: v.Arch,
      ...(v.KernelVersion ? { kernelVersion: v.KernelVersion } : {}),
      endpoint: this.endpoint.url,
    };
  }

  ping(): Promise<void> {
    return this.engine.ping();
  }

  onAvailabilityChange(cb: AvailabilityListener): () => void {
    return this.engine.onAvailabilityChange(cb);
  }

  async close(): Promise<void> {
    for (const stop of [...this.stopEvents]) stop();
    this.stopEvents.clear();
    this.sampler.close();
    this.engine.close();
  }

  /** Builds the pause image if it is missing (runPodSandbox does this on demand). */
  ensurePauseImage(): Promise<string> {
    this.pauseReady ??= ensurePauseImage(this.engine, this.pauseImage).catch((err) => {
      this.pauseReady = undefined;
      throw err;
    });
    return this.pauseReady;
  }

  async runPodSandbox(cfg: PodSandboxConfig): Promise<string> {
    await this.ensurePauseImage();
    try {
      return await sandboxes.runPodSandbox(this.engine, this.pauseImage, cfg);
    } catch (err) {
      // Someone removed the pause image since we checked: build it again, once.
      if (!(err instanceof RuntimeNotFoundError) || !/no such image/i.test(err.message)) throw err;
      this.pauseReady = undefined;
      await this.ensurePauseImage();
      return sandboxes.runPodSandbox(this.engine, this.pauseImage, cfg);
    }
  }

  stopPodSandbox(id: string): Promise<void> {
    return sandboxes.stopPodSandbox(this.engine, id);
  }

  removePodSandbox(id: string): Promise<void> {
    this.sampler.forget(id);
    return sandboxes.removePodSandbox(this.engine, id);
  }

  podSandboxStatus(id: string): Promise<PodSandboxStatus> {
    return sandboxes.podSandboxStatus(this.engine, id);
  }

  listPodSandboxes(filter?: PodSandboxFilter): Promise<PodSandboxStatus[]> {
    return sandboxes.listPodSandboxes(this.engine, filter);
  }

  createContainer(sandboxId: string, cfg: ContainerConfig): Promise<string> {
    return containers.createContainer(this.engine, sandboxId, cfg);
  }

  startContainer(id: string): Promise<void> {
    return containers.startContainer(this.engine, id);
  }

  stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    return containers.stopContainer(this.engine, id, timeoutSeconds);
  }

  removeContainer(id: string): Promise<void> {
    this.sampler.forget(id);
    return containers.removeContainer(this.engine, id);
  }

  containerStatus(id: string): Promise<ContainerStatus> {
    return containers.containerStatus(this.engine, id);
  }

  listContainers(filter?: ContainerFilter): Promise<ContainerSummary[]> {
    return containers.listContainers(this.engine, filter);
  }

  imageStatus(ref: string): Promise<ImageStatus> {
    return images.imageStatus(this.engine, ref);
  }

  listImages(): Promise<ImageSummary[]> {
    return images.listImages(this.engine);
  }

  pullImage(ref: string, auth?: RegistryAuth, onProgress?: (p: PullProgress) => void): Promise<string> {
    return images.pullImage(this.engine, ref, auth, onProgress);
  }

  removeImage(ref: string): Promise<void> {
    return images.removeImage(this.engine, ref);
  }

  ensureVolume(name: string, labels: Labels): Promise<VolumeInfo> {
    return volumes.ensureVolume(this.engine, name, labels);
  }

  removeVolume(name: string): Promise<void> {
    return volumes.removeVolume(this.engine, name);
  }

  listVolumes(filter?: ObjectFilter): Promise<VolumeInfo[]> {
    return volumes.listVolumes(this.engine, filter);
  }

  ensureNetwork(name: string, labels: Labels): Promise<NetworkInfo> {
    return networks.ensureNetwork(this.engine, name, labels);
  }

  removeNetwork(name: string): Promise<void> {
    return networks.removeNetwork(this.engine, name);
  }

  listNetworks(filter?: ObjectFilter): Promise<NetworkInfo[]> {
    return networks.listNetworks(this.engine, filter);
  }

  logs(containerId: string, opts?: LogOptions, signal?: AbortSignal): AsyncIterable<LogLine> {
    return logs(this.engine, containerId, opts, signal);
  }

  exec(containerId: string, opts: ExecOptions): Promise<ExecSession> {
    return exec(this.engine, containerId, opts);
  }

  execSync(containerId: string, cmd: string[], timeoutMs: number): Promise<ExecResult> {
    return execSync(this.engine, containerId, cmd, timeoutMs);
  }

  containerStats(id: string, opts?: StatsOptions): Promise<ContainerStats> {
    return this.sampler.stats(id, opts);
  }

  events(onEvent: (e: RuntimeEvent) => void, filter?: EventFilter): () => void {
    const stop = subscribeEvents(this.engine, onEvent, filter);
    const wrapped = () => {
      this.stopEvents.delete(wrapped);
      stop();
    };
    this.stopEvents.add(wrapped);
    return wrapped;
  }
}
