/**
 * Images for a pod's containers, as the kubelet's image manager: imagePullPolicy (Always,
 * IfNotPresent, Never), credentials from imagePullSecrets, the kubelet's events (Pulling, Pulled
 * with durations and size, Failed, BackOff, ErrImageNeverPull) and waiting reasons (ErrImagePull,
 * then ImagePullBackOff while the per-pod-and-image backoff runs). One pull per image and
 * credentials at a time: pods asking for an image already being pulled with the same credentials
 * wait for that pull. Pull progress (bytes per layer) goes to `onPullProgress` listeners and is
 * kept per pod for the UI.
 */
import { createHash } from 'node:crypto';
import type * as k8s from 'kubernetes-types/core/v1.js';
import { defaultPullPolicy } from '../api/defaults.ts';
import { log } from '../log.ts';
import { registryAuthsForImage } from '../runtime/docker/registry-auth.ts';
import { PullError, parseImageRef, type ImageStatus, type PullProgress, type RegistryAuth } from '../runtime/runtime.ts';
import { Backoff, type BackoffOptions } from './backoff.ts';
import type { AgentContext } from './types.ts';
import { asObject, errorMessage, goDuration, type Pod } from './util.ts';

export interface PullProgressEvent {
  namespace: string;
  pod: string;
  podUid: string;
  container: string;
  image: string;
  layer: string;
  status: string;
  current?: number;
  total?: number;
}

/** One image's pull as seen by one pod: bytes done/total over its layers. */
export interface ImagePullState {
  image: string;
  container: string;
  done: boolean;
  error?: string;
  layers: Record<string, { status: string; current?: number; total?: number }>;
  currentBytes: number;
  totalBytes: number;
}

export type ImageResult =
  | { ok: true; imageId: string }
  | { ok: false; reason: 'ErrImagePull' | 'ImagePullBackOff' | 'ErrImageNeverPull' | 'InvalidImageName'; message: string; retryAt?: number };

const PRESENT_TTL_MS = 5_000;

interface Inflight {
  promise: Promise<string>;
  listeners: Set<(p: PullProgress) => void>;
}

export class ImageManager {
  readonly backoff: Backoff;
  private readonly inflight = new Map<string, Inflight>();
  private readonly listeners = new Set<(e: PullProgressEvent) => void>();
  private readonly lastError = new Map<string, string>();
  private readonly progress = new Map<string, Map<string, ImagePullState>>();
  private readonly imageIds = new Map<string, string>();
  /** Recent answers to "is this image here?" (a burst of pods on one image asks the engine once). */
  private readonly present = new Map<string, { at: number; status: Promise<ImageStatus> }>();

  constructor(
    private readonly ctx: AgentContext,
    opts: BackoffOptions = {},
  ) {
    this.backoff = new Backoff(opts);
  }

  onPullProgress(cb: (e: PullProgressEvent) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  /** The pulls of one pod (latest state per image). */
  pullProgress(uid: string): ImagePullState[] {
    return [...(this.progress.get(uid)?.values() ?? [])].map((s) => structuredClone(s));
  }

  forget(uid: string): void {
    this.progress.delete(uid);
    this.backoff.resetPrefix(`${uid}_`);
    for (const k of this.lastError.keys()) if (k.startsWith(`${uid}_`)) this.lastError.delete(k);
  }

  /** Makes sure the container's image is present, pulling it when the policy says so. */
  async ensure(pod: Pod, c: k8s.Container, fieldPath: string): Promise<ImageResult> {
    const image = c.image ?? '';
    const { recorder } = this.ctx;
    const obj = asObject(pod);
    try {
      parseImageRef(image);
    } catch (err) {
      const message = `Failed to apply default image tag "${image}": couldn't parse image reference "${image}": ${errorMessage(err)}`;
      recorder.event(obj, 'Warning', 'InspectFailed', message, fieldPath);
      return { ok: false, reason: 'InvalidImageName', message };
    }
    const policy = c.imagePullPolicy ?? defaultPullPolicy(image);
    const status = await this.imageStatus(image);
    if (policy !== 'Always' && status.present) {
      recorder.event(obj, 'Normal', 'Pulled', `Container image "${image}" already present on machine`, fieldPath);
      return { ok: true, imageId: status.id! };
    }
    if (policy === 'Never') {
      const message = `Container image "${image}" is not present with pull policy of Never`;
      recorder.event(obj, 'Warning', 'ErrImageNeverPull', message, fieldPath);
      return { ok: false, reason: 'ErrImageNeverPull', message };
    }
    const key = `${pod.metadata.uid}_${image}`;
    if (this.backoff.isInBackOffSinceUpdate(key)) {
      const msg = `Back-off pulling image "${image}"`;
      recorder.event(obj, 'Normal', 'BackOff', msg, fieldPath);
      const last = this.lastError.get(key);
      return { ok: false, reason: 'ImagePullBackOff', message: last ? `${msg}: ErrImagePull: ${last}` : msg, retryAt: this.backoff.retryAtSinceUpdate(key) };
    }
    recorder.event(obj, 'Normal', 'Pulling', `Pulling image "${image}"`, fieldPath);
    const state = this.track(pod, c.name, image);
    const started = Date.now();
    try {
      const { id, waitedMs } = await this.pull(image, await this.credentials(pod, image), (p) => this.report(pod, c.name, image, state, p));
      state.done = true;
      this.present.delete(image);
      const took = Date.now() - started;
      const size = (await this.ctx.runtime.imageStatus(id).catch(() => undefined))?.size;
      recorder.event(
        obj,
        'Normal',
        'Pulled',
        `Successfully pulled image "${image}" in ${goDuration(took - waitedMs)} (${goDuration(took)} including waiting)${size !== undefined ? `. Image size: ${size} bytes.` : ''}`,
        fieldPath,
      );
      this.backoff.reset(key);
      this.lastError.delete(key);
      return { ok: true, imageId: id };
    } catch (err) {
      if (!(err instanceof PullError)) throw err;
      const message = err.engineMessage ?? err.message;
      state.done = true;
      state.error = message;
      recorder.event(obj, 'Warning', 'Failed', `Failed to pull image "${image}": ${message}`, fieldPath);
      this.backoff.next(key);
      this.lastError.set(key, message);
      log.info('image pull failed', { pod: `${pod.metadata.namespace}/${pod.metadata.name}`, image, error: message });
      if (err.kind === 'InvalidReference') return { ok: false, reason: 'InvalidImageName', message };
      // Sync again soon, within the backoff: the status moves on to ImagePullBackOff as users expect.
      return { ok: false, reason: 'ErrImagePull', message, retryAt: Date.now() + Math.min(1000, this.backoff.get(key) / 2) };
    }
  }

  /** Forget cached image answers (an image was pulled, removed or re-tagged). */
  invalidate(): void {
    this.present.clear();
    this.imageIds.clear();
  }

  private imageStatus(image: string): Promise<ImageStatus> {
    const now = Date.now();
    const hit = this.present.get(image);
    if (hit && now - hit.at < PRESENT_TTL_MS) return hit.status;
    const status = this.ctx.runtime.imageStatus(image);
    if (this.present.size > 500) this.present.clear();
    this.present.set(image, { at: now, status });
    status.then(
      (s) => {
        if (!s.present) this.present.delete(image);
      },
      () => this.present.delete(image),
    );
    return status;
  }

  /** `docker-pullable://repo@sha256:…` when the image came from a registry, else `docker://sha256:…` (as dockershim). */
  async imageID(imageRef: string): Promise<string> {
    if (!imageRef) return '';
    const cached = this.imageIds.get(imageRef);
    if (cached) return cached;
    const st = await this.ctx.runtime.imageStatus(imageRef).catch(() => undefined);
    const id = st?.repoDigests?.[0] ? `docker-pullable://${st.repoDigests[0]}` : `docker://${imageRef}`;
    if (st?.present) {
      if (this.imageIds.size > 1000) this.imageIds.clear();
      this.imageIds.set(imageRef, id);
    }
    return id;
  }

  private async pull(image: string, auths: RegistryAuth[], onProgress: (p: PullProgress) => void): Promise<{ id: string; waitedMs: number }> {
    // Pods share a pull only when they pull with the same credentials: a pod with the right
    // imagePullSecrets must not inherit the failure of an anonymous pull of the same image, and a
    // pod without them must not get a private image through another pod's pull.
    const key = `${image}\n${createHash('sha256').update(JSON.stringify(auths)).digest('hex')}`;
    const running = this.inflight.get(key);
    if (running) {
      running.listeners.add(onProgress);
      try {
        const id = await running.promise;
        return { id, waitedMs: 0 };
      } finally {
        running.listeners.delete(onProgress);
      }
    }
    const listeners = new Set<(p: PullProgress) => void>([onProgress]);
    const fan = (p: PullProgress) => {
      for (const l of listeners) l(p);
    };
    const promise = (async () => {
      // The kubelet tries every matching credential in turn, then gives the last error.
      let lastErr: unknown;
      for (const auth of auths.length ? auths : [undefined]) {
        try {
          return await this.ctx.runtime.pullImage(image, auth, fan);
        } catch (err) {
          lastErr = err;
          if (!(err instanceof PullError) || err.kind !== 'Unauthorized') break;
        }
      }
      throw lastErr;
    })();
    this.inflight.set(key, { promise, listeners });
    try {
      return { id: await promise, waitedMs: 0 };
    } finally {
      this.inflight.delete(key);
    }
  }

  private async credentials(pod: Pod, image: string): Promise<RegistryAuth[]> {
    const configs: string[] = [];
    for (const ref of pod.spec.imagePullSecrets ?? []) {
      const s = ref.name ? this.ctx.sources.secret(pod.metadata.namespace ?? 'default', ref.name) : undefined;
      const data = (s?.data ?? {}) as Record<string, string>;
      const raw = data['.dockerconfigjson'] ?? data['.dockercfg'];
      if (raw) configs.push(Buffer.from(raw, 'base64').toString('utf8'));
    }
    return configs.length ? registryAuthsForImage(configs, image) : [];
  }

  private track(pod: Pod, container: string, image: string): ImagePullState {
    const uid = pod.metadata.uid!;
    let m = this.progress.get(uid);
    if (!m) this.progress.set(uid, (m = new Map()));
    const state: ImagePullState = { image, container, done: false, layers: {}, currentBytes: 0, totalBytes: 0 };
    m.set(image, state);
    return state;
  }

  private report(pod: Pod, container: string, image: string, state: ImagePullState, p: PullProgress): void {
    if (p.layer) {
      const l = (state.layers[p.layer] ??= { status: p.status });
      l.status = p.status;
      if (p.current !== undefined) l.current = p.current;
      if (p.total !== undefined) l.total = p.total;
      if (/complete|already exists/i.test(p.status) && l.total !== undefined) l.current = l.total;
      let cur = 0;
      let tot = 0;
      for (const x of Object.values(state.layers)) {
        cur += x.current ?? 0;
        tot += x.total ?? 0;
      }
      state.currentBytes = cur;
      state.totalBytes = tot;
    }
    const ev: PullProgressEvent = {
      namespace: pod.metadata.namespace ?? 'default',
      pod: pod.metadata.name ?? '',
      podUid: pod.metadata.uid ?? '',
      container,
      image,
      layer: p.layer,
      status: p.status,
      ...(p.current !== undefined ? { current: p.current } : {}),
      ...(p.total !== undefined ? { total: p.total } : {}),
    };
    for (const l of this.listeners) {
      try {
        l(ev);
      } catch (err) {
        log.warn('pull progress listener threw', { error: errorMessage(err) });
      }
    }
  }
}
