/**
 * Real kubectl against a running `wheelhouse serve` (core/serve.ts: lowdb store, scheduler,
 * controllers, a node agent on the real Docker engine): the rollout verbs, logs -f, exec,
 * port-forward and top against pods that really run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, type Served } from '../../../core/serve.ts';
import { KUBECTL, requireKubectl } from './helpers.ts';

const IMAGE = `wheelhouse-test/busybox:${process.env.TEST_IMAGE_VERSION ?? '1'}`;
const CLUSTER = `it-kubectl-${process.pid}`;
const IMAGE_V2 = `wheelhouse-test/busybox:kubectl-v2-${process.pid}`;
const enabled = requireKubectl();

let served: Served;
let dir: string;

function kubectl(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      KUBECTL,
      args,
      { env: { PATH: process.env.PATH ?? '', HOME: join(dir, 'home'), KUBECONFIG: served.apiServer.kubeconfigPath }, timeout: 120_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) }),
    );
    child.stdin?.end(input ?? '');
  });
}

async function ok(args: string[], input?: string): Promise<string> {
  const r = await kubectl(args, input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** GET http://127.0.0.1:PORT/index.html (the test pods' page). */
function getIndex(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/index.html' }, (res) => {
      let b = '';
      res.on('data', (d) => (b += d));
      res.on('end', () => resolve(b));
    }).on('error', reject);
  });
}

/** `kubectl port-forward TARGET PORTS`; resolves the local port once it says "Forwarding from". */
function portForward(target: string, ports: string) {
  const child = spawn(KUBECTL, ['port-forward', target, ports], {
    env: { PATH: process.env.PATH ?? '', HOME: join(dir, 'home'), KUBECONFIG: served.apiServer.kubeconfigPath },
  });
  const port = new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`port-forward did not start: ${out}`)), 30_000);
    child.stdout.on('data', (d) => {
      out += String(d);
      const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.stderr.on('data', (d) => (out += String(d)));
  });
  return { child, port };
}

const deployment = (image: string) => `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: web
        image: ${image}
        command: [sh, -c, 'mkdir -p /www && echo hello > /www/index.html && exec httpd -f -p 8080 -h /www']
        ports: [{containerPort: 8080}]
        readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
`;

describe.skipIf(!enabled)('kubectl against wheelhouse serve with pods in Docker', () => {
  beforeAll(async () => {
    spawnSync('docker', ['tag', IMAGE, IMAGE_V2]);
    dir = mkdtempSync(join(tmpdir(), 'wh-serve-kubectl-'));
    served = await serve({ dataDir: join(dir, 'data'), name: CLUSTER, agent: { restartBackoff: { initialMs: 500, maxMs: 2000 } } });
  });

  afterAll(async () => {
    await served?.stop();
    const ids = spawnSync('docker', ['ps', '-aq', '--filter', `label=io.wheelhouse.cluster=${CLUSTER}`], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    if (ids.length) spawnSync('docker', ['rm', '-f', ...ids]);
    spawnSync('docker', ['network', 'rm', `wheelhouse-${CLUSTER}`]);
    spawnSync('docker', ['rmi', IMAGE_V2]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('apply, rollout status, set image, rollout history and undo', async () => {
    expect(await ok(['apply', '-f', '-'], deployment(IMAGE))).toContain('deployment.apps/web created');
    expect(await ok(['rollout', 'status', 'deployment/web', '--timeout=90s'])).toContain('successfully rolled out');
    expect(await ok(['get', 'pods', '-l', 'app=web', '-o', 'wide'])).toMatch(/web-\S+\s+1\/1\s+Running/);
    // As users record a change cause: change, then annotate (Kubernetes copies the Deployment's
    // annotations to the ReplicaSet that matches its template at that moment).
    await ok(['set', 'image', 'deployment/web', `web=${IMAGE_V2}`]);
    await ok(['annotate', 'deployment/web', 'kubernetes.io/change-cause=v2 image']);
    expect(await ok(['rollout', 'status', 'deployment/web', '--timeout=90s'])).toContain('successfully rolled out');
    const history = await ok(['rollout', 'history', 'deployment/web']);
    expect(history).toMatch(/1\s+<none>/);
    expect(history).toMatch(/2\s+v2 image/);
    await ok(['rollout', 'undo', 'deployment/web']);
    expect(await ok(['rollout', 'status', 'deployment/web', '--timeout=90s'])).toContain('successfully rolled out');
    expect(await ok(['get', 'deployment/web', '-o', 'jsonpath={.spec.template.spec.containers[0].image}'])).toBe(IMAGE);
    expect(await ok(['describe', 'deployment/web'])).toMatch(/ScalingReplicaSet/);
  });

  it('exec, logs -f and port-forward reach the real containers', async () => {
    expect((await ok(['exec', 'deploy/web', '--', 'cat', '/www/index.html'])).trim()).toBe('hello');
    await ok([
      'run', 'counter', `--image=${IMAGE}`, '--restart=Never', '--command', '--',
      'sh', '-c', 'for i in 1 2 3; do echo line $i; sleep 0.3; done',
    ]);
    await ok(['wait', '--for=jsonpath={.status.phase}=Running', 'pod/counter', '--timeout=60s']).catch(() => undefined);
    const logs = await ok(['logs', '-f', 'pod/counter']);
    expect(logs.trim().split('\n')).toEqual(['line 1', 'line 2', 'line 3']);

    const pod = (await ok(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}'])).trim();
    const pf = portForward(`pod/${pod}`, ':8080');
    try {
      const port = await pf.port;
      expect((await getIndex(port)).trim()).toBe('hello');
    } finally {
      pf.child.kill('SIGTERM');
    }
  });

  it('expose, get svc, port-forward svc/… and the NodePort on 127.0.0.1', async () => {
    expect(await ok(['expose', 'deployment/web', '--port=80', '--target-port=8080', '--type=NodePort'])).toContain('service/web exposed');
    const svcLine = await ok(['get', 'svc', 'web', '--no-headers']);
    const m = /^web\s+NodePort\s+(10\.96\.\d+\.\d+)\s+<none>\s+80:(\d+)\/TCP/.exec(svcLine);
    expect(m, svcLine).toBeTruthy();
    expect(await ok(['get', 'svc', 'kube-dns', '-n', 'kube-system', '-o', 'jsonpath={.spec.clusterIP}'])).toBe('10.96.0.10');
    let body = '';
    for (let i = 0; i < 50 && body.trim() !== 'hello'; i++) {
      body = await getIndex(Number(m![2])).catch(() => '');
      if (body.trim() !== 'hello') await new Promise((r) => setTimeout(r, 200));
    }
    expect(body.trim()).toBe('hello');
    const pf = portForward('svc/web', ':80');
    try {
      const port = await pf.port;
      expect((await getIndex(port)).trim()).toBe('hello');
    } finally {
      pf.child.kill('SIGTERM');
    }
    await ok(['delete', 'svc', 'web']);
  });

  it('top pods shows the agents\' usage samples', async () => {
    let out = '';
    for (let i = 0; i < 40; i++) {
      const r = await kubectl(['top', 'pods', '-l', 'app=web']);
      out = r.stdout + r.stderr;
      if (r.code === 0 && /web-\S+\s+\d+m\s+\d+Mi/.test(out)) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(out).toMatch(/web-\S+\s+\d+m\s+\d+Mi/);
  });
});
