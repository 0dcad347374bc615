import { spawn } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KUBECTL, requireKubectl, startHarness, type Harness } from './helpers.ts';
import { FakePodIO } from './fake-pod-io.ts';

const run = requireKubectl();

/** kubectl ≤ 1.29 speaks SPDY for exec: the Google Cloud SDK ships kubectl.1.29 beside kubectl. */
function olderKubectl(): string | undefined {
  try {
    const dir = dirname(realpathSync(execFileSync('sh', ['-c', `command -v ${KUBECTL}`], { encoding: 'utf8' }).trim()));
    const bin = join(dir, 'kubectl.1.29');
    return existsSync(bin) ? bin : undefined;
  } catch {
    return undefined;
  }
}

describe.runIf(run)('kubectl logs, exec and port-forward (WebSocket and SPDY)', () => {
  let h: Harness;
  let echo: Server;
  beforeAll(async () => {
    echo = createServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
    h = await startHarness({ podIO: new FakePodIO(() => (echo.address() as { port: number }).port) });
    await h.api.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'box', namespace: 'default' }, spec: { containers: [{ name: 'main', image: 'busybox' }] } });
    await h.api.bind('default', 'box', 'node-1');
    await h.api.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'duo', namespace: 'default' }, spec: { containers: [{ name: 'a', image: 'busybox' }, { name: 'b', image: 'busybox' }] } });
    await h.api.bind('default', 'duo', 'node-1');
  });
  afterAll(async () => {
    await h?.close();
    echo?.close();
  });

  it('streams logs with --tail and -c', async () => {
    const r = await h.kubectl(['logs', 'box', '--tail=2']);
    expect(r.stdout).toBe('default/box/main line 4\ndefault/box/main line 5\n');
    const b = await h.kubectl(['logs', 'duo', '-c', 'b', '--tail=1']);
    expect(b.stdout).toBe('default/duo/b line 5\n');
    const bad = await h.kubectl(['logs', 'duo', '-c', 'zzz']);
    expect(bad.stderr).toContain('container zzz is not valid for pod duo');
  });

  it('runs commands and passes exit codes and stdin', async () => {
    const r = await h.kubectl(['exec', 'box', '--', 'echo', 'hello', 'world']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('hello world\n');
    const f = await h.kubectl(['exec', 'box', '--', 'fail']);
    expect(f.code).toBe(3);
    expect(f.stderr).toContain('it failed');
    const s = await h.kubectl(['exec', 'box', '--', 'sh', '-c', 'exit 7']);
    expect(s.code).toBe(7);
    const c = await h.kubectl(['exec', '-i', 'box', '--', 'cat'], { input: 'piped through\n' });
    expect(c.stdout).toBe('piped through\n');
  });

  it.runIf(!!olderKubectl())('runs exec over SPDY for kubectl 1.29', async () => {
    const bin = olderKubectl()!;
    const r = await h.kubectl(['exec', 'box', '--', 'echo', 'over', 'spdy'], { bin });
    expect(r.stdout).toBe('over spdy\n');
    expect((await h.kubectl(['exec', 'box', '--', 'sh', '-c', 'exit 5'], { bin })).code).toBe(5);
    expect((await h.kubectl(['exec', '-i', 'box', '--', 'cat'], { bin, input: 'in\n' })).stdout).toBe('in\n');
  });

  it('forwards a port (SPDY, tunneled through a WebSocket from kubectl 1.30 on)', async () => {
    const pod = await h.api.get({ apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'box' });
    await h.api.updateStatus({ ...pod, status: { ...pod.status, phase: 'Running' } });
    const child = spawn(KUBECTL, ['port-forward', 'pod/box', ':80'], { env: { PATH: process.env.PATH ?? '', HOME: h.home, KUBECONFIG: h.server.kubeconfigPath } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    try {
      const end = Date.now() + 15_000;
      while (!/Forwarding from 127\.0\.0\.1:(\d+)/.test(out) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      const port = Number(/Forwarding from 127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
      expect(port).toBeGreaterThan(0);
      for (const msg of ['first connection', 'second connection']) {
        const got = await new Promise<string>((resolve, reject) => {
          const s = connect(port, '127.0.0.1', () => s.write(msg));
          s.on('data', (d) => {
            resolve(String(d));
            s.end();
          });
          s.on('error', reject);
        });
        expect(got).toBe(msg);
      }
    } finally {
      child.kill();
    }
  });
});
