/**
 * The sandbox image `wheelhouse/pause:<version>`, built locally when missing — no registry:
 * `FROM scratch` plus the generated pause binary (pause-elf.ts), sent to the engine as an
 * in-memory tar build context. The binary's sha256 is an image label, so an image built from an
 * older binary is rebuilt.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { log } from '../../log.ts';
import { LABEL, RuntimeError } from '../runtime.ts';
import type { Engine } from './engine.ts';
import { pauseArchFor, pauseElf } from './pause-elf.ts';
import { tar } from './tar.ts';

export const PAUSE_IMAGE_VERSION = '1';
export const DEFAULT_PAUSE_IMAGE = `wheelhouse/pause:${PAUSE_IMAGE_VERSION}`;
const SHA_LABEL = 'io.wheelhouse.pause.sha256';

/** The build context for the pause image of `engineArch` (Docker's Arch: amd64, arm64 …). */
export function pauseBuildContext(engineArch: string): { context: Buffer; sha256: string } {
  const binary = pauseElf(pauseArchFor(engineArch));
  const sha256 = createHash('sha256').update(binary).digest('hex');
  const dockerfile = [
    'FROM scratch',
    'COPY pause /pause',
    `LABEL ${LABEL.type}="image" ${SHA_LABEL}="${sha256}"`,
    'USER 65535:65535',
    'ENTRYPOINT ["/pause"]',
    '',
  ].join('\n');
  const context = tar([
    { name: 'Dockerfile', data: dockerfile },
    { name: 'pause', data: binary, mode: 0o755 },
  ]);
  return { context, sha256 };
}

/** Makes sure `tag` exists (building it if needed); returns its image id. */
export async function ensurePauseImage(engine: Engine, tag: string): Promise<string> {
  const arch = (await engine.call((d) => d.version())).Arch;
  const { context, sha256 } = pauseBuildContext(arch);
  const existing = await engine
    .call((d) => d.getImage(tag).inspect(), { kind: 'image', ref: tag })
    .catch((e: unknown) => {
      if ((e as Error).name === 'RuntimeNotFoundError') return undefined;
      throw e;
    });
  if (existing && existing.Config?.Labels?.[SHA_LABEL] === sha256) return existing.Id;

  const started = Date.now();
  log.info('building the pause image', { image: tag, arch, reason: existing ? 'binary changed' : 'missing' });
  const stream = await engine.call((d) => d.buildImage(Readable.from([context]), { t: tag, rm: true, forcerm: true }));
  await new Promise<void>((resolve, reject) => {
    engine.docker.modem.followProgress(stream, (err: Error | null, out: Array<{ error?: string; errorDetail?: { message?: string } }>) => {
      const failed = out?.find((o) => o.error || o.errorDetail);
      if (err || failed) reject(new RuntimeError(`building ${tag} failed: ${failed?.errorDetail?.message ?? failed?.error ?? err?.message}`));
      else resolve();
    });
  });
  const built = await engine.call((d) => d.getImage(tag).inspect(), { kind: 'image', ref: tag });
  log.info('pause image built', { image: tag, id: built.Id, ms: Date.now() - started });
  return built.Id;
}
