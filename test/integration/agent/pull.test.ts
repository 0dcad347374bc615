/**
 * Successful image pulls on the real engine, with no public registry: a registry fixture
 * (test/fixtures/registry.ts) on 127.0.0.1 serves the local busybox test image (`docker save`)
 * plus a layer of random bytes, throttled so that the engine reports download progress. Checks
 * the kubelet's events (Pulling, Pulled "Successfully pulled image … in …"), the per-layer byte
 * progress the UI gets (NodeAgent.onPullProgress / pullProgress), imagePullSecrets against a
 * registry with basic auth, and the pull policies Never and IfNotPresent.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PullProgressEvent } from '../../../core/agent/images.ts';
import { imageFromDockerSave, layerFromTar, startRegistry, tarLayer, withLayer, type RegistryImage, type TestRegistry } from '../../fixtures/registry.ts';
import { BUSYBOX, docker, isRunning, setup, type Env } from './helpers.ts';

const RANDOM_MB = 6;
const USER = 'puller';
const PASSWORD = `pw-${randomBytes(6).toString('hex')}`;

const waitingReason = (reason: string) => (p: any) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === reason;
const b64 = (s: string) => Buffer.from(s).toString('base64');

/** The busybox test image as `docker save` exports it, plus a layer holding `/random.bin`. */
async function testImage(base: RegistryImage, mb: number): Promise<RegistryImage> {
  return withLayer(base, layerFromTar(tarLayer([{ name: 'random.bin', data: randomBytes(mb << 20) }])), `random ${mb} MiB`);
}

describe('node agent on Docker: pulling from a registry', () => {
  let env: Env;
  let open: TestRegistry; // no auth, Docker schema 2 manifests
  let locked: TestRegistry; // basic auth, OCI manifests
  const pulled: string[] = [];

  beforeAll(async () => {
    env = await setup('pull', { imagePullBackoff: { initialMs: 500, maxMs: 2000 } });
    const chunks: Buffer[] = [];
    for await (const c of await docker.getImage(BUSYBOX).get()) chunks.push(c as Buffer);
    const base = imageFromDockerSave(Buffer.concat(chunks));
    open = await startRegistry({ images: { 'wh-pull/app:1': await testImage(base, RANDOM_MB) }, bytesPerSecond: 4 << 20 });
    locked = await startRegistry({
      images: { 'wh-pull/private:1': await testImage(base, 2) },
      format: 'oci',
      auth: { username: USER, password: PASSWORD },
      bytesPerSecond: 4 << 20,
    });
    pulled.push(`${open.host}/wh-pull/app:1`, `${locked.host}/wh-pull/private:1`);
  });

  afterAll(async () => {
    await env?.close(); // the cluster's containers first, so the images are unused
    for (const ref of pulled) await docker.getImage(ref).remove().catch(() => {});
    await open?.close();
    await locked?.close();
  });

  it('pulls an image with Always: Pulling, progress in bytes per layer, Pulled with its duration and size, Running', async () => {
    const image = `${open.host}/wh-pull/app:1`;
    const progress: PullProgressEvent[] = [];
    const off = env.agent.onPullProgress((e) => {
      if (e.pod === 'fresh') progress.push(e);
    });
    try {
      await env.createPod('fresh', { containers: [{ name: 'app', image, imagePullPolicy: 'Always', command: ['sleep', '3600'] }] });
      const p = await env.waitPod('fresh', isRunning(), 'Running', 60_000);
      expect(p.status.phase).toBe('Running');
      const cs = p.status.containerStatuses[0];
      expect(cs.image).toBe(image);
      // The engine records the digest of the manifest it was served.
      expect(cs.imageID).toBe(`docker-pullable://${open.host}/wh-pull/app@${open.manifestDigest('wh-pull/app:1')}`);
    } finally {
      off();
    }

    const events = (await env.events('fresh')).map((e) => `${e.reason}: ${e.message}`);
    const pulling = events.indexOf(`Pulling: Pulling image "${image}"`);
    const pulledAt = events.findIndex((e) => e.startsWith('Pulled: '));
    expect(pulling).toBeGreaterThanOrEqual(0);
    expect(pulledAt).toBeGreaterThan(pulling);
    const esc = image.replace(/[.]/g, '\\.');
    expect(events[pulledAt]).toMatch(new RegExp(`^Pulled: Successfully pulled image "${esc}" in [\\d.]+m?s \\([\\d.]+m?s including waiting\\)\\. Image size: \\d+ bytes\\.$`));
    expect(events.some((e) => e.startsWith('Failed:'))).toBe(false);

    // Progress as the UI gets it: per layer, with byte counts, for the layer of random bytes.
    const random = open.layers('wh-pull/app:1').at(-1)!;
    const randomId = random.digest.slice('sha256:'.length, 'sha256:'.length + 12);
    const downloads = progress.filter((e) => e.layer === randomId && e.status === 'Downloading');
    expect(downloads.length).toBeGreaterThanOrEqual(2);
    expect(downloads.every((e) => e.image === image && e.container === 'app' && e.namespace === 'default')).toBe(true);
    expect(downloads.some((e) => e.current! > 0 && e.total === random.size && e.current! < e.total!)).toBe(true);
    const states = env.agent.pullProgress('default', 'fresh');
    expect(states).toHaveLength(1);
    expect(states[0]).toMatchObject({ image, container: 'app', done: true });
    expect(states[0]!.error).toBeUndefined();
    expect(states[0]!.layers[randomId]).toMatchObject({ current: random.size, total: random.size });
    expect(states[0]!.totalBytes).toBeGreaterThanOrEqual(random.size);
    expect(states[0]!.currentBytes).toBe(states[0]!.totalBytes);

    // The registry served the manifest and the random layer; the file is in the container.
    expect(open.requests.some((r) => r.method === 'GET' && r.path === `/v2/wh-pull/app/blobs/${random.digest}` && r.status === 200)).toBe(true);
    const { code, out } = await env.exec('fresh', 'app', ['wc', '-c', '/random.bin']);
    expect(code).toBe(0);
    expect(out.trim()).toBe(`${RANDOM_MB << 20} /random.bin`);
  });

  it('needs imagePullSecrets for a registry with basic auth: ImagePullBackOff without, Running with a dockerconfigjson Secret', async () => {
    const image = `${locked.host}/wh-pull/private:1`;
    await env.createPod('anon', { containers: [{ name: 'c', image, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }] });
    const err = await env.waitPod('anon', waitingReason('ErrImagePull'), 'ErrImagePull', 60_000);
    const engineMessage = err.status.containerStatuses[0].state.waiting.message as string;
    expect(engineMessage).toMatch(/unauthorized|authentication required|no basic auth credentials|401/i);
    const backoff = await env.waitPod('anon', waitingReason('ImagePullBackOff'), 'ImagePullBackOff', 60_000);
    expect(backoff.status.containerStatuses[0].state.waiting.message).toBe(`Back-off pulling image "${image}": ErrImagePull: ${engineMessage}`);
    expect(backoff.status.phase).toBe('Pending');
    const events = (await env.events('anon')).map((e) => `${e.reason}: ${e.message}`);
    expect(events).toContain(`Failed: Failed to pull image "${image}": ${engineMessage}`);
    expect(locked.requests.some((r) => r.status === 401)).toBe(true);
    expect(locked.requests.some((r) => r.path.includes('/blobs/'))).toBe(false);
    expect((await docker.getImage(image).inspect().catch(() => undefined)) === undefined).toBe(true);

    const dockerconfig = (password: string) =>
      b64(JSON.stringify({ auths: { [locked.host]: { username: USER, password, auth: b64(`${USER}:${password}`) } } }));
    for (const [name, password] of [
      ['wrongcred', 'not-the-password'],
      ['regcred', PASSWORD],
    ] as const) {
      await env.client.create({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name, namespace: 'default' },
        type: 'kubernetes.io/dockerconfigjson',
        data: { '.dockerconfigjson': dockerconfig(password) },
      });
    }
    // The agent reads Secrets from its informer cache: wait until it has both.
    const sources = (env.agent as any).ctx.sources;
    for (let i = 0; i < 200 && !(sources.secret('default', 'wrongcred') && sources.secret('default', 'regcred')); i++) await new Promise((r) => setTimeout(r, 25));

    // A wrong password alone: refused with the engine's words.
    await env.createPod('wrong', { imagePullSecrets: [{ name: 'wrongcred' }], containers: [{ name: 'c', image, command: ['sleep', '3600'] }] });
    const wrong = await env.waitPod('wrong', waitingReason('ErrImagePull'), 'ErrImagePull', 60_000);
    expect(wrong.status.containerStatuses[0].state.waiting.message).toMatch(/unauthorized|authentication required|401/i);

    // The wrong credential first, the right one second: tried in turn as the kubelet does, and pulled.
    const before = locked.requests.length;
    await env.createPod('authed', {
      imagePullSecrets: [{ name: 'wrongcred' }, { name: 'regcred' }],
      containers: [{ name: 'c', image, command: ['sleep', '3600'] }],
    });
    const p = await env.waitPod('authed', isRunning(), 'Running', 60_000);
    expect(p.status.containerStatuses[0].imageID).toBe(`docker-pullable://${locked.host}/wh-pull/private@${locked.manifestDigest('wh-pull/private:1')}`);
    const authed = (await env.events('authed')).map((e) => `${e.reason}: ${e.message}`);
    expect(authed).toContain(`Pulling: Pulling image "${image}"`);
    expect(authed.some((e) => e.startsWith(`Pulled: Successfully pulled image "${image}" in `))).toBe(true);
    expect(authed.some((e) => e.startsWith('Failed:'))).toBe(false);
    const served = locked.requests.slice(before).filter((r) => r.path.includes('/blobs/') && r.method === 'GET' && r.status === 200);
    expect(served.length).toBeGreaterThan(0);
    expect(served.every((r) => r.authorized)).toBe(true);
  });

  it('never pulls with Never (ErrImageNeverPull) nor with IfNotPresent when the image is there', async () => {
    const absent = `${open.host}/wh-pull/absent:1`;
    const before = open.requests.length;
    await env.createPod('never', { containers: [{ name: 'c', image: absent, imagePullPolicy: 'Never', command: ['sleep', '3600'] }] });
    const n = await env.waitPod('never', waitingReason('ErrImageNeverPull'), 'ErrImageNeverPull');
    expect(n.status.containerStatuses[0].state.waiting.message).toBe(`Container image "${absent}" is not present with pull policy of Never`);
    const neverEvents = (await env.events('never')).map((e) => `${e.reason}: ${e.message}`);
    expect(neverEvents).toContain(`ErrImageNeverPull: Container image "${absent}" is not present with pull policy of Never`);
    expect(neverEvents.some((e) => e.startsWith('Pulling:'))).toBe(false);

    const image = `${open.host}/wh-pull/app:1`;
    if (!(await env.runtime.imageStatus(image)).present) await env.runtime.pullImage(image);
    const mid = open.requests.length;
    await env.createPod('present', { containers: [{ name: 'c', image, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }] });
    await env.waitPod('present', isRunning(), 'Running', 60_000);
    const events = (await env.events('present')).map((e) => `${e.reason}: ${e.message}`);
    expect(events).toContain(`Pulled: Container image "${image}" already present on machine`);
    expect(events.some((e) => e.startsWith('Pulling:'))).toBe(false);
    expect(env.agent.pullProgress('default', 'present')).toEqual([]);
    // The registry heard nothing from either pod.
    expect(open.requests.slice(mid)).toEqual([]);
    expect(open.requests.slice(before).some((r) => r.path.includes('/wh-pull/absent/'))).toBe(false);
  });
});
