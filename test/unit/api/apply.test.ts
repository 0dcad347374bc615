import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, expect, it } from 'vitest';
import { ApplyError, LAST_APPLIED_ANNOTATION, applyManifests, lastAppliedOf } from '../../../core/api/apply.ts';
import { ApiError, Inv, alreadyExists, conflict, invalid, notFound, type FieldError } from '../../../core/api/errors.ts';
import { lookupKind } from '../../../core/api/kinds.ts';
import type { KubeList, KubeObject } from '../../../core/api/types.ts';
import { ImportError, parseManifests } from '../../../core/api/yaml-import.ts';
import type { Client, DeleteOptions, KindRef, ObjectRef, WriteOptions } from '../../../core/client/client.ts';

const fixture = (name: string) => readFileSync(fileURLToPath(new URL(`../../fixtures/yaml/${name}`, import.meta.url)), 'utf8');

/**
 * An in-memory Client: objects by kind/namespace/name, a global revision as resourceVersion,
 * Conflict on a stale resourceVersion, namespaces must exist for namespaced objects, dryRun
 * persists nothing, and a hook plays the admission chain.
 */
class FakeClient implements Client {
  readonly objects = new Map<string, KubeObject>();
  readonly writes: string[] = [];
  private rev = 0;
  /** Throw from here to reject a write (quota, policy …). Runs for dry runs too. */
  admit: (op: 'create' | 'update', obj: KubeObject, dryRun: boolean) => void = () => {};
  /** Runs before a real update is committed (simulate a concurrent writer). */
  beforeUpdate: (obj: KubeObject) => void = () => {};

  constructor(namespaces = ['default']) {
    for (const name of namespaces) this.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }

  private key(kind: string, ns: string | undefined, name: string): string {
    const info = lookupKind('v1', kind) ?? [...['apps/v1', 'batch/v1']].map((v) => lookupKind(v, kind)).find(Boolean);
    return info?.namespaced ? `${kind}/${ns ?? 'default'}/${name}` : `${kind}//${name}`;
  }

  private keyOf(obj: KubeObject): string {
    return this.key(obj.kind, obj.metadata.namespace, obj.metadata.name!);
  }

  /** Store directly (a controller's write), bumping the revision. */
  put(obj: KubeObject): KubeObject {
    const stored = structuredClone(obj);
    stored.metadata.resourceVersion = String(++this.rev);
    stored.metadata.uid ??= `uid-${this.rev}`;
    const info = lookupKind(obj.apiVersion, obj.kind)!;
    if (info.namespaced) stored.metadata.namespace ??= 'default';
    this.objects.set(this.keyOf(stored), stored);
    return structuredClone(stored);
  }

  find(kind: string, ns: string | undefined, name: string): KubeObject | undefined {
    const o = this.objects.get(this.key(kind, ns, name));
    return o && structuredClone(o);
  }

  async create<T extends KubeObject>(obj: T, opts: WriteOptions = {}): Promise<T> {
    const info = lookupKind(obj.apiVersion, obj.kind)!;
    const o = structuredClone(obj) as KubeObject;
    if (!o.metadata.name && o.metadata.generateName) o.metadata.name = `${o.metadata.generateName}${this.rev + 1}x`;
    const target = { kind: info.kind, group: info.group, name: o.metadata.name };
    if (info.namespaced && !this.objects.has(this.key('Namespace', undefined, o.metadata.namespace ?? 'default'))) {
      throw notFound({ kind: 'Namespace', name: o.metadata.namespace }, 'namespaces');
    }
    if (o.kind === 'Deployment' && o.spec?.replicas < 0) throw invalid(target, [Inv('spec.replicas', o.spec.replicas, 'must be greater than or equal to 0')]);
    this.admit('create', o, !!opts.dryRun);
    if (this.objects.has(this.keyOf(o))) throw alreadyExists(target, info.plural);
    if (opts.dryRun) return o as T;
    this.writes.push(`create ${this.keyOf(o)}`);
    return this.put(o) as T;
  }

  async get<T extends KubeObject = KubeObject>(ref: ObjectRef): Promise<T> {
    const o = this.find(ref.kind, ref.namespace, ref.name);
    if (!o) throw notFound({ kind: ref.kind, name: ref.name });
    return o as T;
  }

  async list<T extends KubeObject = KubeObject>(ref: KindRef): Promise<KubeList<T>> {
    const items = [...this.objects.values()].filter((o) => o.kind === ref.kind) as T[];
    return { apiVersion: ref.apiVersion, kind: `${ref.kind}List`, metadata: { resourceVersion: String(this.rev) }, items };
  }

  async update<T extends KubeObject>(obj: T, opts: WriteOptions = {}): Promise<T> {
    const info = lookupKind(obj.apiVersion, obj.kind)!;
    const target = { kind: info.kind, group: info.group, name: obj.metadata.name };
    const old = this.objects.get(this.keyOf(obj));
    if (!old) throw notFound(target);
    if (obj.metadata.resourceVersion && obj.metadata.resourceVersion !== old.metadata.resourceVersion) {
      throw conflict(target, 'the object has been modified; please apply your changes to the latest version and try again');
    }
    this.admit('update', obj, !!opts.dryRun);
    const { resourceVersion: _a, ...newMeta } = obj.metadata;
    const { resourceVersion: _b, ...oldMeta } = old.metadata;
    if (JSON.stringify({ ...obj, metadata: newMeta }) === JSON.stringify({ ...old, metadata: oldMeta })) return structuredClone(old) as T;
    if (opts.dryRun) return structuredClone(obj);
    this.beforeUpdate(obj);
    const now = this.objects.get(this.keyOf(obj))!;
    if (now.metadata.resourceVersion !== old.metadata.resourceVersion) {
      throw conflict(target, 'the object has been modified; please apply your changes to the latest version and try again');
    }
    this.writes.push(`update ${this.keyOf(obj)}`);
    return this.put(obj) as T;
  }

  async updateStatus<T extends KubeObject>(obj: T): Promise<T> {
    return this.put(obj) as T;
  }

  async patch<T extends KubeObject = KubeObject>(): Promise<T> {
    throw new ApiError('MethodNotAllowed', 'not used by apply');
  }

  async delete<T extends KubeObject = KubeObject>(ref: ObjectRef, _opts?: DeleteOptions): Promise<T> {
    const o = await this.get<T>(ref);
    this.objects.delete(this.key(ref.kind, ref.namespace, ref.name));
    return o;
  }

  watch(): never {
    throw new Error('not used by apply');
  }

  bind(): never {
    throw new Error('not used by apply');
  }
  evict(): never {
    throw new Error('not used by apply');
  }
}

function validate(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  if (obj.kind === 'Deployment' && obj.spec?.template?.spec?.containers?.some((c: { image?: string }) => !c.image)) {
    const i = obj.spec.template.spec.containers.findIndex((c: { image?: string }) => !c.image);
    errs.push({ field: `spec.template.spec.containers[${i}].image`, type: 'FieldValueRequired', message: 'Required value' });
  }
  return errs;
}

const deployment = (opts: { labels?: Record<string, string>; containers?: object[]; replicas?: number } = {}) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: ${JSON.stringify(opts.labels ?? { app: 'web', tier: 'front' })}
spec:
  replicas: ${opts.replicas ?? 2}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: ${JSON.stringify(opts.containers ?? [{ name: 'web', image: 'nginx:1' }])}
`;

async function apply(client: Client, text: string, extra: { dryRun?: boolean; namespace?: string } = {}) {
  return applyManifests(client, parseManifests(text, 'web.yaml'), { validate, ...extra });
}

async function importError(p: Promise<unknown>): Promise<ImportError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ImportError);
    return e as ImportError;
  }
  throw new Error('expected an ImportError');
}

describe('applyManifests', () => {
  let client: FakeClient;
  beforeEach(() => {
    client = new FakeClient();
  });

  it('creates every object, namespaces first, and records the last-applied configuration', async () => {
    const results = await apply(client, fixture('app.yaml').split('\n---\n').reverse().join('\n---\n'));
    expect(client.writes).toEqual([
      'create Namespace//shop',
      'create ConfigMap/shop/web-config',
      'create Service/shop/web',
      'create Deployment/shop/web',
    ]);
    // Results come back in document order.
    expect(results.map((r) => `${r.action} ${r.object}`)).toEqual([
      'created Service shop/web',
      'created Deployment shop/web',
      'created ConfigMap shop/web-config',
      'created Namespace shop',
    ]);
    const live = client.find('Deployment', 'shop', 'web')!;
    const annotation = live.metadata.annotations![LAST_APPLIED_ANNOTATION]!;
    expect(annotation.endsWith('\n')).toBe(true);
    const last = JSON.parse(annotation);
    expect(last.metadata.annotations).toBeUndefined();
    expect(last).toEqual(parseManifests(fixture('app.yaml'), 'a.yaml')[2]!.object);
    expect(results[1]!.diff?.after.metadata.uid).toBeDefined();
  });

  it('puts namespaced objects without a namespace into default, or opts.namespace', async () => {
    await apply(client, deployment());
    expect(client.find('Deployment', 'default', 'web')).toBeDefined();
    const other = new FakeClient(['team']);
    const [r] = await apply(other, deployment(), { namespace: 'team' });
    expect(r).toMatchObject({ object: 'Deployment team/web', namespace: 'team', name: 'web', kind: 'Deployment', action: 'created' });
    expect(lastAppliedOf(other.find('Deployment', 'team', 'web')!)?.metadata.namespace).toBe('team');
  });

  it('re-applying the same manifests is unchanged and writes nothing', async () => {
    await apply(client, fixture('app.yaml'));
    const writes = client.writes.length;
    const again = await apply(client, fixture('app.yaml'));
    expect(again.map((r) => r.action)).toEqual(['unchanged', 'unchanged', 'unchanged', 'unchanged']);
    expect(again[0]!.diff).toBeUndefined();
    expect(client.writes.length).toBe(writes);
  });

  it('removes a label dropped from the manifest but keeps a label a controller added', async () => {
    await apply(client, deployment({ labels: { app: 'web', tier: 'front' } }));
    const live = client.find('Deployment', 'default', 'web')!;
    live.metadata.labels!['controller.example/managed'] = 'true';
    live.status = { replicas: 2 };
    client.put(live);
    const [r] = await apply(client, deployment({ labels: { app: 'web' } }));
    expect(r!.action).toBe('configured');
    const after = client.find('Deployment', 'default', 'web')!;
    expect(after.metadata.labels).toEqual({ app: 'web', 'controller.example/managed': 'true' });
    expect(after.status).toEqual({ replicas: 2 });
    expect(r!.diff?.before?.metadata.labels?.tier).toBe('front');
    expect(r!.diff?.after.metadata.labels?.tier).toBeUndefined();
  });

  it('merges containers by name: an injected sidecar survives, a container dropped from the manifest goes', async () => {
    await apply(client, deployment({ containers: [{ name: 'web', image: 'nginx:1' }, { name: 'old', image: 'busybox' }] }));
    const live = client.find('Deployment', 'default', 'web')!;
    live.spec.template.spec.containers.push({ name: 'mesh-proxy', image: 'envoy' });
    live.spec.template.spec.containers[0].imagePullPolicy = 'IfNotPresent';
    client.put(live);
    await apply(client, deployment({ containers: [{ name: 'web', image: 'nginx:2' }] }));
    expect(client.find('Deployment', 'default', 'web')!.spec.template.spec.containers).toEqual([
      { name: 'web', image: 'nginx:2', imagePullPolicy: 'IfNotPresent' },
      { name: 'mesh-proxy', image: 'envoy' },
    ]);
  });

  it('is all-or-nothing: one invalid document of three and nothing is created', async () => {
    const text = [
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}',
      deployment({ containers: [{ name: 'web' }] }),
      'apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80}]}',
    ].join('\n---\n');
    const e = await importError(apply(client, text));
    expect(e.message).toBe('web.yaml: document 2 (Deployment default/web), line 16:20: spec.template.spec.containers[0].image: Required value');
    expect(client.writes).toEqual([]);
  });

  it('is all-or-nothing across the server: a dry-run rejection anywhere writes nothing, every problem listed', async () => {
    client.admit = (op, obj) => {
      if (obj.kind === 'Service') throw new ApiError('Forbidden', `services "${obj.metadata.name}" is forbidden: exceeded quota: services=1`);
    };
    const text = [
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}',
      deployment({ replicas: -1 }),
      'apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80}]}',
    ].join('\n---\n');
    const e = await importError(apply(client, text));
    expect(e.message.split('\n')).toEqual([
      '2 problems:',
      '  web.yaml: document 2 (Deployment default/web), line 11:3: spec.replicas: Invalid value: -1: must be greater than or equal to 0',
      '  web.yaml: document 3 (Service default/s), line 19:1: services "s" is forbidden: exceeded quota: services=1',
    ]);
    expect(client.writes).toEqual([]);
  });

  it('refuses duplicate objects in one import', async () => {
    const e = await importError(apply(client, `${deployment()}---\n${deployment()}`));
    expect(e.problems[0]!.message).toMatch(/Duplicate value: Deployment default\/web is also defined in document 1/);
    expect(client.writes).toEqual([]);
  });

  it('dry-runs a namespace and its content together even though the namespace does not exist yet', async () => {
    const text = `${deployment().replace('name: web', 'name: web\n  namespace: fresh')}---\napiVersion: v1\nkind: Namespace\nmetadata: {name: fresh}\n`;
    const results = await apply(client, text);
    expect(client.writes).toEqual(['create Namespace//fresh', 'create Deployment/fresh/web']);
    expect(results.map((r) => r.action)).toEqual(['created', 'created']);
  });

  it('still refuses a missing namespace that the import does not create', async () => {
    const e = await importError(apply(client, deployment().replace('name: web', 'name: web\n  namespace: nowhere')));
    expect(e.message).toMatch(/namespaces "nowhere" not found/);
  });

  it('dryRun: validates and dry-runs everything, writes nothing, reports what would happen', async () => {
    await apply(client, deployment());
    const results = await apply(client, `${deployment({ replicas: 5 })}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n`, { dryRun: true });
    expect(results.map((r) => `${r.action} ${r.object}`)).toEqual(['configured Deployment default/web', 'created ConfigMap default/c']);
    expect(results[0]!.diff?.after.spec.replicas).toBe(5);
    expect(client.find('Deployment', 'default', 'web')!.spec.replicas).toBe(2);
    expect(client.find('ConfigMap', 'default', 'c')).toBeUndefined();
  });

  it('retries on Conflict by re-reading and re-merging, keeping the concurrent change', async () => {
    await apply(client, deployment());
    let raced = false;
    client.beforeUpdate = () => {
      if (raced) return;
      raced = true;
      const live = client.find('Deployment', 'default', 'web')!;
      live.metadata.annotations = { ...live.metadata.annotations, 'deployment.kubernetes.io/revision': '2' };
      client.put(live);
    };
    const [r] = await apply(client, deployment({ replicas: 3 }));
    expect(r!.action).toBe('configured');
    const live = client.find('Deployment', 'default', 'web')!;
    expect(live.spec.replicas).toBe(3);
    expect(live.metadata.annotations!['deployment.kubernetes.io/revision']).toBe('2');
  });

  it('reports a failure after a clean dry run per object (ApplyError) and applies the rest', async () => {
    client.admit = (op, obj, dryRun) => {
      if (!dryRun && obj.kind === 'ConfigMap' && obj.metadata.name === 'b') throw new ApiError('Forbidden', 'configmaps "b" is forbidden: exceeded quota');
    };
    const text = ['a', 'b', 'c'].map((n) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${n}}\n`).join('---\n');
    let err: ApplyError | undefined;
    try {
      await apply(client, text);
    } catch (e) {
      err = e as ApplyError;
    }
    expect(err).toBeInstanceOf(ApplyError);
    expect(err!.results.map((r) => `${r.action} ${r.name}`)).toEqual(['created a', 'failed b', 'created c']);
    expect(err!.message.split('\n')).toEqual([
      '1 of 3 objects failed after a clean dry run; the others were applied:',
      '  web.yaml: document 2 (ConfigMap default/b), line 5:1: configmaps "b" is forbidden: exceeded quota',
    ]);
    expect(client.writes).toEqual(['create ConfigMap/default/a', 'create ConfigMap/default/c']);
  });

  it('applies over an object created without kubectl apply (no annotation): deletes nothing, adds the annotation', async () => {
    client.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' }, data: { a: '1', b: '2' } });
    const [r] = await apply(client, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: "9"}\n');
    expect(r!.action).toBe('configured');
    const live = client.find('ConfigMap', 'default', 'c')!;
    expect(live.data).toEqual({ a: '9', b: '2' });
    expect(lastAppliedOf(live)?.data).toEqual({ a: '9' });
  });

  it('ignores read-only metadata of an exported manifest and replaces a stale last-applied annotation', async () => {
    await apply(client, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: "1"}\n');
    const exported = `apiVersion: v1
kind: ConfigMap
metadata:
  name: c
  namespace: default
  resourceVersion: "1"
  uid: stale
  creationTimestamp: "2020-01-01T00:00:00Z"
  annotations:
    ${LAST_APPLIED_ANNOTATION}: '{"stale": true}'
data: {a: "1"}
`;
    const [r] = await apply(client, exported);
    expect(r!.action).toBe('unchanged');
  });

  it('creates generateName objects anew each time', async () => {
    const text = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {generateName: job-}\n';
    const [a] = await apply(client, text);
    const [b] = await apply(client, text);
    expect(a!.action).toBe('created');
    expect(a!.name).not.toBe(b!.name);
    expect(a!.name.startsWith('job-')).toBe(true);
  });
});
