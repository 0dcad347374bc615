import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRequest } from '../../../core/server/http/router.ts';
import { forbidden, ruleAllows } from '../../../core/server/http/rbac.ts';
import { humanDuration, toTable } from '../../../core/server/http/table.ts';
import { aggregatedDiscovery, apiResourceList, wantsAggregated } from '../../../core/server/http/discovery.ts';
import { decodeKubernetesProtobuf } from '../../../core/server/http/protobuf.ts';
import { ensureTls } from '../../../core/server/http/tls.ts';
import { mergeIntoKubeconfig } from '../../../core/server/http/kubeconfig.ts';
import { checkFields, unknownFields } from '../../../core/server/http/field-validation.ts';
import { negotiate } from '../../../core/server/http/respond.ts';
import { openapiV3, openapiV3Root } from '../../../core/server/http/openapi.ts';
import type { KubeObject } from '../../../core/api/types.ts';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'wh-http-unit-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('router', () => {
  const q = (s = '') => new URLSearchParams(s);
  it('parses resource paths into verbs', () => {
    expect(parseRequest('GET', '/api/v1/namespaces/dev/pods', q())).toMatchObject({ isResource: true, verb: 'list', namespace: 'dev', resource: 'pods', name: '' });
    expect(parseRequest('GET', '/api/v1/namespaces/dev/pods', q('watch=true')).verb).toBe('watch');
    expect(parseRequest('GET', '/api/v1/watch/namespaces/dev/pods/web', q())).toMatchObject({ verb: 'watch', name: 'web' });
    expect(parseRequest('GET', '/api/v1/namespaces/dev/pods/web/log', q())).toMatchObject({ verb: 'get', subresource: 'log', name: 'web' });
    expect(parseRequest('DELETE', '/apis/apps/v1/namespaces/dev/deployments', q())).toMatchObject({ verb: 'deletecollection', apiGroup: 'apps' });
    expect(parseRequest('PUT', '/apis/apps/v1/namespaces/dev/deployments/web/scale', q())).toMatchObject({ verb: 'update', subresource: 'scale' });
    expect(parseRequest('GET', '/api/v1/namespaces/dev', q())).toMatchObject({ resource: 'namespaces', name: 'dev', namespace: 'dev', verb: 'get' });
    expect(parseRequest('PUT', '/api/v1/namespaces/dev/finalize', q())).toMatchObject({ resource: 'namespaces', name: 'dev', subresource: 'finalize' });
    expect(parseRequest('GET', '/apis/apps/v1', q()).isResource).toBe(false);
    expect(parseRequest('GET', '/healthz', q()).isResource).toBe(false);
  });
});

describe('rbac rules and wording', () => {
  const user = { username: 'system:serviceaccount:dev:app', groups: ['system:serviceaccounts', 'system:authenticated'] };
  it('matches verbs, groups, subresources, names and URLs', () => {
    const a = { user, verb: 'get', isResource: true, apiGroup: '', resource: 'pods', subresource: 'log', namespace: 'dev', name: 'web' };
    expect(ruleAllows({ verbs: ['get'], apiGroups: [''], resources: ['pods'] }, a)).toBe(false);
    expect(ruleAllows({ verbs: ['get'], apiGroups: [''], resources: ['pods/log'] }, a)).toBe(true);
    expect(ruleAllows({ verbs: ['*'], apiGroups: ['*'], resources: ['*/log'] }, a)).toBe(true);
    expect(ruleAllows({ verbs: ['get'], apiGroups: [''], resources: ['pods/log'], resourceNames: ['other'] }, a)).toBe(false);
    expect(ruleAllows({ verbs: ['get'], apiGroups: ['apps'], resources: ['pods/log'] }, a)).toBe(false);
    expect(ruleAllows({ verbs: ['get'], nonResourceURLs: ['/apis/*'] }, { user, verb: 'get', isResource: false, path: '/apis/apps' })).toBe(true);
  });
  it('words denials as kube-apiserver', () => {
    expect(forbidden({ user, verb: 'list', isResource: true, apiGroup: '', resource: 'pods', namespace: 'prod' }).message).toBe(
      'pods is forbidden: User "system:serviceaccount:dev:app" cannot list resource "pods" in API group "" in the namespace "prod"',
    );
    const e = forbidden({ user, verb: 'get', isResource: true, apiGroup: 'apps', resource: 'deployments', subresource: 'scale', name: 'web', namespace: 'prod' });
    expect(e.message).toBe('deployments.apps "web" is forbidden: User "system:serviceaccount:dev:app" cannot get resource "deployments/scale" in API group "apps" in the namespace "prod"');
    expect(e.code).toBe(403);
    expect(forbidden({ user, verb: 'list', isResource: true, apiGroup: '', resource: 'nodes' }).message).toContain('at the cluster scope');
    expect(forbidden({ user, verb: 'get', isResource: false, path: '/metrics' }).message).toBe('forbidden: User "system:serviceaccount:dev:app" cannot get path "/metrics"');
  });
});

describe('tables', () => {
  it('formats ages as kubectl', () => {
    expect(humanDuration(5_000)).toBe('5s');
    expect(humanDuration(150_000)).toBe('2m30s');
    expect(humanDuration(3 * 3600_000 + 20 * 60_000)).toBe('3h20m');
    expect(humanDuration(3 * 86400_000)).toBe('3d');
    expect(humanDuration(400 * 86400_000)).toBe('400d');
  });
  it('prints pod status as kubectl does', () => {
    const now = Date.parse('2026-01-01T00:10:00Z');
    const pod = (status: any, extra: any = {}): KubeObject => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', creationTimestamp: '2026-01-01T00:00:00Z', ...extra },
      spec: { nodeName: 'n1', containers: [{ name: 'a' }, { name: 'b' }] },
      status,
    });
    const row = (p: KubeObject) => toTable('Pod', [p], {}, 'None', now).rows[0]!.cells;
    expect(row(pod({ phase: 'Pending' }))).toEqual(['p', '0/2', 'Pending', '0', '10m', '<none>', 'n1', '<none>', '<none>']);
    const running = { phase: 'Running', podIP: '10.0.0.5', containerStatuses: [
      { name: 'a', ready: true, restartCount: 0, state: { running: {} } },
      { name: 'b', ready: false, restartCount: 2, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { finishedAt: '2026-01-01T00:09:00Z' } } },
    ] };
    expect(row(pod(running)).slice(0, 6)).toEqual(['p', '1/2', 'CrashLoopBackOff', '2 (60s ago)', '10m', '10.0.0.5']);
    expect(row(pod({ phase: 'Running' }, { deletionTimestamp: '2026-01-01T00:10:00Z' }))[2]).toBe('Terminating');
    const t = toTable('Deployment', [], { resourceVersion: '5' });
    expect(t.columnDefinitions.map((c) => c.name)).toEqual(['Name', 'Ready', 'Up-to-date', 'Available', 'Age', 'Containers', 'Images', 'Selector']);
  });
});

describe('discovery', () => {
  it('negotiates the aggregated format exactly', () => {
    expect(wantsAggregated('application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json')?.version).toBe('v2beta1');
    expect(wantsAggregated('application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList')?.version).toBe('v2');
    expect(wantsAggregated('application/json')).toBeUndefined();
  });
  it('lists resources with verbs, short names, categories and subresources', () => {
    const core = aggregatedDiscovery('api', 'v2');
    const pods = core.items[0]!.versions[0]!.resources.find((r) => r.resource === 'pods')!;
    expect(pods).toMatchObject({ scope: 'Namespaced', shortNames: ['po'], categories: ['all'] });
    expect(pods.subresources!.map((s) => s.subresource)).toEqual(expect.arrayContaining(['log', 'exec', 'eviction', 'binding', 'status']));
    const apps = apiResourceList('apps', 'v1')!;
    expect(apps.resources).toContainEqual(expect.objectContaining({ name: 'deployments/scale', group: 'autoscaling', version: 'v1', kind: 'Scale' }));
    expect(apiResourceList('apps', 'v1beta1')).toBeUndefined();
  });
});

describe('content negotiation', () => {
  it('answers JSON to protobuf-first clients and 406 to protobuf-only ones', () => {
    expect(negotiate('application/vnd.kubernetes.protobuf,application/json').encoding).toBe('json');
    expect(negotiate('application/json;as=Table;v=v1;g=meta.k8s.io,application/json').encoding).toBe('table');
    expect(() => negotiate('application/vnd.kubernetes.protobuf')).toThrow(/only the following media types are accepted/);
  });
});

describe('protobuf bodies', () => {
  const v = (n: number) => {
    const out: number[] = [];
    while (n > 0x7f) {
      out.push((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    out.push(n);
    return Buffer.from(out);
  };
  const f = (n: number, b: Buffer | string) => {
    const buf = typeof b === 'string' ? Buffer.from(b) : b;
    return Buffer.concat([v(n * 8 + 2), v(buf.length), buf]);
  };
  const i = (n: number, x: number) => Buffer.concat([v(n * 8), v(x)]);
  it('decodes a ConfigMap in the runtime.Unknown envelope', () => {
    const meta = Buffer.concat([f(1, 'cfg'), f(2, ''), f(3, 'dev'), f(11, Buffer.concat([f(1, 'app'), f(2, 'web')]))]);
    const raw = Buffer.concat([f(1, meta), f(2, Buffer.concat([f(1, 'k'), f(2, 'v')])), i(4, 1)]);
    const envelope = Buffer.concat([Buffer.from('k8s\0', 'binary'), f(1, Buffer.concat([f(1, 'v1'), f(2, 'ConfigMap')])), f(2, raw)]);
    const { object, unknown } = decodeKubernetesProtobuf(envelope);
    expect(object).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'dev', labels: { app: 'web' } }, data: { k: 'v' }, immutable: true });
    expect(unknown).toEqual([]);
  });
  it('rejects kinds it has no table for with 415', () => {
    const envelope = Buffer.concat([Buffer.from('k8s\0', 'binary'), f(1, Buffer.concat([f(1, 'v1'), f(2, 'Widget')])), f(2, Buffer.alloc(0))]);
    expect(() => decodeKubernetesProtobuf(envelope)).toThrow(/not supported/);
  });
});

describe('field validation and OpenAPI', () => {
  it('finds unknown fields by schema', () => {
    const d = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x', labels: { a: 'b' } }, spec: { replica: 1, template: { spec: { containers: [{ name: 'c', image: 'i', imagePullPolicy: 'Always', bogus: 1 }] } } } };
    expect(unknownFields(d, 'apps/v1', 'Deployment')).toEqual(['spec.replica', 'spec.template.spec.containers[0].bogus']);
    expect(() => checkFields(d, 'apps/v1', 'Deployment', 'Strict')).toThrow('Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.replica", unknown field "spec.template.spec.containers[0].bogus"');
    expect(checkFields(d, 'apps/v1', 'Deployment', 'Warn')).toHaveLength(2);
    expect(unknownFields({ spec: { $setElementOrder: [], replicas: 2 } }, 'apps/v1', 'Deployment', { patch: true })).toEqual([]);
  });
  it('serves v3 documents with the fieldValidation parameter and GVK extensions', () => {
    const root = openapiV3Root() as { paths: Record<string, { serverRelativeURL: string }> };
    expect(root.paths['apis/apps/v1']!.serverRelativeURL).toMatch(/^\/openapi\/v3\/apis\/apps\/v1\?hash=[0-9A-F]+$/);
    const doc = JSON.parse(openapiV3('apis/apps/v1')!.body);
    const patch = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'].patch;
    expect(patch['x-kubernetes-group-version-kind']).toEqual({ group: 'apps', version: 'v1', kind: 'Deployment' });
    expect(patch.parameters.map((p: any) => p.name)).toContain('fieldValidation');
    const replicas = doc.components.schemas['io.k8s.api.apps.v1.DeploymentSpec'].properties.replicas;
    expect(replicas).toMatchObject({ type: 'integer', description: expect.stringContaining('Number of desired pods') });
    const containers = doc.components.schemas['io.k8s.api.core.v1.PodSpec'].properties.containers;
    expect(containers).toMatchObject({ 'x-kubernetes-patch-merge-key': 'name', 'x-kubernetes-patch-strategy': 'merge' });
  });
});

describe('tls', () => {
  it('makes a CA and a server certificate that verifies and covers loopback', () => {
    const dir = tmp();
    const m = ensureTls(dir, ['127.0.0.1', 'wheelhouse.local']);
    const ca = new X509Certificate(m.caPem);
    const cert = new X509Certificate(m.certPem);
    expect(ca.ca).toBe(true);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.checkIP('::1')).toBe('::1');
    expect(cert.checkHost('localhost')).toBe('localhost');
    expect(cert.checkHost('wheelhouse.local')).toBe('wheelhouse.local');
    expect(statSync(join(dir, 'tls', 'server.key')).mode & 0o777).toBe(0o600);
    // Kept across starts; remade (same CA) for a new name.
    expect(ensureTls(dir, ['127.0.0.1', 'wheelhouse.local']).certPem).toBe(m.certPem);
    const again = ensureTls(dir, ['10.0.0.7']);
    expect(again.caPem).toBe(m.caPem);
    expect(new X509Certificate(again.certPem).checkIP('10.0.0.7')).toBe('10.0.0.7');
  });
});

describe('kubeconfig merge', () => {
  it('adds the wheelhouse context and keeps the others', () => {
    const path = join(tmp(), 'config');
    writeFileSync(path, 'apiVersion: v1\nkind: Config\nclusters: [{name: prod, cluster: {server: "https://prod:6443"}}]\nusers: [{name: me, user: {token: t}}]\ncontexts: [{name: prod, context: {cluster: prod, user: me}}]\ncurrent-context: prod\n');
    const r = mergeIntoKubeconfig({ server: 'https://127.0.0.1:1234', token: 'abc', caPem: 'PEM' }, { path });
    expect(r.context).toBe('wheelhouse');
    const cfg = parse(readFileSync(path, 'utf8'));
    expect(cfg['current-context']).toBe('prod');
    expect(cfg.contexts.map((c: any) => c.name)).toEqual(['prod', 'wheelhouse']);
    expect(cfg.users.find((u: any) => u.name === 'wheelhouse').user.token).toBe('abc');
    mergeIntoKubeconfig({ server: 'https://127.0.0.1:999', token: 'def' }, { path, makeCurrent: true });
    const again = parse(readFileSync(path, 'utf8'));
    expect(again.clusters).toHaveLength(2);
    expect(again['current-context']).toBe('wheelhouse');
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });
});

describe('server-side apply field sets', () => {
  it('records keyed list items and removes what is no longer applied', async () => {
    const { fieldSet, removeDropped } = await import('../../../core/server/http/ssa.ts');
    const v1 = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'w', labels: { a: '1' } }, spec: { template: { spec: { containers: [{ name: 'web', image: 'x', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] }] } } } };
    const before = fieldSet('Deployment', v1);
    expect(before['f:spec']['f:template']['f:spec']['f:containers']['k:{"name":"web"}']['f:env']).toHaveProperty('k:{"name":"B"}');
    const v2 = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'w' }, spec: { template: { spec: { containers: [{ name: 'web', image: 'x', env: [{ name: 'A', value: '1' }] }] } } } };
    const live: any = structuredClone(v1);
    live.metadata.labels.other = 'x';
    live.spec.template.spec.containers[0].env.push({ name: 'C', value: 'theirs' });
    removeDropped(live, before, fieldSet('Deployment', v2));
    expect(live.metadata.labels).toEqual({ other: 'x' });
    expect(live.spec.template.spec.containers[0].env.map((e: any) => e.name)).toEqual(['A', 'C']);
  });
});
