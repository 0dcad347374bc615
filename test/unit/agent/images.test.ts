import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ImageManager } from '../../../core/agent/images.ts';
import { PullError, type RegistryAuth } from '../../../core/runtime/runtime.ts';
import { IMAGE, harness, running, type Harness } from './harness.ts';

describe('node agent: images (fake runtime)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
    await h.agent.start();
  });
  afterEach(() => h.close());

  it('ends in ImagePullBackOff with the engine message, retrying with backoff', async () => {
    const msg = 'pull access denied for wheelhouse-test/does-not-exist, repository does not exist or may require \'docker login\'';
    h.runtime.failPull('wheelhouse-test/does-not-exist:1', msg);
    await h.createPod('missing', { containers: [{ name: 'c', image: 'wheelhouse-test/does-not-exist:1' }] });
    let p = await h.waitPod('missing', (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ErrImagePull');
    expect(p.status.containerStatuses[0].state.waiting.message).toBe(msg);
    expect(p.status.phase).toBe('Pending');
    p = await h.waitPod('missing', (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff');
    expect(p.status.containerStatuses[0].state.waiting.message).toBe(`Back-off pulling image "wheelhouse-test/does-not-exist:1": ErrImagePull: ${msg}`);
    // The backoff ends by itself (200 ms) and the pull is tried again.
    const pulls = () => h.runtime.calls.filter((c) => c.method === 'pullImage').length;
    const before = pulls();
    const deadline = Date.now() + 2000;
    while (pulls() === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(pulls()).toBeGreaterThan(before);
    const events = (await h.events('missing')).map((e) => `${e.type} ${e.reason}: ${e.message}`);
    expect(events).toContain('Normal Pulling: Pulling image "wheelhouse-test/does-not-exist:1"');
    expect(events).toContain(`Warning Failed: Failed to pull image "wheelhouse-test/does-not-exist:1": ${msg}`);
    expect(events).toContain('Warning Failed: Error: ErrImagePull');
    expect(events).toContain('Normal BackOff: Back-off pulling image "wheelhouse-test/does-not-exist:1"');
    expect(events).toContain('Warning Failed: Error: ImagePullBackOff');
  });

  it('pulls with Always (progress reported), uses the local image with IfNotPresent, refuses with Never', async () => {
    const progress: any[] = [];
    h.agent.onPullProgress((e) => progress.push(e));
    await h.createPod('always', { containers: [{ name: 'c', image: 'example.com/app:2', imagePullPolicy: 'Always' }] });
    await h.waitPod('always', running());
    expect(progress.some((e) => e.pod === 'always' && e.layer === 'fake-layer' && e.total === 5_000_000)).toBe(true);
    expect(h.agent.pullProgress('default', 'always')[0]).toMatchObject({ image: 'example.com/app:2', done: true, totalBytes: 5_000_000, currentBytes: 5_000_000 });
    const pulled = (await h.events('always')).find((e) => e.reason === 'Pulled');
    expect(pulled.message).toMatch(/^Successfully pulled image "example.com\/app:2" in \S+ \(\S+ including waiting\)\. Image size: 5000000 bytes\.$/);

    await h.createPod('never', { containers: [{ name: 'c', image: 'example.com/nothere:1', imagePullPolicy: 'Never' }] });
    const p = await h.waitPod('never', (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ErrImageNeverPull');
    expect(p.status.containerStatuses[0].state.waiting.message).toBe('Container image "example.com/nothere:1" is not present with pull policy of Never');
    expect(h.runtime.calls.some((c) => c.method === 'pullImage' && c.args[0] === 'example.com/nothere:1')).toBe(false);
  });

  it('passes imagePullSecrets credentials to the pull', async () => {
    const cfg = { auths: { 'registry.example.com': { username: 'u', password: 'p' } } };
    await h.client.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'regcred', namespace: 'default' },
      type: 'kubernetes.io/dockerconfigjson',
      data: { '.dockerconfigjson': Buffer.from(JSON.stringify(cfg)).toString('base64') },
    });
    await h.createPod('private', { imagePullSecrets: [{ name: 'regcred' }], containers: [{ name: 'c', image: 'registry.example.com/team/app:1' }] });
    await h.waitPod('private', running());
    const pull = h.runtime.calls.find((c) => c.method === 'pullImage' && c.args[0] === 'registry.example.com/team/app:1');
    expect(pull?.args[1]).toMatchObject({ username: 'u', serverAddress: 'registry.example.com' });
  });

  it('shows the image as it was pulled in the node status', async () => {
    await h.createPod('img', { containers: [{ name: 'c', image: IMAGE }] });
    await h.waitPod('img', running());
    const node: any = await h.client.get({ apiVersion: 'v1', kind: 'Node', name: 'node-1' });
    expect(node.status.images.some((i: any) => i.names.includes(IMAGE))).toBe(true);
  });
});

describe('ImageManager: pulls shared between pods', () => {
  const image = 'registry.example.com/team/app:1';
  const cfg = Buffer.from(JSON.stringify({ auths: { 'registry.example.com': { username: 'u', password: 'p' } } })).toString('base64');
  const pod = (uid: string, secret?: string): any => ({
    metadata: { uid, name: uid, namespace: 'default' },
    spec: { ...(secret ? { imagePullSecrets: [{ name: secret }] } : {}), containers: [{ name: 'c', image }] },
  });

  function manager() {
    const pulls: Array<{ auth: RegistryAuth | undefined; release: () => void }> = [];
    const ctx = {
      recorder: { event() {} },
      sources: { secret: (_ns: string, name: string) => (name === 'regcred' ? { data: { '.dockerconfigjson': cfg } } : undefined) },
      runtime: {
        imageStatus: async () => ({ present: false, repoTags: [], repoDigests: [] }),
        pullImage: (ref: string, auth?: RegistryAuth) =>
          new Promise<string>((resolve, reject) => {
            pulls.push({ auth, release: () => (auth ? resolve('sha256:abc') : reject(new PullError(ref, 'no basic auth credentials', 'Unauthorized'))) });
          }),
      },
    };
    return { images: new ImageManager(ctx as any), pulls };
  }
  const until = async (cond: () => boolean) => {
    for (let i = 0; i < 100 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  };

  it('does not hand a pod with imagePullSecrets the failure of an anonymous pull of the same image', async () => {
    const { images, pulls } = manager();
    const anon = images.ensure(pod('anon'), { name: 'c', image }, 'spec.containers{c}');
    await until(() => pulls.length === 1);
    const authed = images.ensure(pod('authed', 'regcred'), { name: 'c', image }, 'spec.containers{c}');
    await until(() => pulls.length === 2);
    expect(pulls.map((p) => p.auth?.username)).toEqual([undefined, 'u']);
    for (const p of pulls) p.release();
    expect(await anon).toMatchObject({ ok: false, reason: 'ErrImagePull', message: 'no basic auth credentials' });
    expect(await authed).toEqual({ ok: true, imageId: 'sha256:abc' });
  });

  it('shares one pull between pods with the same credentials', async () => {
    const { images, pulls } = manager();
    const a = images.ensure(pod('a', 'regcred'), { name: 'c', image }, 'spec.containers{c}');
    await until(() => pulls.length === 1);
    const b = images.ensure(pod('b', 'regcred'), { name: 'c', image }, 'spec.containers{c}');
    await new Promise((r) => setTimeout(r, 20));
    expect(pulls).toHaveLength(1);
    pulls[0]!.release();
    expect(await a).toEqual({ ok: true, imageId: 'sha256:abc' });
    expect(await b).toEqual({ ok: true, imageId: 'sha256:abc' });
  });
});
