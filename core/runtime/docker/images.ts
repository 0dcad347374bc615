/**
 * Images: status, list, pull (with progress and registry credentials), remove. A failed pull
 * throws `PullError` carrying the engine's own words ("pull access denied …", "… no such host"),
 * which is what the user needs to see in the pod's events.
 */
import {
  PullError,
  RuntimeNotFoundError,
  RuntimeUnavailableError,
  type ImageStatus,
  type ImageSummary,
  type Labels,
  type PullErrorKind,
  type PullProgress,
  type RegistryAuth,
} from '../runtime.ts';
import type { Engine } from './engine.ts';
import { engineMessage } from './engine.ts';
import { parseImageRef, type ImageRef } from './image-ref.ts';

export async function imageStatus(engine: Engine, ref: string): Promise<ImageStatus> {
  try {
    const info = await engine.call((d) => d.getImage(ref).inspect(), { kind: 'image', ref });
    return { present: true, id: info.Id, size: info.Size, repoTags: info.RepoTags ?? [], repoDigests: info.RepoDigests ?? [] };
  } catch (err) {
    if (err instanceof RuntimeNotFoundError) return { present: false, repoTags: [], repoDigests: [] };
    throw err;
  }
}

export async function listImages(engine: Engine): Promise<ImageSummary[]> {
  const list = await engine.call((d) => d.listImages());
  return list.map((i) => ({
    id: i.Id,
    size: i.Size,
    repoTags: (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>'),
    repoDigests: (i.RepoDigests ?? []).filter((t) => t !== '<none>@<none>'),
    createdAt: new Date(i.Created * 1000),
    labels: (i.Labels ?? {}) as Labels,
  }));
}

export async function pullImage(
  engine: Engine,
  ref: string,
  auth?: RegistryAuth,
  onProgress?: (p: PullProgress) => void,
): Promise<string> {
  let parsed: ImageRef;
  try {
    parsed = parseImageRef(ref);
  } catch (err) {
    throw new PullError(ref, (err as Error).message, 'InvalidReference');
  }
  const opts = { fromImage: parsed.repository, tag: parsed.digest ?? parsed.tag ?? 'latest' };
  const authconfig = auth
    ? {
        serveraddress: auth.serverAddress,
        ...(auth.username !== undefined ? { username: auth.username } : {}),
        ...(auth.password !== undefined ? { password: auth.password } : {}),
        ...(auth.identityToken !== undefined ? { identitytoken: auth.identityToken } : {}),
      }
    : undefined;
  let stream: NodeJS.ReadableStream;
  try {
    stream = await engine.call((d) => (authconfig ? d.createImage(authconfig, opts) : d.createImage(opts)));
  } catch (err) {
    if (err instanceof RuntimeUnavailableError) throw err;
    const msg = (err as { engineMessage?: string }).engineMessage ?? engineMessage(err);
    throw new PullError(ref, msg, pullErrorKind(msg));
  }
  await new Promise<void>((resolve, reject) => {
    let failure: string | undefined;
    engine.docker.modem.followProgress(
      stream,
      (err: Error | null) => {
        if (failure !== undefined) reject(new PullError(ref, failure, pullErrorKind(failure)));
        else if (err) reject(new PullError(ref, err.message, 'Network'));
        else resolve();
      },
      (ev: PullEvent) => {
        if (ev.error || ev.errorDetail) {
          failure ??= (ev.errorDetail?.message ?? ev.error ?? 'unknown error').trim();
          return;
        }
        if (!onProgress || !ev.status) return;
        onProgress({
          layer: ev.id ?? '',
          status: ev.status,
          ...(ev.progressDetail?.current !== undefined ? { current: ev.progressDetail.current } : {}),
          ...(ev.progressDetail?.total !== undefined ? { total: ev.progressDetail.total } : {}),
        });
      },
    );
  });
  const image = await engine.call((d) => d.getImage(parsed.digest ? `${parsed.repository}@${parsed.digest}` : parsed.normalized).inspect(), {
    kind: 'image',
    ref,
  });
  return image.Id;
}

interface PullEvent {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string };
}

export function pullErrorKind(msg: string): PullErrorKind {
  const m = msg.toLowerCase();
  if (/invalid reference format/.test(m)) return 'InvalidReference';
  if (/pull access denied|repository does not exist|manifest unknown|not found|no such image/.test(m)) return 'NotFound';
  // "no basic auth credentials": a registry asked for basic auth and the pull carried none.
  if (/unauthorized|authentication required|no basic auth credentials|incorrect username or password|denied/.test(m)) return 'Unauthorized';
  if (/no such host|dial tcp|i\/o timeout|connection refused|tls handshake|server misbehaving|network is unreachable|client\.timeout|timeout exceeded|eof/.test(m)) return 'Network';
  return 'Other';
}

export async function removeImage(engine: Engine, ref: string): Promise<void> {
  try {
    await engine.call((d) => d.getImage(ref).remove(), { kind: 'image', ref });
  } catch (err) {
    if (err instanceof RuntimeNotFoundError) return;
    throw err;
  }
}
