import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerRuntime } from '../../../core/runtime/docker/docker-runtime.ts';
import { LABEL, RuntimeUnavailableError } from '../../../core/runtime/runtime.ts';
import { cleanupCluster, containerConfig, docker, freePort, newRuntime, requireBusybox, sandboxConfig, testCluster, waitFor } from './helpers.ts';

const cluster = testCluster('sandbox');
const network = `${cluster}-net`;
const pauseTag = `wheelhouse/pause:test-${randomBytes(3).toString('hex')}`;
let rt: DockerRuntime;

beforeAll(async () => {
  await requireBusybox();
  rt = newRuntime();
  await rt.ensureNetwork(network, { [LABEL.cluster]: cluster });
});

afterAll(async () => {
  await rt?.close();
  await cleanupCluster(cluster);
  await docker.getImage(pauseTag).remove({ force: true }).catch(() => {});
});

describe('engine connection', () => {
  it('reports the engine version and answers ping', async () => {
    await rt.ping();
    const v = await rt.version();
    expect(v.runtimeName).toBe('docker');
    expect(v.runtimeVersion).toMatch(/^\d+\.\d+/);
    expect(v.apiVersion).toMatch(/^1\.\d+$/);
    expect(['amd64', 'arm64']).toContain(v.arch);
    expect(v.endpoint).toBe('unix:///var/run/docker.sock');
  });

  it('names the endpoint and the cause when no engine answers', async () => {
    const off = new DockerRuntime({ host: 'unix:///tmp/wheelhouse-no-such-docker.sock' });
    const started = Date.now();
    const err = await off.ping().catch((e: unknown) => e);
    await off.close();
    expect(err).toBeInstanceOf(RuntimeUnavailableError);
    expect((err as Error).message).toMatch(
      /^cannot reach the Docker engine at unix:\/\/\/tmp\/wheelhouse-no-such-docker\.sock: connect ENOENT .*; is Docker running\?$/,
    );
    expect(Date.now() - started).toBeLessThan(2_000);
    // Every call, not only ping, says the same.
    const off2 = new DockerRuntime({ env: { DOCKER_HOST: 'tcp://127.0.0.1:1' } });
    const err2 = await off2.listContainers({ cluster }).catch((e: unknown) => e);
    await off2.close();
    expect(err2).toBeInstanceOf(RuntimeUnavailableError);
    expect((err2 as Error).message).toContain('cannot reach the Docker engine at tcp://127.0.0.1:1: connect ECONNREFUSED');
  });
});

describe('pod sandbox', () => {
  it('builds the pause image when it is missing, and the sandbox runs it', async () => {
    const own = new DockerRuntime({ pauseImage: pauseTag });
    try {
      await docker.getImage(pauseTag).remove({ force: true }).catch(() => {});
      const id = await own.runPodSandbox(sandboxConfig(cluster, network));
      const img = await docker.getImage(pauseTag).inspect();
      expect(img.Architecture).toBe((await own.version()).arch);
      expect(img.Size).toBeLessThan(4096); // FROM scratch + a few hundred bytes
      expect(img.Config.Entrypoint).toEqual(['/pause']);
      const info = await docker.getContainer(id).inspect();
      expect(info.State.Running).toBe(true);
      expect(info.Image).toBe(img.Id);
      // The pause process stops at once on SIGTERM (no 2 s grace spent) and exits 0.
      const t0 = Date.now();
      await own.stopPodSandbox(id);
      expect(Date.now() - t0).toBeLessThan(1_500);
      expect((await docker.getContainer(id).inspect()).State.ExitCode).toBe(0);
      await own.removePodSandbox(id);
    } finally {
      await own.close();
    }
  });

  it('gets a pod IP on the network, reports status, and is labelled for adoption', async () => {
    const cfg = sandboxConfig(cluster, network, { labels: { app: 'web', tier: 'front' }, annotations: { 'example.com/note': 'hi' } });
    const id = await rt.runPodSandbox(cfg);
    const st = await rt.podSandboxStatus(id);
    expect(st).toMatchObject({
      id,
      cluster,
      node: 'node-1',
      namespace: 'default',
      podName: cfg.podName,
      podUid: cfg.podUid,
      attempt: 0,
      state: 'ready',
      network,
      hostname: cfg.hostname,
      labels: { app: 'web', tier: 'front' },
      annotations: { 'example.com/note': 'hi' },
    });
    expect(st.ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(Date.now() - st.createdAt.getTime()).toBeLessThan(60_000);
    const net = await rt.ensureNetwork(network, {});
    expect(net.subnet).toBeDefined();

    const raw = (await docker.getContainer(id).inspect()).Config.Labels;
    expect(raw).toMatchObject({
      [LABEL.cluster]: cluster,
      [LABEL.node]: 'node-1',
      [LABEL.namespace]: 'default',
      [LABEL.podName]: cfg.podName,
      [LABEL.podUid]: cfg.podUid,
      [LABEL.type]: 'sandbox',
      [LABEL.attempt]: '0',
    });

    await rt.stopPodSandbox(id);
    const stopped = await rt.podSandboxStatus(id);
    expect(stopped.state).toBe('notready');
    expect(stopped.ip).toBeUndefined();
    await rt.stopPodSandbox(id); // idempotent
    await rt.removePodSandbox(id);
    await rt.removePodSandbox(id); // idempotent
    await expect(rt.podSandboxStatus(id)).rejects.toMatchObject({ name: 'RuntimeNotFoundError' });
  });

  it('lists only what matches the filter (this test cluster, node, labels, state)', async () => {
    const a = await rt.runPodSandbox(sandboxConfig(cluster, network, { labels: { app: 'a' } }));
    const b = await rt.runPodSandbox(sandboxConfig(cluster, network, { node: 'node-2', labels: { app: 'b' } }));
    const c = await rt.createContainer(a, { ...containerConfig({ command: ['sleep', '60'] }) });
    try {
      const mine = await rt.listPodSandboxes({ cluster });
      expect(mine.map((s) => s.id).sort()).toEqual([a, b].sort());
      expect((await rt.listPodSandboxes({ cluster, node: 'node-2' })).map((s) => s.id)).toEqual([b]);
      expect((await rt.listPodSandboxes({ cluster, labels: { app: 'a' } })).map((s) => s.id)).toEqual([a]);
      await rt.stopPodSandbox(b);
      expect((await rt.listPodSandboxes({ cluster, state: 'ready' })).map((s) => s.id)).toEqual([a]);
      expect((await rt.listPodSandboxes({ cluster, state: 'notready' })).map((s) => s.id)).toEqual([b]);
      // Adoption: everything of cluster+node, sandboxes and containers.
      const containers = await rt.listContainers({ cluster, node: 'node-1' });
      expect(containers.map((x) => x.id)).toEqual([c]);
      expect(containers[0]).toMatchObject({ sandboxId: a, name: 'main', attempt: 0, state: 'created' });
      expect(await rt.listContainers({ cluster: `${cluster}-other` })).toEqual([]);
    } finally {
      await rt.removePodSandbox(a);
      await rt.removePodSandbox(b);
    }
    // Removing a sandbox removes its containers.
    await expect(rt.containerStatus(c)).rejects.toMatchObject({ name: 'RuntimeNotFoundError' });
  });

  it('publishes host ports on the sandbox: reachable from this process on 127.0.0.1', async () => {
    const port = await freePort();
    const sb = await rt.runPodSandbox(
      sandboxConfig(cluster, network, { portMappings: [{ containerPort: 8080, hostPort: port, hostIP: '127.0.0.1', protocol: 'TCP' }] }),
    );
    try {
      const c = await rt.createContainer(
        sb,
        containerConfig({ command: ['sh', '-c', 'mkdir -p /tmp/www && echo hello-from-pod > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www'] }),
      );
      await rt.startContainer(c);
      const body = await waitFor('the published port to answer', async () => {
        const res = await fetch(`http://127.0.0.1:${port}/`);
        return res.ok ? res.text() : undefined;
      });
      expect(body).toBe('hello-from-pod\n');
    } finally {
      await rt.removePodSandbox(sb);
    }
  });

  it('gives containers the pod hostname and DNS settings', async () => {
    const sb = await rt.runPodSandbox(
      sandboxConfig(cluster, network, {
        hostname: 'web-0',
        dns: { servers: ['10.96.0.10'], searches: ['default.svc.cluster.local', 'svc.cluster.local'], options: ['ndots:5'] },
      }),
    );
    try {
      const c = await rt.createContainer(sb, containerConfig({ command: ['sleep', '60'] }));
      await rt.startContainer(c);
      expect((await rt.execSync(c, ['hostname'], 5_000)).stdout.trim()).toBe('web-0');
      const resolv = (await rt.execSync(c, ['cat', '/etc/resolv.conf'], 5_000)).stdout;
      expect(resolv).toMatch(/^search default\.svc\.cluster\.local svc\.cluster\.local$/m);
      expect(resolv).toMatch(/^options .*ndots:5/m);
      expect(resolv).toMatch(/^nameserver /m);
    } finally {
      await rt.removePodSandbox(sb);
    }
  });
});
