import { mkdtempSync, readFileSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DockerRuntime } from '../../../core/runtime/docker/docker-runtime.ts';
import { tar } from '../../../core/runtime/docker/tar.ts';
import { ContainerStartError, LABEL, containerSpecHash, type ContainerConfig, type ContainerStatus } from '../../../core/runtime/runtime.ts';
import { BUSYBOX, cleanupCluster, containerConfig, docker, newRuntime, requireBusybox, sandboxConfig, testCluster, waitFor } from './helpers.ts';

const cluster = testCluster('containers');
const network = `${cluster}-net`;
const epImage = `wheelhouse-test/entrypoint:${cluster}`;
let rt: DockerRuntime;
let sandbox: string;
const hostDir = mkdtempSync(join(tmpdir(), 'wh-rt-'));

beforeAll(async () => {
  await requireBusybox();
  rt = newRuntime();
  await rt.ensureNetwork(network, { [LABEL.cluster]: cluster });
  sandbox = await rt.runPodSandbox(sandboxConfig(cluster, network));
  // An image with both ENTRYPOINT and CMD, to check Kubernetes' command/args semantics.
  const ctx = tar([
    { name: 'Dockerfile', data: `FROM ${BUSYBOX}\nLABEL ${LABEL.cluster}=${cluster}\nENTRYPOINT ["echo", "image-entrypoint"]\nCMD ["image-cmd"]\n` },
  ]);
  const stream = await docker.buildImage(Readable.from([ctx]), { t: epImage, rm: true, forcerm: true });
  await new Promise((resolve, reject) => docker.modem.followProgress(stream, (err: unknown, out: unknown) => (err ? reject(err) : resolve(out))));
});

afterAll(async () => {
  await rt?.close();
  await cleanupCluster(cluster);
  await docker.getImage(epImage).remove({ force: true }).catch(() => {});
  rmSync(hostDir, { recursive: true, force: true });
});

let attempt = 0;
/** Creates and starts a container in the shared sandbox. */
async function run(cfg: Partial<ContainerConfig>): Promise<string> {
  const id = await rt.createContainer(sandbox, containerConfig({ name: `c${++attempt}`, ...cfg }));
  await rt.startContainer(id);
  return id;
}

async function exited(id: string, timeoutMs = 15_000): Promise<ContainerStatus> {
  return waitFor(`container ${id.slice(0, 12)} to exit`, async () => {
    const s = await rt.containerStatus(id);
    return s.state === 'exited' ? s : undefined;
  }, timeoutMs);
}

async function output(id: string): Promise<string[]> {
  const lines: string[] = [];
  for await (const l of rt.logs(id)) lines.push(l.line);
  return lines;
}

describe('containers', () => {
  it('two containers of one pod talk over localhost', async () => {
    await run({ name: 'web', command: ['sh', '-c', 'mkdir -p /tmp/w && echo pod-local > /tmp/w/index.html && exec httpd -f -p 8080 -h /tmp/w'] });
    const client = await run({ name: 'client', command: ['sleep', '60'] });
    const res = await waitFor('httpd on 127.0.0.1:8080', async () => {
      const r = await rt.execSync(client, ['wget', '-qO-', 'http://127.0.0.1:8080/'], 5_000);
      return r.exitCode === 0 ? r : undefined;
    });
    expect(res.stdout).toBe('pod-local\n');
  });

  it('applies command (→ ENTRYPOINT) and args (→ CMD) as Kubernetes does', async () => {
    const cases: Array<[Partial<ContainerConfig>, string]> = [
      [{}, 'image-entrypoint image-cmd'],
      [{ args: ['my-args'] }, 'image-entrypoint my-args'],
      [{ command: ['echo', 'my-command'] }, 'my-command'], // the image's CMD is dropped
      [{ command: ['echo', 'my-command'], args: ['my-args'] }, 'my-command my-args'],
    ];
    const ids = await Promise.all(cases.map(([cfg]) => run({ image: epImage, ...cfg })));
    for (const [i, id] of ids.entries()) {
      const st = await exited(id);
      expect(st.reason).toBe('Completed');
      expect(await output(id)).toEqual([cases[i]![1]]);
    }
  });

  it('applies env and workingDir, runAsUser/runAsGroup and a read-only root filesystem', async () => {
    const id = await run({
      command: ['sh', '-c', 'echo "$GREETING $(pwd) $(id -u):$(id -g)"; touch /rootfs-file 2>/dev/null && echo writable || echo read-only'],
      env: [{ name: 'GREETING', value: 'hello world' }],
      workingDir: '/tmp',
      securityContext: { runAsUser: 65534, runAsGroup: 65534, readOnlyRootFilesystem: true },
    });
    await exited(id);
    expect(await output(id)).toEqual(['hello world /tmp 65534:65534', 'read-only']);
  });

  it('mounts host paths, named volumes (which outlive the container) and tmpfs', async () => {
    chmodSync(hostDir, 0o777);
    const volume = `${cluster}-data`;
    const v = await rt.ensureVolume(volume, { [LABEL.cluster]: cluster });
    expect(v.name).toBe(volume);
    const writer = await run({
      command: ['sh', '-c', 'echo from-container > /host/out.txt && echo persisted > /data/file && echo tmp > /scratch/x && grep -q " /scratch tmpfs" /proc/mounts && echo tmpfs-ok'],
      mounts: [
        { hostPath: hostDir, containerPath: '/host' },
        { volumeName: volume, containerPath: '/data' },
        { tmpfs: { sizeBytes: 1 << 20 }, containerPath: '/scratch' },
      ],
    });
    expect((await exited(writer)).exitCode).toBe(0);
    expect(await output(writer)).toEqual(['tmpfs-ok']);
    expect(readFileSync(join(hostDir, 'out.txt'), 'utf8')).toBe('from-container\n');
    await rt.removeContainer(writer);
    const reader = await run({ command: ['cat', '/data/file'], mounts: [{ volumeName: volume, containerPath: '/data', readOnly: true }] });
    await exited(reader);
    expect(await output(reader)).toEqual(['persisted']);
    expect((await rt.listVolumes({ cluster })).map((x) => x.name)).toContain(volume);
    await expect(rt.removeVolume(volume)).rejects.toMatchObject({ name: 'RuntimeConflictError' }); // still used by `reader`
    await rt.removeContainer(reader);
    await rt.removeVolume(volume);
    await rt.removeVolume(volume); // idempotent
    expect((await rt.listVolumes({ cluster })).map((x) => x.name)).not.toContain(volume);
  });

  it('a memory hog over its limit is OOMKilled', async () => {
    const id = await run({
      command: ['sh', '-c', 'x=0123456789abcdef; while true; do x="$x$x"; done'],
      resources: { memoryLimitBytes: 32 * 1024 * 1024 },
    });
    const st = await exited(id, 30_000);
    expect(st).toMatchObject({ state: 'exited', reason: 'OOMKilled', exitCode: 137 });
  });

  it('stop sends SIGTERM; a process that ignores it is SIGKILLed after the timeout', async () => {
    const polite = await run({
      command: ['sh', '-c', 'trap "echo got-SIGTERM; exit 0" TERM; echo ready; while true; do sleep 0.1; done'],
    });
    await waitFor('polite to be ready', async () => (await output(polite)).includes('ready'));
    let t0 = Date.now();
    await rt.stopContainer(polite, 10);
    expect(Date.now() - t0).toBeLessThan(3_000); // it exited on SIGTERM, long before 10 s
    expect(await rt.containerStatus(polite)).toMatchObject({ state: 'exited', exitCode: 0, reason: 'Completed' });
    expect(await output(polite)).toEqual(['ready', 'got-SIGTERM']);

    const stubborn = await run({ command: ['sh', '-c', 'trap "echo ignoring-SIGTERM" TERM; echo ready; while true; do sleep 0.1; done'] });
    await waitFor('stubborn to be ready', async () => (await output(stubborn)).includes('ready'));
    t0 = Date.now();
    await rt.stopContainer(stubborn, 2);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(1_900);
    expect(took).toBeLessThan(5_000);
    expect(await rt.containerStatus(stubborn)).toMatchObject({ state: 'exited', exitCode: 137, reason: 'Error' });
    expect(await output(stubborn)).toContain('ignoring-SIGTERM');
    await rt.stopContainer(stubborn, 2); // stopped already: no-op
  });

  it('reports status: running, then Error with the exit code; a command that cannot run is ContainerCannotRun', async () => {
    const cfg = containerConfig({ name: 'status', command: ['sh', '-c', 'sleep 0.3; exit 3'], labels: { role: 'db' }, annotations: { 'a.b/c': 'd' } });
    const id = await rt.createContainer(sandbox, cfg);
    const created = await rt.containerStatus(id);
    expect(created).toMatchObject({ state: 'created', name: 'status', attempt: 0, restartCount: 0, sandboxId: sandbox, image: BUSYBOX, labels: { role: 'db' }, annotations: { 'a.b/c': 'd' } });
    expect(created.specHash).toBe(containerSpecHash(cfg));
    expect(created.imageRef).toBe((await docker.getImage(BUSYBOX).inspect()).Id);
    await rt.startContainer(id);
    const running = await rt.containerStatus(id);
    expect(running.state).toBe('running');
    expect(running.startedAt).toBeInstanceOf(Date);
    const done = await exited(id);
    expect(done).toMatchObject({ state: 'exited', exitCode: 3, reason: 'Error' });
    expect(done.finishedAt!.getTime()).toBeGreaterThanOrEqual(done.startedAt!.getTime());

    const bad = await rt.createContainer(sandbox, containerConfig({ name: 'bad', command: ['/no/such/binary'] }));
    const err = await rt.startContainer(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContainerStartError);
    expect((err as Error).message).toMatch(/no such file or directory|not found/);
    const st = await rt.containerStatus(bad);
    expect(st).toMatchObject({ state: 'exited', reason: 'ContainerCannotRun' });
    expect(st.message).toMatch(/no such file or directory|not found/);
    expect(st.exitCode).toBeGreaterThan(0);
  });

  it('names the image when it is missing, and refuses a second container with the same name and attempt', async () => {
    await expect(rt.createContainer(sandbox, containerConfig({ name: 'ghost', image: 'wheelhouse-test/not-here:1' }))).rejects.toMatchObject({
      name: 'RuntimeNotFoundError',
      kind: 'image',
    });
    await rt.createContainer(sandbox, containerConfig({ name: 'twin' }));
    await expect(rt.createContainer(sandbox, containerConfig({ name: 'twin' }))).rejects.toMatchObject({ name: 'RuntimeConflictError' });
    const second = await rt.createContainer(sandbox, containerConfig({ name: 'twin', attempt: 1 }));
    expect((await rt.containerStatus(second)).restartCount).toBe(1);
    const twins = await rt.listContainers({ sandboxId: sandbox, name: 'twin' });
    expect(twins.map((t) => t.attempt).sort()).toEqual([0, 1]);
    await rt.removeContainer(second);
    await rt.removeContainer(second); // idempotent
  });
});
