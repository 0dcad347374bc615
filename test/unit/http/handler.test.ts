import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../../core/store/index.ts';
import { ApiServer } from '../../../core/server/api-server.ts';
import { startApiHttpServer, type ApiHttpServer } from '../../../core/server/http/server.ts';

describe('Kubernetes REST handler', () => {
  let dir: string;
  let store: Store;
  let api: ApiServer;
  let server: ApiHttpServer;
  const call = async (method: string, path: string, opts: { body?: unknown; type?: string; token?: string | null; accept?: string; headers?: Record<string, string> } = {}) => {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (opts.token !== null) headers.Authorization = `Bearer ${opts.token ?? server.adminToken}`;
    if (opts.accept) headers.Accept = opts.accept;
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
      headers['Content-Type'] = opts.type ?? 'application/json';
    }
    const res = await fetch(server.url + path, { method, headers, body });
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text, headers: res.headers };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wh-handler-'));
    store = await openStore('memory:');
    api = new ApiServer({ store });
    await api.bootstrap();
    server = await startApiHttpServer({ api, dataDir: dir, tls: false });
    await api.create({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } } } });
  });
  afterAll(async () => {
    await server?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the admin token and kubeconfig private', () => {
    expect(statSync(join(dir, 'admin-token')).mode & 0o777).toBe(0o600);
    expect(statSync(server.kubeconfigPath).mode & 0o777).toBe(0o600);
  });

  it('answers health and version without a token, everything else needs one', async () => {
    expect((await call('GET', '/healthz', { token: null })).text).toBe('ok');
    expect((await call('GET', '/readyz', { token: null })).status).toBe(200);
    expect((await call('GET', '/version', { token: null })).json.gitVersion).toBe('v1.30.0-wheelhouse');
    const r = await call('GET', '/api/v1/pods', { token: null });
    expect(r.status).toBe(401);
    expect(r.json).toMatchObject({ kind: 'Status', reason: 'Unauthorized', message: 'Unauthorized', code: 401 });
    expect((await call('GET', '/api/v1/pods', { token: 'forged.token.value' })).status).toBe(401);
  });

  it('serves Status errors with Kubernetes reasons and codes', async () => {
    const nf = await call('GET', '/api/v1/namespaces/default/configmaps/nope');
    expect(nf.json).toMatchObject({ reason: 'NotFound', code: 404, message: 'configmaps "nope" not found', details: { name: 'nope', kind: 'configmaps' } });
    expect((await call('GET', '/apis/apps/v1beta1/deployments')).json).toMatchObject({ reason: 'NotFound', code: 404 });
    expect((await call('GET', '/api/v1/widgets')).status).toBe(404);
    const big = await call('POST', '/api/v1/namespaces/default/configmaps', { body: JSON.stringify({ data: { x: 'a'.repeat(3 * 1024 * 1024) } }) });
    expect(big.json).toMatchObject({ reason: 'RequestEntityTooLarge', code: 413 });
    const na = await call('GET', '/api/v1/namespaces', { accept: 'application/vnd.kubernetes.protobuf' });
    expect(na.json).toMatchObject({ reason: 'NotAcceptable', code: 406 });
    const mt = await call('PATCH', '/apis/apps/v1/namespaces/default/deployments/web', { body: '{}', type: 'text/x-weird' });
    expect(mt.json).toMatchObject({ reason: 'UnsupportedMediaType', code: 415 });
    const inv = await call('POST', '/api/v1/namespaces/default/configmaps', { body: { metadata: { name: 'Bad_Name' } } });
    expect(inv.json).toMatchObject({ reason: 'Invalid', code: 422 });
    const dry = await call('POST', '/api/v1/namespaces/default/configmaps?dryRun=Maybe', { body: { metadata: { name: 'x' } } });
    expect(dry.json).toMatchObject({ reason: 'BadRequest', code: 400 });
  });

  it('creates with dryRun=All without storing', async () => {
    const r = await call('POST', '/api/v1/namespaces/default/configmaps?dryRun=All', { body: { metadata: { name: 'ghost' } } });
    expect(r.status).toBe(201);
    expect((await call('GET', '/api/v1/namespaces/default/configmaps/ghost')).status).toBe(404);
  });

  it('serves the scale subresource', async () => {
    const s = await call('GET', '/apis/apps/v1/namespaces/default/deployments/web/scale');
    expect(s.json).toMatchObject({ kind: 'Scale', apiVersion: 'autoscaling/v1', spec: { replicas: 1 }, status: { selector: 'app=web' } });
    const p = await call('PATCH', '/apis/apps/v1/namespaces/default/deployments/web/scale', { body: { spec: { replicas: 4 } }, type: 'application/merge-patch+json' });
    expect(p.json.spec.replicas).toBe(4);
    const neg = await call('PUT', '/apis/apps/v1/namespaces/default/deployments/web/scale', { body: { kind: 'Scale', apiVersion: 'autoscaling/v1', metadata: { name: 'web' }, spec: { replicas: -1 } } });
    expect(neg.json).toMatchObject({ reason: 'Invalid', code: 422 });
    expect((await api.get<any>({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'web' })).spec.replicas).toBe(4);
  });

  it('binds and evicts pods', async () => {
    await api.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p1', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
    const b = await call('POST', '/api/v1/namespaces/default/pods/p1/binding', { body: { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p1' }, target: { kind: 'Node', name: 'n1' } } });
    expect(b.json).toMatchObject({ kind: 'Status', status: 'Success', code: 201 });
    const e = await call('POST', '/api/v1/namespaces/default/pods/p1/eviction', { body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'p1' }, deleteOptions: { gracePeriodSeconds: 0 } } });
    expect(e.status).toBe(201);
    expect((await call('GET', '/api/v1/namespaces/default/pods/p1')).status).toBe(404);
  });

  it('deletes collections by label', async () => {
    for (const [n, l] of [['a', 'x'], ['b', 'x'], ['c', 'y']]) {
      await api.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `dc-${n}`, namespace: 'default', labels: { grp: l! } } });
    }
    const r = await call('DELETE', '/api/v1/namespaces/default/configmaps?labelSelector=grp%3Dx');
    expect(r.json.items.map((i: any) => i.metadata.name)).toEqual(['dc-a', 'dc-b']);
    const left = await call('GET', '/api/v1/namespaces/default/configmaps?labelSelector=grp');
    expect(left.json.items.map((i: any) => i.metadata.name)).toEqual(['dc-c']);
  });

  it('streams watches as JSON lines and ends them at timeoutSeconds', async () => {
    const list = await call('GET', '/api/v1/namespaces/default/configmaps');
    const rv = list.json.metadata.resourceVersion;
    const pending = call('GET', `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${rv}&timeoutSeconds=1`, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
    await new Promise((r) => setTimeout(r, 100));
    await api.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'streamed', namespace: 'default' }, data: { a: 'b' } });
    const r = await pending;
    const events = r.text.trim().split('\n').map((l) => JSON.parse(l));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'ADDED', object: { kind: 'Table', rows: [{ cells: ['streamed', 1, expect.any(String)] }] } });
  });

  it('issues ServiceAccount tokens that stop working when the account is deleted', async () => {
    await api.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'bot', namespace: 'default' } });
    const t = await call('POST', '/api/v1/namespaces/default/serviceaccounts/bot/token', { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } } });
    expect(t.status).toBe(201);
    const token = t.json.status.token as string;
    const who = await call('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { token, body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } });
    expect(who.json.status.userInfo.username).toBe('system:serviceaccount:default:bot');
    const denied = await call('GET', '/api/v1/namespaces/default/secrets', { token });
    expect(denied.json.message).toBe('secrets is forbidden: User "system:serviceaccount:default:bot" cannot list resource "secrets" in API group "" in the namespace "default"');
    const imp = await call('GET', '/api/v1/namespaces/default/pods', { token, headers: { 'Impersonate-User': 'admin' } });
    expect(imp.json.message).toContain('cannot impersonate resource "users"');
    await api.delete({ apiVersion: 'v1', kind: 'ServiceAccount', namespace: 'default', name: 'bot' });
    expect((await call('GET', '/api/v1/namespaces/default/pods', { token })).status).toBe(401); // at once: nothing is cached
  });

  it('answers access reviews from RBAC', async () => {
    const r = await call('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb: 'list', resource: 'pods', namespace: 'x' } } },
      headers: { 'Impersonate-User': 'system:serviceaccount:x:y' },
    });
    expect(r.json.status.allowed).toBe(false);
    const ok = await call('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb: 'create', group: 'authorization.k8s.io', resource: 'selfsubjectaccessreviews' } } },
      headers: { 'Impersonate-User': 'system:serviceaccount:x:y' },
    });
    expect(ok.json.status.allowed).toBe(true);
  });
});
