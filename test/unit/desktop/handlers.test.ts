/**
 * The desktop handlers against a control-plane-only cluster (no container runtime): what a user
 * of the UI would notice — lists and watches, imports with their previews, scale and restart,
 * nodes, secrets and config maps, and errors that say what went wrong.
 */
import { connect, createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../core/api/types.ts';
import { DesktopError, RESTARTED_AT_ANNOTATION, type DesktopEvents } from '../../../core/desktop-api.ts';
import { deployment, harness, until, type Harness } from './helpers.ts';

let h: Harness;
beforeAll(async () => {
  h = await harness();
});
afterAll(async () => {
  await h?.close();
});

async function failure(p: Promise<unknown>): Promise<DesktopError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(DesktopError);
    return e as DesktopError;
  }
  throw new Error('the call succeeded');
}

describe('cluster.info', () => {
  it('says there is no runtime and no local node', async () => {
    const info = await h.call('cluster.info', {});
    expect(info.runtime).toBeNull();
    expect(info.localNodes).toEqual([]);
    expect(info.mode).toBe('browser');
    expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('resources', () => {
  it('lists, gets and deletes', async () => {
    await h.cluster.client.create(deployment('listed'));
    const list = await h.call('resources.list', { kind: 'Deployment', namespace: 'default' });
    expect(list.items.map((d) => d.metadata.name)).toContain('listed');
    expect(list.items[0]!.metadata.managedFields).toBeUndefined();
    const got = await h.call('resources.get', { kind: 'Deployment', namespace: 'default', name: 'listed' });
    expect(got.spec.replicas).toBe(1);
    await h.call('resources.delete', { kind: 'Deployment', namespace: 'default', name: 'listed' });
    const e = await failure(h.call('resources.get', { kind: 'Deployment', namespace: 'default', name: 'listed' }));
    expect(e.reason).toBe('NotFound');
    expect(e.message).toMatch(/"listed" not found/);
  });

  it('watches: the initial list, then changes in batches of at most 4 a second', async () => {
    const w = await h.call('resources.watch', { kind: 'ConfigMap', namespace: 'churn' });
    expect(w.items).toEqual([]);
    await h.cluster.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'churn' } });
    const before = h.eventsOf('watch.batch').length;
    const start = Date.now();
    // 200 writes as fast as the API takes them, each its own I/O turn (as HTTP requests would be),
    // spread over at least a second and a half: far more than 4 changes a second.
    const tick = () => new Promise((r) => setTimeout(r, 7));
    for (let i = 0; i < 40; i++) {
      await h.cluster.client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `c${i}`, namespace: 'churn' }, data: { v: '0' } });
      await tick();
    }
    for (let r = 1; r <= 4; r++) {
      for (let i = 0; i < 40; i++) {
        await h.cluster.client.patch({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'churn', name: `c${i}` }, 'merge', { data: { v: String(r) } });
        await tick();
      }
    }
    await h.cluster.client.delete({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'churn', name: 'c0' });
    // The renderer's view converges to the cluster's.
    const view = new Map<string, KubeObject>();
    await until(() => {
      for (const b of h.eventsOf('watch.batch').slice(before)) {
        for (const c of b.changes.filter((x) => x.watchId === w.watchId)) {
          for (const o of c.upserts) view.set(o.metadata.name!, o);
          for (const d of c.deletes) view.delete(d.name);
        }
      }
      return view.size === 39 && [...view.values()].every((o) => (o.data as { v?: string }).v === '4');
    }, 'the watch to converge');
    const elapsed = Date.now() - start;
    const batches = h.events.filter((e) => e.event === 'watch.batch').slice(before);
    expect(batches.length).toBeGreaterThanOrEqual(5);
    // ≤ 4 a second: never 5 within any second (and at least 250 ms apart, whatever the churn).
    expect(batches.length).toBeLessThanOrEqual(Math.ceil(elapsed / 250) + 1);
    for (let i = 1; i < batches.length; i++) expect(batches[i]!.at - batches[i - 1]!.at).toBeGreaterThanOrEqual(250);
    for (let i = 4; i < batches.length; i++) expect(batches[i]!.at - batches[i - 4]!.at).toBeGreaterThanOrEqual(1000);
    await h.call('resources.unwatch', { watchId: w.watchId });
  });

  it('never sends Secret values in lists, gets or watches', async () => {
    const w = await h.call('resources.watch', { kind: 'Secret', namespace: 'default' });
    await h.call('yaml.apply', {
      files: [{ name: 's.yaml', text: 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: s1\nstringData:\n  password: hunter2\n' }],
    });
    const got = await h.call('resources.get', { kind: 'Secret', namespace: 'default', name: 's1' });
    expect(got.data).toEqual({ password: '' });
    expect(JSON.stringify(got)).not.toMatch(/hunter2|aHVudGVyMg/);
    const list = await h.call('resources.list', { kind: 'Secret', namespace: 'default' });
    expect(JSON.stringify(list)).not.toMatch(/hunter2|aHVudGVyMg/);
    await until(() => h.eventsOf('watch.batch').some((b) => b.changes.some((c) => c.watchId === w.watchId && c.upserts.length)), 'the watch event');
    expect(JSON.stringify(h.eventsOf('watch.batch'))).not.toMatch(/hunter2|aHVudGVyMg/);
    await h.call('resources.unwatch', { watchId: w.watchId });
  });

  it('creates namespaces', async () => {
    await h.call('namespaces.create', { name: 'team-a' });
    const ns = await h.call('resources.get', { kind: 'Namespace', name: 'team-a' });
    expect(ns.metadata.name).toBe('team-a');
    expect((await failure(h.call('namespaces.create', { name: 'team-a' }))).reason).toBe('AlreadyExists');
  });
});

describe('YAML import', () => {
  const app = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: imported
spec:
  replicas: 2
  selector:
    matchLabels: { app: imported }
  template:
    metadata:
      labels: { app: imported }
    spec:
      containers:
        - name: web
          image: wheelhouse-test/busybox:1
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: imported-config
data:
  a: "1"
`;

  it('previews what would be created, then applies it, then sees it unchanged', async () => {
    const p = await h.call('yaml.preview', { files: [{ name: 'app.yaml', text: app }] });
    expect(p.ok).toBe(true);
    expect(p.applied).toBe(false);
    expect(p.objects.map((o) => [o.object, o.action, o.line])).toEqual([
      ['Deployment default/imported', 'created', 1],
      ['ConfigMap default/imported-config', 'created', 17],
    ]);
    expect(p.objects[0]!.diff?.after.metadata.resourceVersion).toBeUndefined();
    await failure(h.call('resources.get', { kind: 'Deployment', namespace: 'default', name: 'imported' }));
    const a = await h.call('yaml.apply', { files: [{ name: 'app.yaml', text: app }] });
    expect(a.applied).toBe(true);
    expect(a.objects.map((o) => o.action)).toEqual(['created', 'created']);
    const again = await h.call('yaml.preview', { files: [{ name: 'app.yaml', text: app }] });
    expect(again.objects.map((o) => o.action)).toEqual(['unchanged', 'unchanged']);
  });

  it('shows a change as configured, with before and after', async () => {
    const p = await h.call('yaml.preview', { files: [{ name: 'app.yaml', text: app.replace('replicas: 2', 'replicas: 3') }] });
    const d = p.objects.find((o) => o.kind === 'Deployment')!;
    expect(d.action).toBe('configured');
    expect(d.diff?.before?.spec.replicas).toBe(2);
    expect(d.diff?.after.spec.replicas).toBe(3);
    expect(d.diff?.before?.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration']).toBeUndefined();
  });

  it('reports every problem with its file, document and line, and refuses to apply', async () => {
    const bad = `apiVersion: v1
kind: ConfigMap
metadata:
  name: fine
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: broken
spec:
  replicas: -1
  selector:
    matchLabels: { app: broken }
  template:
    metadata:
      labels: { app: broken }
    spec:
      containers:
        - name: web
          image: busybox
`;
    const p = await h.call('yaml.preview', { files: [{ name: 'bad.yaml', text: bad }, { name: 'syntax.yaml', text: 'a: [1, 2\n' }] });
    expect(p.ok).toBe(false);
    expect(p.objects.map((o) => o.object)).toEqual(['ConfigMap default/fine']);
    const replicas = p.problems.find((x) => x.field === 'spec.replicas')!;
    expect(replicas).toMatchObject({ file: 'bad.yaml', document: 2, line: 11, object: 'Deployment default/broken' });
    expect(p.problems.some((x) => x.file === 'syntax.yaml' && x.line > 0)).toBe(true);
    const e = await failure(h.call('yaml.apply', { files: [{ name: 'bad.yaml', text: bad }] }));
    expect(e.reason).toBe('ImportFailed');
    expect(e.details.problems?.[0]).toMatchObject({ file: 'bad.yaml', line: 11, field: 'spec.replicas' });
    await failure(h.call('resources.get', { kind: 'ConfigMap', namespace: 'default', name: 'fine' }));
  });

  it('masks Secret values in the preview diff but marks what changed', async () => {
    const s = (pw: string) => `apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  password: ${Buffer.from(pw).toString('base64')}\n  user: ${Buffer.from('admin').toString('base64')}\n`;
    await h.call('yaml.apply', { files: [{ name: 's.yaml', text: s('first-secret') }] });
    const p = await h.call('yaml.preview', { files: [{ name: 's.yaml', text: s('second-secret') }] });
    const o = p.objects[0]!;
    expect(o.action).toBe('configured');
    expect(o.diff?.after.data).toEqual({ password: '•••• (13 bytes, changed)', user: '•••• (5 bytes)' });
    expect(JSON.stringify(p)).not.toMatch(/first-secret|second-secret|Zmlyc3Qtc2VjcmV0|c2Vjb25kLXNlY3JldA/);
  });
});

describe('workloads', () => {
  it('scales and restarts', async () => {
    await h.cluster.client.create(deployment('scaled'));
    await h.call('workloads.scale', { kind: 'Deployment', namespace: 'default', name: 'scaled', replicas: 4 });
    await h.call('workloads.restart', { kind: 'Deployment', namespace: 'default', name: 'scaled' });
    const d = await h.call('resources.get', { kind: 'Deployment', namespace: 'default', name: 'scaled' });
    expect(d.spec.replicas).toBe(4);
    expect(Date.parse(d.spec.template.metadata.annotations[RESTARTED_AT_ANNOTATION])).toBeGreaterThan(Date.now() - 10_000);
    const e = await failure(h.call('workloads.scale', { kind: 'Deployment', namespace: 'default', name: 'missing', replicas: 1 }));
    expect(e.reason).toBe('NotFound');
  });

  it('suspends a CronJob and triggers a Job from it', async () => {
    await h.cluster.client.create({
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'nightly', namespace: 'default' },
      spec: {
        schedule: '0 3 * * *',
        jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'job', image: 'wheelhouse-test/busybox:1' }] } } } },
      },
    });
    await h.call('workloads.suspend', { kind: 'CronJob', namespace: 'default', name: 'nightly', suspend: true });
    expect((await h.call('resources.get', { kind: 'CronJob', namespace: 'default', name: 'nightly' })).spec.suspend).toBe(true);
    const { job } = await h.call('workloads.trigger', { namespace: 'default', name: 'nightly' });
    const j = await h.call('resources.get', { kind: 'Job', namespace: 'default', name: job });
    expect(j.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'CronJob', name: 'nightly', controller: true });
    expect(j.metadata.annotations?.['cronjob.kubernetes.io/instantiate']).toBe('manual');
  });
});

describe('nodes', () => {
  it('cordons, uncordons and drains (keeping DaemonSet and unmanaged pods unless forced)', async () => {
    const c = h.cluster.client;
    await c.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'worker' }, status: { capacity: { cpu: '2', memory: '2Gi', pods: '10' } } });
    await h.call('nodes.cordon', { name: 'worker' });
    expect((await h.call('resources.get', { kind: 'Node', name: 'worker' })).spec.unschedulable).toBe(true);
    await h.call('nodes.uncordon', { name: 'worker' });
    expect((await h.call('resources.get', { kind: 'Node', name: 'worker' })).spec?.unschedulable).toBeUndefined();

    const pod = (name: string, owner?: { kind: string; name: string }) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace: 'default',
        ...(owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: owner.kind, name: owner.name, uid: `uid-${owner.name}`, controller: true }] } : {}),
      },
      spec: { nodeName: 'worker', containers: [{ name: 'c', image: 'wheelhouse-test/busybox:1' }] },
    });
    await c.create(pod('managed', { kind: 'ReplicaSet', name: 'rs' }));
    await c.create(pod('ds-pod', { kind: 'DaemonSet', name: 'ds' }));
    await c.create(pod('lonely'));
    const r = await h.call('nodes.drain', { name: 'worker', gracePeriodSeconds: 0 });
    expect(r.evicted).toEqual(['default/managed']);
    expect(r.skipped.map((s) => s.pod).sort()).toEqual(['default/ds-pod', 'default/lonely']);
    expect(r.skipped.find((s) => s.pod === 'default/lonely')!.reason).toMatch(/not managed by a controller/);
    expect((await h.call('resources.get', { kind: 'Node', name: 'worker' })).spec.unschedulable).toBe(true);
    const forced = await h.call('nodes.drain', { name: 'worker', force: true, gracePeriodSeconds: 0 });
    expect(forced.evicted).toEqual(['default/lonely']);
  });

  it('cannot add or remove local nodes without a container runtime, and says why', async () => {
    const e = await failure(h.call('nodes.add', { name: 'n2', cpu: '2', memory: '2Gi' }));
    expect(e.reason).toBe('Unavailable');
    expect(e.message).toMatch(/without a container runtime/);
    const r = await failure(h.call('nodes.remove', { name: 'worker' }));
    expect(r.message).toMatch(/not a local node/);
  });
});

describe('ConfigMaps and Secrets', () => {
  it('creates a Secret from text and binary entries, masked until revealed', async () => {
    const bin = Buffer.from([0, 1, 2, 255]).toString('base64');
    const saved = await h.call('config.save', {
      kind: 'Secret',
      namespace: 'default',
      name: 'creds',
      entries: [
        { key: 'password', value: 'p@ss wörd', encoding: 'text' },
        { key: 'blob', value: bin, encoding: 'base64' },
      ],
    });
    expect(saved.type).toBe('Opaque');
    expect(saved.entries).toEqual([
      { key: 'blob', value: '', encoding: 'base64', size: 4, masked: true },
      { key: 'password', value: '', encoding: 'text', size: Buffer.byteLength('p@ss wörd'), masked: true },
    ]);
    const live = await h.cluster.client.get({ apiVersion: 'v1', kind: 'Secret', namespace: 'default', name: 'creds' });
    expect(Buffer.from(String((live.data as Record<string, string>).password), 'base64').toString()).toBe('p@ss wörd');
    const shown = await h.call('config.get', { kind: 'Secret', namespace: 'default', name: 'creds', reveal: true });
    expect(shown.entries.map((e) => [e.key, e.value, e.encoding])).toEqual([
      ['blob', bin, 'base64'],
      ['password', 'p@ss wörd', 'text'],
    ]);
  });

  it('updates keeping masked values, and refuses a stale resourceVersion', async () => {
    const cur = await h.call('config.get', { kind: 'Secret', namespace: 'default', name: 'creds' });
    await h.call('config.save', {
      kind: 'Secret',
      namespace: 'default',
      name: 'creds',
      resourceVersion: cur.resourceVersion!,
      entries: [
        { key: 'password', value: '', encoding: 'text', keep: true },
        { key: 'user', value: 'admin', encoding: 'text' },
      ],
    });
    const shown = await h.call('config.get', { kind: 'Secret', namespace: 'default', name: 'creds', reveal: true });
    expect(Object.fromEntries(shown.entries.map((e) => [e.key, e.value]))).toEqual({ password: 'p@ss wörd', user: 'admin' });
    const stale = await failure(
      h.call('config.save', { kind: 'Secret', namespace: 'default', name: 'creds', resourceVersion: cur.resourceVersion!, entries: [] }),
    );
    expect(stale.reason).toBe('Conflict');
  });

  it('validates before saving: bad base64, duplicate keys, invalid keys', async () => {
    const b = await failure(h.call('config.save', { kind: 'ConfigMap', namespace: 'default', name: 'cm', entries: [{ key: 'k', value: '!!!', encoding: 'base64' }] }));
    expect(b.message).toMatch(/"k" is not valid base64/);
    const d = await failure(
      h.call('config.save', {
        kind: 'ConfigMap',
        namespace: 'default',
        name: 'cm',
        entries: [
          { key: 'k', value: '1', encoding: 'text' },
          { key: 'k', value: '2', encoding: 'text' },
        ],
      }),
    );
    expect(d.message).toMatch(/duplicate key "k"/);
    const k = await failure(h.call('config.save', { kind: 'ConfigMap', namespace: 'default', name: 'cm', entries: [{ key: 'a b', value: '1', encoding: 'text' }] }));
    expect(k.details.field).toBe('args.entries[0].key');
    const dry = await h.call('config.save', { kind: 'ConfigMap', namespace: 'default', name: 'cm', dryRun: true, entries: [{ key: 'a', value: '1', encoding: 'text' }] });
    expect(dry.entries[0]!.value).toBe('1');
    await failure(h.call('resources.get', { kind: 'ConfigMap', namespace: 'default', name: 'cm' }));
  });

  it('says which workloads use a ConfigMap or Secret', async () => {
    await h.cluster.client.create(
      deployment('uses-env', { env: [{ name: 'PW', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } }] }),
    );
    await h.cluster.client.create(deployment('uses-volume', { volumes: [{ name: 'v', configMap: { name: 'settings' } }] }));
    await h.cluster.client.create(deployment('uses-nothing'));
    expect(await h.call('config.usedBy', { kind: 'Secret', namespace: 'default', name: 'creds' })).toEqual([{ kind: 'Deployment', namespace: 'default', name: 'uses-env' }]);
    const cm = await h.call('config.save', { kind: 'ConfigMap', namespace: 'default', name: 'settings', entries: [{ key: 'mode', value: 'fast', encoding: 'text' }] });
    expect(cm.usedBy).toEqual([{ kind: 'Deployment', namespace: 'default', name: 'uses-volume' }]);
  });
});

describe('runtime-only features without a runtime', () => {
  it('logs, exec and metrics say the pod is not running on a node of this app', async () => {
    await h.cluster.client.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'nowhere', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'x' }] } });
    const opened = await h.call('logs.open', { namespace: 'default', pod: 'nowhere', follow: true });
    expect(opened.sources).toEqual([]);
    expect(opened.errors[0]!.message).toMatch(/not running on a node of this app/);
    const e = await failure(h.call('exec.open', { namespace: 'default', pod: 'nowhere', cols: 80, rows: 24 }));
    expect(e.reason).toBe('Unavailable');
    const m = await h.call('metrics.subscribe', { target: { type: 'pod', namespace: 'default', name: 'nowhere' } });
    expect(m.series).toMatchObject({ type: 'usage', points: [] });
    await h.call('metrics.unsubscribe', { subscriptionId: m.subscriptionId });
    expect(await h.call('images.list', {})).toEqual([]);
    expect(await h.call('pull.progress', { namespace: 'default', pod: 'nowhere' })).toEqual([]);
    expect((await failure(h.call('pull.progress', { namespace: 'default', pod: 'ghost' }))).reason).toBe('NotFound');
  });

  it('kubeconfig.merge says why when the app serves no Kubernetes API', async () => {
    expect((await h.call('cluster.info', {})).kubeconfig).toBeUndefined();
    const e = await failure(h.call('kubeconfig.merge', {}));
    expect(e.reason).toBe('Unavailable');
    expect(e.message).toMatch(/no kubeconfig to merge/);
  });

  it('port-forward refuses a pod that is not running', async () => {
    const e = await failure(h.call('portForward.open', { namespace: 'default', pod: 'nowhere', port: 80 }));
    expect(e.message).toMatch(/is not running/);
    expect(await h.call('portForward.list', {})).toEqual([]);
  });

  it('port-forward to a Service follows its ready endpoints and closes when the Service goes', async () => {
    const servers: Server[] = [];
    const backend = async (reply: string) => {
      const srv = createServer((c) => c.end(reply));
      await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
      servers.push(srv);
      return (srv.address() as any).port as number;
    };
    const a = await backend('A');
    const b = await backend('B');
    const read = (port: number) =>
      new Promise<string>((resolve, reject) => {
        const c = connect(port, '127.0.0.1');
        let d = '';
        c.on('data', (x) => (d += x));
        c.on('close', () => resolve(d));
        c.on('error', reject);
      });
    const c = h.cluster.client;
    await c.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'pf-svc', namespace: 'default' }, spec: { ports: [{ name: 'http', port: 80 }] } } as KubeObject);
    expect((await failure(h.call('portForward.open', { namespace: 'default', service: 'pf-svc', port: 81 }))).message).toBe('service default/pf-svc has no TCP port 81 (its ports: 80/TCP)');
    expect((await failure(h.call('portForward.open', { namespace: 'default', port: 80 }))).message).toMatch(/exactly one of pod and service/);
    const ep = await c.create({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'pf-svc', namespace: 'default' }, subsets: [{ addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'http', port: a }] }] } as KubeObject);
    const f = await h.call('portForward.open', { namespace: 'default', service: 'pf-svc', port: 80 });
    expect(f).toMatchObject({ service: 'pf-svc', port: 80 });
    expect(f.pod).toBeUndefined();
    expect(await read(f.localPort)).toBe('A');
    // The pod behind it is replaced: the same forward now reaches the new one.
    await c.update({ ...ep, subsets: [{ addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'http', port: b }] }] });
    expect(await read(f.localPort)).toBe('B');
    await c.delete({ apiVersion: 'v1', kind: 'Service', namespace: 'default', name: 'pf-svc' });
    await until(() => h.eventsOf('portForward.closed').some((e) => e.id === f.id), 'the forward to close');
    expect(h.eventsOf('portForward.closed').find((e) => e.id === f.id)!.reason).toBe('service default/pf-svc was deleted');
    for (const srv of servers) srv.close();
  });
});

describe('sessions', () => {
  it('closing a session closes its watches and refuses further calls', async () => {
    const events: Array<keyof DesktopEvents> = [];
    const s = h.host.openSession((e) => events.push(e));
    await s.call('resources.watch', { kind: 'Namespace' });
    s.close();
    await h.cluster.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'after-close' } });
    await new Promise((r) => setTimeout(r, 400));
    expect(events).toEqual([]);
    await expect(s.call('cluster.info', {})).rejects.toMatchObject({ reason: 'Unavailable' });
  });

  it('limits how many watches one window opens', async () => {
    const s = h.host.openSession(() => {});
    for (let i = 0; i < 64; i++) await s.call('resources.watch', { kind: 'Namespace' });
    await expect(s.call('resources.watch', { kind: 'Namespace' })).rejects.toMatchObject({ reason: 'TooManyRequests' });
    s.close();
  });
});
