import { describe, expect, it } from 'vitest';
import { FakeRuntime } from '../../../core/runtime/fake-runtime.ts';
import { LABEL, containerSpecHash, type ContainerConfig, type PodSandboxConfig, type RuntimeEvent } from '../../../core/runtime/runtime.ts';

const pod = (over: Partial<PodSandboxConfig> = {}): PodSandboxConfig => ({
  cluster: 'c1',
  node: 'n1',
  namespace: 'default',
  podName: 'web',
  podUid: 'uid-1',
  attempt: 0,
  hostname: 'web',
  network: 'c1-net',
  portMappings: [],
  labels: { app: 'web' },
  annotations: {},
  ...over,
});
const ctr = (over: Partial<ContainerConfig> = {}): ContainerConfig => ({
  name: 'main',
  attempt: 0,
  image: 'nginx:1.25',
  env: [],
  mounts: [],
  resources: {},
  securityContext: {},
  labels: {},
  annotations: {},
  ...over,
});

describe('FakeRuntime', () => {
  it('runs the pod lifecycle with Docker-like states, reasons and events', async () => {
    const rt = new FakeRuntime({ images: ['nginx:1.25'] });
    const events: RuntimeEvent[] = [];
    rt.events((e) => events.push(e), { cluster: 'c1' });
    const sb = await rt.runPodSandbox(pod());
    expect(await rt.podSandboxStatus(sb)).toMatchObject({ state: 'ready', podName: 'web', labels: { app: 'web' } });
    expect((await rt.podSandboxStatus(sb)).ip).toMatch(/^10\.88\./);
    const cfg = ctr();
    const id = await rt.createContainer(sb, cfg);
    await rt.startContainer(id);
    const st = await rt.containerStatus(id);
    expect(st).toMatchObject({ state: 'running', sandboxId: sb, name: 'main', specHash: containerSpecHash(cfg), cluster: 'c1', node: 'n1' });
    expect(st.imageRef).toMatch(/^sha256:/);

    rt.exitContainer(id, 2);
    expect(await rt.containerStatus(id)).toMatchObject({ state: 'exited', exitCode: 2, reason: 'Error' });
    await rt.flush();
    expect(events.filter((e) => e.id === id).map((e) => e.action)).toEqual(['create', 'start', 'die']);
    expect(events.find((e) => e.action === 'die')).toMatchObject({ exitCode: 2, labels: { [LABEL.containerName]: 'main', [LABEL.podUid]: 'uid-1' } });

    await rt.stopPodSandbox(sb);
    await rt.removePodSandbox(sb);
    expect(await rt.listContainers({ cluster: 'c1' })).toEqual([]);
    await rt.removePodSandbox(sb); // idempotent
  });

  it('OOM kills, start failures and stop', async () => {
    const rt = new FakeRuntime({ images: ['nginx:1.25', 'bad:1'] });
    const sb = await rt.runPodSandbox(pod());
    const a = await rt.createContainer(sb, ctr({ name: 'a' }));
    await rt.startContainer(a);
    rt.oomKill(a);
    expect(await rt.containerStatus(a)).toMatchObject({ state: 'exited', exitCode: 137, reason: 'OOMKilled' });

    rt.failStart('bad:1', 'exec: "x": executable file not found in $PATH');
    const b = await rt.createContainer(sb, ctr({ name: 'b', image: 'bad:1' }));
    await expect(rt.startContainer(b)).rejects.toMatchObject({ name: 'ContainerStartError' });
    expect(await rt.containerStatus(b)).toMatchObject({ state: 'exited', reason: 'ContainerCannotRun', message: expect.stringContaining('not found') });

    const c = await rt.createContainer(sb, ctr({ name: 'c' }));
    await rt.startContainer(c);
    await rt.stopContainer(c, 30);
    expect(await rt.containerStatus(c)).toMatchObject({ state: 'exited', exitCode: 143, reason: 'Error' });
    await expect(rt.createContainer(sb, ctr({ name: 'c' }))).rejects.toMatchObject({ name: 'RuntimeConflictError' });
    await expect(rt.createContainer(sb, ctr({ name: 'd', image: 'missing:1' }))).rejects.toMatchObject({ name: 'RuntimeNotFoundError', kind: 'image' });
  });

  it('pulls (with scripted failures) and reports images by any spelling of the ref', async () => {
    const rt = new FakeRuntime();
    rt.failPull('private/app:1', 'pull access denied for private/app', 'NotFound');
    await expect(rt.pullImage('private/app:1')).rejects.toMatchObject({ name: 'PullError', kind: 'NotFound', engineMessage: 'pull access denied for private/app' });
    const progress: string[] = [];
    const id = await rt.pullImage('busybox', undefined, (p) => progress.push(p.status));
    expect(progress.at(-1)).toBe('Pull complete');
    expect((await rt.imageStatus('docker.io/library/busybox:latest')).id).toBe(id);
    expect((await rt.imageStatus('busybox:latest')).repoTags).toEqual(['busybox:latest']);
  });

  it('goes unavailable and back, telling listeners', async () => {
    const rt = new FakeRuntime();
    const seen: boolean[] = [];
    rt.onAvailabilityChange((up) => seen.push(up));
    rt.setAvailable(false);
    await expect(rt.listPodSandboxes()).rejects.toMatchObject({ name: 'RuntimeUnavailableError' });
    rt.setAvailable(true);
    await rt.ping();
    expect(seen).toEqual([false, true]);
  });

  it('serves logs (tail, follow) and exec through scripted handlers', async () => {
    const rt = new FakeRuntime({ images: ['nginx:1.25'] });
    const sb = await rt.runPodSandbox(pod());
    const id = await rt.createContainer(sb, ctr());
    await rt.startContainer(id);
    rt.appendLog(id, 'stdout', 'one');
    rt.appendLog(id, 'stderr', 'two');
    const lines: string[] = [];
    for await (const l of rt.logs(id, { tailLines: 1 })) lines.push(l.line);
    expect(lines).toEqual(['two']);

    const followed: string[] = [];
    const done = (async () => {
      for await (const l of rt.logs(id, { follow: true })) followed.push(l.line);
    })();
    await rt.flush();
    rt.appendLog(id, 'stdout', 'three');
    rt.exitContainer(id, 0);
    await done;
    expect(followed).toEqual(['one', 'two', 'three']);

    const id2 = await rt.createContainer(sb, ctr({ name: 'probe' }));
    await rt.startContainer(id2);
    rt.setExecHandler((_, cmd, stdin) => ({ exitCode: cmd[0] === 'fail' ? 1 : 0, stdout: `ran ${cmd.join(' ')}${stdin ? ` <${stdin}` : ''}` }));
    expect(await rt.execSync(id2, ['check'], 1000)).toEqual({ exitCode: 0, stdout: 'ran check', stderr: '', truncated: false });
    const s = await rt.exec(id2, { cmd: ['cat'], stdin: true });
    let out = '';
    s.stdout.on('data', (b: Buffer) => (out += b));
    s.stdin!.end('hi');
    expect(await s.exitCode()).toBe(0);
    expect(out).toBe('ran cat <hi');
    rt.setExecHandler(() => ({ exitCode: 0, delayMs: 200 }));
    await expect(rt.execSync(id2, ['slow'], 20)).rejects.toMatchObject({ name: 'ExecTimeoutError' });
  });

  it('filters lists like the Docker driver', async () => {
    const rt = new FakeRuntime({ images: ['nginx:1.25'] });
    const a = await rt.runPodSandbox(pod());
    const b = await rt.runPodSandbox(pod({ node: 'n2', podUid: 'uid-2', labels: { app: 'db' } }));
    expect((await rt.listPodSandboxes({ cluster: 'c1', node: 'n2' })).map((s) => s.id)).toEqual([b]);
    expect((await rt.listPodSandboxes({ labels: { app: 'web' } })).map((s) => s.id)).toEqual([a]);
    await rt.ensureVolume('pvc-1', { [LABEL.cluster]: 'c1' });
    expect((await rt.listVolumes({ cluster: 'c1' })).map((v) => v.name)).toEqual(['pvc-1']);
    expect(await rt.listVolumes({ cluster: 'other' })).toEqual([]);
  });
});
