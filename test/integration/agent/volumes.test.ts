import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSYBOX, docker, isRunning, setup, type Env } from './helpers.ts';

describe('node agent on Docker: configuration and volumes', () => {
  let env: Env;
  beforeAll(async () => {
    env = await setup('vols');
  });
  afterAll(() => env?.close());

  it('shows configMap and secret as files and env inside, and updates the file when the configMap changes', async () => {
    await env.client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app', namespace: 'default' }, data: { 'app.conf': 'color=blue', MODE: 'fast' } });
    await env.client.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds', namespace: 'default' }, stringData: { password: 's3cret' } });
    await env.createPod('cfg', {
      volumes: [
        { name: 'conf', configMap: { name: 'app', items: [{ key: 'app.conf', path: 'app.conf' }] } },
        { name: 'creds', secret: { secretName: 'creds' } },
      ],
      containers: [
        {
          name: 'c',
          image: BUSYBOX,
          command: ['sleep', '3600'],
          env: [{ name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } }],
          envFrom: [{ configMapRef: { name: 'app' }, prefix: 'APP_' }],
          volumeMounts: [
            { name: 'conf', mountPath: '/etc/app' },
            { name: 'creds', mountPath: '/etc/creds' },
          ],
          securityContext: { readOnlyRootFilesystem: true },
        },
      ],
    });
    await env.waitPod('cfg', isRunning());
    expect((await env.exec('cfg', 'c', ['cat', '/etc/app/app.conf'])).out).toBe('color=blue');
    expect((await env.exec('cfg', 'c', ['cat', '/etc/creds/password'])).out).toBe('s3cret');
    expect((await env.exec('cfg', 'c', ['sh', '-c', 'echo "$PASSWORD $APP_MODE"'])).out.trim()).toBe('s3cret fast');
    // The secret lives on a tmpfs (host /dev/shm), never on disk.
    expect((await env.exec('cfg', 'c', ['sh', '-c', "grep ' /etc/creds ' /proc/mounts | cut -d' ' -f3"])).out.trim()).toBe('tmpfs');
    expect((await env.exec('cfg', 'c', ['sh', '-c', 'touch /x 2>&1; echo $?'])).out.trim()).not.toBe('0');
    const cm: any = await env.client.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'app' });
    cm.data['app.conf'] = 'color=green';
    await env.client.update(cm);
    let now = '';
    for (let i = 0; i < 100 && now !== 'color=green'; i++) {
      now = (await env.exec('cfg', 'c', ['cat', '/etc/app/app.conf'])).out;
      if (now !== 'color=green') await new Promise((r) => setTimeout(r, 50));
    }
    expect(now).toBe('color=green');
  });

  it('keeps PVC data after the pod is deleted, for the next pod', async () => {
    await env.client.create({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'data', namespace: 'default' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    });
    const spec = (cmd: string) => ({
      restartPolicy: 'Never',
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }],
      containers: [{ name: 'c', image: BUSYBOX, command: ['sh', '-c', cmd], volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
    });
    await env.createPod('writer', spec('echo kept > /data/file'));
    await env.waitPod('writer', (p) => p.status?.phase === 'Succeeded', 'writer done');
    await env.client.delete({ apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'writer' });
    await env.waitGone('writer');
    const vols = (await docker.listVolumes({ filters: { label: [`io.wheelhouse.cluster=${env.cluster}`] } })).Volumes ?? [];
    expect(vols.map((v) => v.Labels?.['io.wheelhouse.pvc.name'])).toEqual(['data']);
    await env.createPod('reader', spec('cat /data/file'));
    await env.waitPod('reader', (p) => p.status?.phase === 'Succeeded', 'reader done');
    const lines: string[] = [];
    for await (const l of await env.agent.logs('default', 'reader', 'c')) lines.push(l.line);
    expect(lines).toEqual(['kept']);
  });

  it('waits with FailedMount while a PVC is missing', async () => {
    await env.createPod('nopvc', {
      volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'absent' } }],
      containers: [{ name: 'c', image: BUSYBOX, command: ['sleep', '3600'], volumeMounts: [{ name: 'd', mountPath: '/d' }] }],
    });
    let ev: any;
    for (let i = 0; i < 100 && !ev; i++) {
      ev = (await env.events('nopvc')).find((e) => e.reason === 'FailedMount');
      if (!ev) await new Promise((r) => setTimeout(r, 50));
    }
    expect(ev?.message).toContain('persistentvolumeclaims "absent" not found');
    expect((await env.pod('nopvc')).status.containerStatuses[0].state.waiting.reason).toBe('ContainerCreating');
  });
});
