/**
 * @kubernetes/client-node 1.4 against the Wheelhouse API (in-process server, TLS, admin token
 * from the written kubeconfig): typed list/create/read/patch/delete, KubernetesObjectApi,
 * watch, logs, exec and port-forward over WebSocket.
 */
import { createServer, type Server } from 'node:net';
import { PassThrough } from 'node:stream';
import {
  AppsV1Api,
  CoreV1Api,
  Exec,
  KubeConfig,
  Log,
  PatchStrategy,
  PortForward,
  Watch,
  setHeaderOptions,
  type V1ConfigMap,
  type V1Status,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../kubectl/helpers.ts';
import { FakePodIO } from '../kubectl/fake-pod-io.ts';

describe('@kubernetes/client-node against the Wheelhouse API', () => {
  let h: Harness;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let echo: Server;
  beforeAll(async () => {
    echo = createServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
    h = await startHarness({ podIO: new FakePodIO(() => (echo.address() as { port: number }).port) });
    kc = new KubeConfig();
    kc.loadFromFile(h.server.kubeconfigPath);
    core = kc.makeApiClient(CoreV1Api);
    await h.api.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'box', namespace: 'default' }, spec: { containers: [{ name: 'main', image: 'busybox' }] } });
    await h.api.bind('default', 'box', 'node-1');
  });
  afterAll(async () => {
    await h?.close();
    echo?.close();
  });

  it('lists, creates, reads, patches and deletes', async () => {
    const ns = await core.listNamespace();
    expect(ns.items.map((n) => n.metadata?.name)).toContain('kube-system');
    const created = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'cn' }, data: { a: '1' } } });
    expect(created.metadata?.uid).toBeTruthy();
    const read = await core.readNamespacedConfigMap({ name: 'cn', namespace: 'default' });
    expect(read.data).toEqual({ a: '1' });
    const patched = await core.patchNamespacedConfigMap(
      { name: 'cn', namespace: 'default', body: { data: { b: '2' } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(patched.data).toEqual({ a: '1', b: '2' });
    await core.deleteNamespacedConfigMap({ name: 'cn', namespace: 'default' });
    await expect(core.readNamespacedConfigMap({ name: 'cn', namespace: 'default' })).rejects.toMatchObject({ code: 404 });
    const apps = kc.makeApiClient(AppsV1Api);
    const d = await apps.createNamespacedDeployment({
      namespace: 'default',
      body: {
        metadata: { name: 'web' },
        spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } } },
      },
    });
    expect(d.spec?.replicas).toBe(1);
    const scale = await apps.readNamespacedDeploymentScale({ name: 'web', namespace: 'default' });
    expect(scale.spec?.replicas).toBe(1);
  });

  it('watches', async () => {
    const events: string[] = [];
    const w = new Watch(kc);
    const ctrl = await w.watch('/api/v1/namespaces/default/configmaps', {}, (phase, obj: V1ConfigMap) => events.push(`${phase} ${obj.metadata?.name}`), () => {});
    try {
      await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'watched' } } });
      await core.deleteNamespacedConfigMap({ name: 'watched', namespace: 'default' });
      await waitFor(() => events.includes('DELETED watched'));
      expect(events).toContain('ADDED watched');
    } finally {
      ctrl.abort();
    }
  });

  it('gets a 410 Expired as an ERROR event when resuming from a compacted revision', async () => {
    await h.api.store.compact(h.api.store.currentRevision());
    const errors: unknown[] = [];
    const w = new Watch(kc);
    const done = new Promise<void>((resolve) => {
      void w.watch('/api/v1/namespaces/default/configmaps', { resourceVersion: '1' }, (phase, obj) => phase === 'ERROR' && errors.push(obj), () => resolve());
    });
    await done;
    expect(errors[0]).toMatchObject({ kind: 'Status', code: 410, reason: 'Expired' });
  });

  it('reads logs, execs and forwards a port', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d) => (text += d));
    await new Log(kc).log('default', 'box', 'main', out, { tailLines: 1 });
    await waitFor(() => text.includes('line 5'));
    expect(text).toBe('default/box/main line 5\n');

    const stdout = new PassThrough();
    let execOut = '';
    stdout.on('data', (d) => (execOut += d));
    const status = await new Promise<V1Status>((resolve) => {
      void new Exec(kc).exec('default', 'box', 'main', ['echo', 'from', 'client-node'], stdout, null, null, false, resolve);
    });
    expect(status.status).toBe('Success');
    expect(execOut).toBe('from client-node\n');

    const fwdOut = new PassThrough();
    let fwd = '';
    fwdOut.on('data', (d) => (fwd += d));
    const input = new PassThrough();
    const ws = await new PortForward(kc).portForward('default', 'box', [8080], fwdOut, null, input);
    input.write('ping over the tunnel');
    await waitFor(() => fwd.includes('ping over the tunnel'));
    (ws as { close(): void }).close();
  });
});

async function waitFor(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
