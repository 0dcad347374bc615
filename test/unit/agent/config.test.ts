import { readFile, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { containerResources, expand, makeEnv, milliCpuToShares, securityContextFor } from '../../../core/agent/container-config.ts';
import type { ConfigSources } from '../../../core/agent/types.ts';
import type { Pod } from '../../../core/agent/util.ts';
import { IMAGE, harness, running, until, type Harness } from './harness.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

function srcs(objs: Record<string, any> = {}): ConfigSources {
  return {
    configMap: (ns, n) => objs[`cm/${ns}/${n}`],
    secret: (ns, n) => objs[`secret/${ns}/${n}`],
    pvc: () => undefined,
    services: (ns) => objs[`services/${ns}`] ?? [],
  };
}

function pod(containers: any[], meta: any = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'ns1', uid: 'uid-1', labels: { app: 'web' }, annotations: { note: 'x"y' }, ...meta },
    spec: { nodeName: 'node-1', serviceAccountName: 'sa', containers },
  };
}

describe('container config', () => {
  it('expands $(VAR) as Kubernetes does', () => {
    const env = new Map([['A', 'a'], ['B', 'b']]);
    expect(expand('$(A)-$(B)', env)).toBe('a-b');
    expect(expand('$(MISSING)', env)).toBe('$(MISSING)');
    expect(expand('$$(A)', env)).toBe('$(A)');
    expect(expand('$A $', env)).toBe('$A $');
    expect(expand('$(A', env)).toBe('$(A');
  });

  it('builds env: envFrom with prefix, then env with expansion and valueFrom', () => {
    const objs = {
      'cm/ns1/cfg': { data: { MODE: 'fast', 'bad key': 'x' } },
      'secret/ns1/sec': { data: { password: b64('s3cret') } },
    };
    const c = {
      name: 'web',
      image: IMAGE,
      envFrom: [{ configMapRef: { name: 'cfg' }, prefix: 'CFG_' }, { secretRef: { name: 'nope', optional: true } }],
      env: [
        { name: 'A', value: 'x' },
        { name: 'B', value: '$(A)-$(CFG_MODE)' },
        { name: 'PW', valueFrom: { secretKeyRef: { name: 'sec', key: 'password' } } },
        { name: 'OPT', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'missing', optional: true } } },
        { name: 'NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
        { name: 'SA', valueFrom: { fieldRef: { fieldPath: 'spec.serviceAccountName' } } },
        { name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
        { name: 'CPU', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
      ],
      resources: { limits: { memory: '64Mi' } },
    };
    const invalid: string[][] = [];
    const env = makeEnv({
      pod: pod([c]),
      container: c,
      sources: srcs(objs),
      addr: { podIP: '10.0.0.7', hostIP: '10.0.0.1' },
      allocatable: { cpu: '4', memory: '8Gi' },
      onInvalidKeys: (keys) => invalid.push(keys),
    });
    expect(Object.fromEntries(env.map((e) => [e.name, e.value]))).toEqual({
      CFG_MODE: 'fast',
      A: 'x',
      B: 'x-fast',
      PW: 's3cret',
      NAME: 'p',
      APP: 'web',
      IP: '10.0.0.7',
      NODE: 'node-1',
      SA: 'sa',
      MEM: '64',
      CPU: '4',
    });
    expect(invalid).toEqual([['CFG_bad key']]);
  });

  it('names a missing ConfigMap/Secret or key as the kubelet does', () => {
    const run = (env: any[], objs = {}) => () => makeEnv({ pod: pod([]), container: { name: 'c', env }, sources: srcs(objs), addr: {}, allocatable: {} });
    expect(run([{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'k' } } }])).toThrow('configmap "cfg" not found');
    expect(run([{ name: 'X', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }])).toThrow('secret "s" not found');
    expect(run([{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'k' } } }], { 'cm/ns1/cfg': { data: {} } })).toThrow(
      "couldn't find key k in ConfigMap ns1/cfg",
    );
  });

  it('maps resources and security context', () => {
    expect(containerResources({ name: 'c', resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '250m' } } })).toEqual({
      memoryLimitBytes: 128 * 1024 * 1024,
      nanoCpus: 500_000_000,
      cpuShares: 256,
    });
    expect(containerResources({ name: 'c' })).toEqual({ cpuShares: 2 });
    expect(milliCpuToShares(1000)).toBe(1024);
    expect(milliCpuToShares(1)).toBe(2);
    const p = pod([]);
    p.spec.securityContext = { runAsUser: 1000, fsGroup: 2000 };
    expect(
      securityContextFor(p, { name: 'c', securityContext: { runAsUser: 1001, readOnlyRootFilesystem: true, capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] } } }),
    ).toEqual({ runAsUser: 1001, supplementalGroups: [2000], readOnlyRootFilesystem: true, capAdd: ['NET_ADMIN'], capDrop: ['ALL'] });
    expect(() => securityContextFor(p, { name: 'c', securityContext: { runAsUser: 0, runAsNonRoot: true } })).toThrow(/breaks non-root policy/);
  });
});

describe('node agent: config and volumes (fake runtime)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
    await h.agent.start();
  });
  afterEach(() => h.close());

  it('waits with CreateContainerConfigError for a missing ConfigMap, and starts once it exists', async () => {
    await h.createPod('cfgwait', { containers: [{ name: 'c', image: IMAGE, env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'later', key: 'k' } } }] }] });
    const p = await h.waitPod('cfgwait', (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CreateContainerConfigError');
    expect(p.status.containerStatuses[0].state.waiting.message).toBe('configmap "later" not found');
    expect((await h.events('cfgwait')).some((e) => e.reason === 'Failed' && e.message === 'Error: configmap "later" not found')).toBe(true);
    await h.client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'later', namespace: 'default' }, data: { k: 'v' } });
    await h.waitPod('cfgwait', running());
    const c = h.runtime.containers.get(h.containersOf('cfgwait')[0]!.id)!;
    expect(c.config.env).toContainEqual({ name: 'X', value: 'v' });
  });

  it('writes configMap, secret, downwardAPI files atomically and updates them when the source changes', async () => {
    await h.client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'files', namespace: 'default' }, data: { 'a.txt': 'one', 'b.txt': 'bee' } });
    await h.client.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sec', namespace: 'default' }, stringData: { token: 't0k' } });
    await h.createPod(
      'vols',
      {
        volumes: [
          { name: 'cfg', configMap: { name: 'files', items: [{ key: 'a.txt', path: 'dir/a.txt' }] } },
          { name: 'sec', secret: { secretName: 'sec', defaultMode: 0o400 } },
          { name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }, { path: 'name', fieldRef: { fieldPath: 'metadata.name' } }] } },
          { name: 'scratch', emptyDir: {} },
          { name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '8Mi' } },
        ],
        containers: [
          {
            name: 'c',
            image: IMAGE,
            volumeMounts: [
              { name: 'cfg', mountPath: '/etc/cfg' },
              { name: 'sec', mountPath: '/etc/sec' },
              { name: 'info', mountPath: '/etc/info' },
              { name: 'scratch', mountPath: '/scratch' },
              { name: 'mem', mountPath: '/mem' },
            ],
          },
        ],
      },
      { labels: { app: 'vols', tier: 'web' } },
    );
    const p = await h.waitPod('vols', running());
    const mounts = h.runtime.containers.get(h.containersOf('vols')[0]!.id)!.config.mounts;
    const at = (path: string) => mounts.find((m) => m.containerPath === path)!;
    expect(at('/etc/cfg')).toMatchObject({ readOnly: true });
    expect(at('/mem')).toEqual({ containerPath: '/mem', readOnly: false, tmpfs: { sizeBytes: 8 * 1024 * 1024 } });
    expect(at('/dev/termination-log').hostPath).toContain(p.metadata.uid);
    const cfgDir = at('/etc/cfg').hostPath!;
    expect(await readFile(join(cfgDir, 'dir/a.txt'), 'utf8')).toBe('one');
    expect(await readlink(join(cfgDir, 'dir'))).toBe('..data/dir');
    const secDir = at('/etc/sec').hostPath!;
    expect(await readFile(join(secDir, 'token'), 'utf8')).toBe('t0k');
    expect((await stat(join(secDir, 'token'))).mode & 0o777).toBe(0o400);
    expect(await readFile(join(at('/etc/info').hostPath!, 'labels'), 'utf8')).toBe('app="vols"\ntier="web"');
    expect((await stat(at('/scratch').hostPath!)).isDirectory()).toBe(true);
    const before = await readlink(join(cfgDir, '..data'));
    const cm: any = await h.client.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'files' });
    cm.data['a.txt'] = 'two';
    await h.client.update(cm);
    await until('configMap file updated', async () => (await readFile(join(cfgDir, 'dir/a.txt'), 'utf8')) === 'two');
    expect(await readlink(join(cfgDir, '..data'))).not.toBe(before);
    // Labels changed → the downwardAPI file follows.
    p.metadata.labels.tier = 'db';
    await h.client.update(p);
    await until('labels file updated', async () => (await readFile(join(at('/etc/info').hostPath!, 'labels'), 'utf8')) === 'app="vols"\ntier="db"');
    // Deleting the pod removes its folders.
    await h.client.delete({ apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'vols' }, { gracePeriodSeconds: 0 });
    await until('pod folder removed', async () => stat(join(h.dataDir, 'pods', p.metadata.uid)).then(() => false, () => true));
  });

  it('mounts a PVC as a named volume, and waits with FailedMount while the claim is missing', async () => {
    await h.createPod('pvc', {
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }],
      containers: [{ name: 'c', image: IMAGE, volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
    });
    const failed = await until('FailedMount', async () => (await h.events('pvc')).find((e) => e.reason === 'FailedMount'));
    expect(failed.message).toBe(
      'Unable to attach or mount volumes: unmounted volumes=[data], unattached volumes=[], failed to process volumes=[data]: error processing PVC default/data: failed to fetch PVC from API server: persistentvolumeclaims "data" not found',
    );
    expect((await h.pod('pvc')).status.containerStatuses[0].state.waiting.reason).toBe('ContainerCreating');
    const pvc = await h.client.create<any>({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'data', namespace: 'default' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    });
    await h.waitPod('pvc', running());
    const mount = h.runtime.containers.get(h.containersOf('pvc')[0]!.id)!.config.mounts.find((m) => m.containerPath === '/data')!;
    expect(mount.volumeName).toBe(`wh-unit-pvc-default-data-${pvc.metadata.uid!.slice(0, 8)}`);
    expect(h.runtime.volumes.get(mount.volumeName!)!.labels['io.wheelhouse.cluster']).toBe('unit');
  });

  it('reports a missing configMap volume as FailedMount with the kubelet message', async () => {
    await h.createPod('cmvol', {
      volumes: [{ name: 'cfg', configMap: { name: 'absent' } }],
      containers: [{ name: 'c', image: IMAGE, volumeMounts: [{ name: 'cfg', mountPath: '/cfg' }] }],
    });
    const ev = await until('FailedMount', async () => (await h.events('cmvol')).find((e) => e.reason === 'FailedMount'));
    expect(ev.message).toBe('MountVolume.SetUp failed for volume "cfg" : configmap "absent" not found');
  });
});
