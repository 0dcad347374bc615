import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DockerRuntime } from '../../../core/runtime/docker/docker-runtime.ts';
import { LABEL, PullError, type PullProgress } from '../../../core/runtime/runtime.ts';
import { BUSYBOX, cleanupCluster, docker, newRuntime, requireBusybox, testCluster } from './helpers.ts';

const cluster = testCluster('images');
let rt: DockerRuntime;
const extraTag = { repo: `wheelhouse-test/retag-${cluster}`, tag: 'v1' };

beforeAll(async () => {
  await requireBusybox();
  rt = newRuntime();
});

afterAll(async () => {
  await rt?.close();
  await docker.getImage(`${extraTag.repo}:${extraTag.tag}`).remove().catch(() => {});
  await cleanupCluster(cluster);
});

describe('images', () => {
  it('a pull that cannot succeed fails promptly with the engine message', async () => {
    const progress: PullProgress[] = [];
    const t0 = Date.now();
    const err = await rt.pullImage(`wheelhouse-test/does-not-exist-${cluster}:1`, undefined, (p) => progress.push(p)).catch((e: unknown) => e);
    expect(Date.now() - t0).toBeLessThan(5_000); // offline: a failed DNS lookup, well under a second
    expect(err).toBeInstanceOf(PullError);
    const pe = err as PullError;
    expect(pe.image).toBe(`wheelhouse-test/does-not-exist-${cluster}:1`);
    // Offline: "… lookup registry-1.docker.io …: no such host"; online: "pull access denied …".
    expect(pe.engineMessage).toMatch(/no such host|pull access denied|repository does not exist|dial tcp|timeout|connection refused/i);
    expect(pe.message).toBe(`pulling image "${pe.image}" failed: ${pe.engineMessage}`);
    expect(['Network', 'NotFound', 'Unauthorized']).toContain(pe.kind);
  });

  it('rejects a malformed reference without asking the engine', async () => {
    await expect(rt.pullImage('Upper/Case:1')).rejects.toMatchObject({ name: 'PullError', kind: 'InvalidReference' });
  });

  it('reports status and lists images; removes a tag', async () => {
    const st = await rt.imageStatus(BUSYBOX);
    expect(st.present).toBe(true);
    expect(st.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(st.size).toBeGreaterThan(100_000);
    expect(st.repoTags).toContain(BUSYBOX);
    expect(await rt.imageStatus('wheelhouse-test/not-here:1')).toEqual({ present: false, repoTags: [], repoDigests: [] });

    await docker.getImage(BUSYBOX).tag(extraTag);
    const ref = `${extraTag.repo}:${extraTag.tag}`;
    const list = await rt.listImages();
    const mine = list.find((i) => i.repoTags.includes(ref));
    expect(mine?.id).toBe(st.id);
    await rt.removeImage(ref);
    await rt.removeImage(ref); // idempotent
    expect((await rt.imageStatus(ref)).present).toBe(false);
    expect((await rt.imageStatus(BUSYBOX)).present).toBe(true); // only the tag went
  });
});

describe('networks', () => {
  it('ensureNetwork creates a labelled bridge once; concurrent callers get the same network', async () => {
    const name = `${cluster}-net`;
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => rt.ensureNetwork(name, { [LABEL.cluster]: cluster })));
    expect(a!.id).toBe(b!.id);
    expect(b!.id).toBe(c!.id);
    expect(a).toMatchObject({ name, driver: 'bridge', labels: { [LABEL.cluster]: cluster, [LABEL.type]: 'network' } });
    expect(a!.subnet).toMatch(/^\d+\.\d+\.\d+\.\d+\/\d+$/);
    expect((await rt.ensureNetwork(name, {})).id).toBe(a!.id);
    expect((await docker.listNetworks({ filters: { name: [name] } })).filter((n) => n.Name === name)).toHaveLength(1);
    expect((await rt.listNetworks({ cluster })).map((n) => n.name)).toEqual([name]);
    await rt.removeNetwork(name);
    await rt.removeNetwork(name); // idempotent
    expect(await rt.listNetworks({ cluster })).toEqual([]);
  });
});
