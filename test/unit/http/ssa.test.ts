/**
 * Field ownership over HTTP, as kube-apiserver keeps it: Update entries for create/update/patch
 * (and the status and scale subresources), server-side apply's conflicts with other managers,
 * force, shared ownership and what an applier may remove.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../../core/store/index.ts';
import { ApiServer } from '../../../core/server/api-server.ts';
import type { ApiHttpServer } from '../../../core/server/http/server.ts';
import { openHttpApi, type HttpApi } from './http-api.ts';

const CM = '/api/v1/namespaces/default/configmaps';
const DEPLOY = '/apis/apps/v1/namespaces/default/deployments';
const APPLY = 'application/apply-patch+yaml';
const MERGE = 'application/merge-patch+json';

const deployment = (name: string, replicas: number, image = 'nginx:1.25') => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'web', image }] } },
  },
});

describe('managedFields and server-side apply conflicts over HTTP', () => {
  let dir: string;
  let store: Store;
  let api: ApiServer;
  let server: ApiHttpServer;
  const call = async (method: string, path: string, body?: unknown, type = 'application/json', headers: Record<string, string> = {}) => {
    const h: Record<string, string> = { Authorization: `Bearer ${server.adminToken}`, ...headers };
    if (body !== undefined) h['Content-Type'] = type;
    const res = await fetch(server.url + path, { method, headers: h, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  };
  const entries = async (path: string) => ((await call('GET', path)).json.metadata.managedFields ?? []) as any[];
  const entry = (list: any[], manager: string, operation = 'Update') => list.find((e) => e.manager === manager && e.operation === operation);

  let t: HttpApi | undefined;
  beforeAll(async () => {
    t = await openHttpApi('wh-ssa-');
    ({ dir, store, api, server } = t);
  });
  afterAll(() => t?.close());

  it('records an Update entry for a create: every field written, no server metadata', async () => {
    const r = await call('POST', `${CM}?fieldManager=alice`, { metadata: { name: 'c1', labels: { team: 'a' } }, data: { a: '1', b: '2' } });
    expect(r.status).toBe(201);
    expect(r.json.metadata.managedFields).toEqual([
      {
        manager: 'alice',
        operation: 'Update',
        apiVersion: 'v1',
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:data': { 'f:a': {}, 'f:b': {} }, 'f:metadata': { 'f:labels': { 'f:team': {} } } },
      },
    ]);
  });

  it('takes the manager from the User-Agent when there is no fieldManager', async () => {
    const ua = { 'User-Agent': 'kubectl/v1.30.0 (linux/amd64) kubernetes/abc1234' };
    const r = await call('POST', CM, { metadata: { name: 'c-ua' }, data: { a: '1' } }, 'application/json', ua);
    expect(r.json.metadata.managedFields.map((e: any) => e.manager)).toEqual(['kubectl']);
  });

  it('moves ownership of changed fields to the writer on update and patch; unchanged fields stay', async () => {
    const live = (await call('GET', `${CM}/c1`)).json;
    // A PUT without managedFields keeps the live ones (clients unaware of them do not wipe them).
    delete live.metadata.managedFields;
    live.data.a = 'changed';
    live.data.b = '2';
    expect((await call('PUT', `${CM}/c1?fieldManager=bob`, live)).status).toBe(200);
    let list = await entries(`${CM}/c1`);
    expect(entry(list, 'alice').fieldsV1).toEqual({ 'f:data': { 'f:b': {} }, 'f:metadata': { 'f:labels': { 'f:team': {} } } });
    expect(entry(list, 'bob').fieldsV1).toEqual({ 'f:data': { 'f:a': {} } });

    // A merge patch adds a field and removes one: bob's entry grows, alice loses what is gone.
    expect((await call('PATCH', `${CM}/c1?fieldManager=bob`, { data: { c: '3', b: null } }, MERGE)).status).toBe(200);
    list = await entries(`${CM}/c1`);
    expect(entry(list, 'alice').fieldsV1).toEqual({ 'f:metadata': { 'f:labels': { 'f:team': {} } } });
    expect(entry(list, 'bob').fieldsV1).toEqual({ 'f:data': { 'f:a': {}, 'f:c': {} } });

    // A manager whose last field is taken leaves managedFields.
    await call('PATCH', `${CM}/c1?fieldManager=carol`, { metadata: { labels: { team: 'b' } } }, MERGE);
    list = await entries(`${CM}/c1`);
    expect(list.map((e) => e.manager)).toEqual(['bob', 'carol']);
    expect(entry(list, 'carol').fieldsV1).toEqual({ 'f:metadata': { 'f:labels': { 'f:team': {} } } });

    // A patch that changes nothing changes no entry (and is no write).
    const before = (await call('GET', `${CM}/c1`)).json;
    await call('PATCH', `${CM}/c1?fieldManager=dave`, { data: { a: 'changed' } }, MERGE);
    expect((await call('GET', `${CM}/c1`)).json.metadata).toEqual(before.metadata);
  });

  it('takes managedFields a client sends as the new start; [{}] clears them', async () => {
    const live = (await call('GET', `${CM}/c1`)).json;
    live.metadata.managedFields = [{}];
    const r = await call('PUT', `${CM}/c1?fieldManager=bob`, live);
    expect(r.status).toBe(200);
    expect(r.json.metadata.managedFields).toBeUndefined();
  });

  it('survives malformed managedFields a client stored', async () => {
    const bad = [
      { manager: 'x', operation: 'Update', apiVersion: 'v1', fieldsV1: { 'f:data': 5, 'k:{bad': {}, ['__proto__']: { y: {} }, 'f:metadata': { 'f:labels': { 'k:[1]': 7 } } } },
      { manager: 7, operation: 'Apply', fieldsV1: {} },
      'nonsense',
      { manager: 'y', operation: 'Apply', fieldsV1: { 'f:data': { 'f:a': { 'k:{"name":1}': { '.': 3 } } } } },
    ];
    const r = await call('POST', `${CM}?fieldManager=z`, { metadata: { name: 'junk', managedFields: bad }, data: { a: '1' } });
    expect(r.status).toBe(201);
    expect((await call('PATCH', `${CM}/junk?fieldManager=z`, { data: { a: '2', b: '1' } }, MERGE)).status).toBe(200);
    const applied = await call('PATCH', `${CM}/junk?fieldManager=y`, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: junk}\ndata: {a: "3"}\n', APPLY);
    expect(applied.status).toBe(409);
    expect((await call('PATCH', `${CM}/junk?fieldManager=y&force=true`, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: junk}\ndata: {}\n', APPLY)).status).toBe(200);
    expect(({} as any).y).toBeUndefined();
  });

  it('records subresource writes with their subresource', async () => {
    await call('POST', `${DEPLOY}?fieldManager=creator`, deployment('sub', 2));
    const scale = (await call('GET', `${DEPLOY}/sub/scale`)).json;
    scale.spec.replicas = 4;
    expect((await call('PUT', `${DEPLOY}/sub/scale?fieldManager=scaler`, scale)).status).toBe(200);
    const d = (await call('GET', `${DEPLOY}/sub`)).json;
    d.status = { observedGeneration: 1 };
    expect((await call('PUT', `${DEPLOY}/sub/status?fieldManager=statuser`, d)).status).toBe(200);
    const list = await entries(`${DEPLOY}/sub`);
    expect(entry(list, 'scaler')).toMatchObject({ subresource: 'scale', apiVersion: 'apps/v1', fieldsV1: { 'f:spec': { 'f:replicas': {} } } });
    expect(entry(list, 'statuser')).toMatchObject({ subresource: 'status', fieldsV1: { 'f:status': { 'f:observedGeneration': {} } } });
    expect(entry(list, 'creator').fieldsV1['f:spec']).not.toHaveProperty('f:replicas');
    expect(entry(list, 'creator').fieldsV1).not.toHaveProperty('f:status');
  });

  it('leaves in-process writes untracked', async () => {
    const obj = await api.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'internal', namespace: 'default' }, data: { a: '1' } }, undefined, { fieldManager: 'x' });
    expect((obj.metadata as Record<string, unknown>).managedFields).toBeUndefined();
    const next = await api.patch({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'internal' }, 'merge', { data: { a: '2' } });
    expect(next.metadata.managedFields).toBeUndefined();
  });

  it('validates fieldManager and force as Kubernetes does', async () => {
    const long = await call('POST', `${CM}?fieldManager=${'m'.repeat(129)}`, { metadata: { name: 'v1' } });
    expect(long.status).toBe(422);
    expect(long.json).toMatchObject({ reason: 'Invalid', message: 'CreateOptions.meta.k8s.io "" is invalid: fieldManager: Too long: must have at most 128 bytes' });
    const ctl = await call('PUT', `${CM}/c1?fieldManager=ab%01`, { metadata: { name: 'c1' } });
    expect(ctl.status).toBe(422);
    expect(ctl.json.message).toBe('UpdateOptions.meta.k8s.io "" is invalid: fieldManager: Invalid value: "ab\\u0001": invalid character U+0001 (at position 2)');
    const force = await call('PATCH', `${CM}/c1?fieldManager=x&force=true`, { data: {} }, MERGE);
    expect(force.status).toBe(422);
    expect(force.json.message).toBe('PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch');
    const noManager = await call('PATCH', `${CM}/c1`, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c1}\n', APPLY);
    expect(noManager.status).toBe(422);
    expect(noManager.json.message).toBe('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
  });

  it('refuses an apply that changes a field another manager owns, with Kubernetes message and causes, changing nothing', async () => {
    await call('POST', `${DEPLOY}?fieldManager=kubectl-client-side-apply`, deployment('web', 2));
    const before = (await call('GET', `${DEPLOY}/web`)).json;
    const r = await call('PATCH', `${DEPLOY}/web?fieldManager=kubectl`, JSON.stringify(deployment('web', 3)), APPLY);
    expect(r.status).toBe(409);
    expect(r.json).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'Conflict',
      code: 409,
      message: 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas',
      details: { causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl-client-side-apply" using apps/v1', field: '.spec.replicas' }] },
    });
    // dryRun conflicts as well.
    expect((await call('PATCH', `${DEPLOY}/web?fieldManager=kubectl&dryRun=All`, JSON.stringify(deployment('web', 3)), APPLY)).status).toBe(409);
    expect((await call('GET', `${DEPLOY}/web`)).json).toEqual(before);
  });

  it('lists every conflict, grouped by manager', async () => {
    const scale = (await call('GET', `${DEPLOY}/web/scale`)).json;
    scale.spec.replicas = 2; // the same value: scaler takes nothing
    await call('PUT', `${DEPLOY}/web/scale?fieldManager=scaler`, scale);
    scale.spec.replicas = 6;
    await call('PUT', `${DEPLOY}/web/scale?fieldManager=scaler`, scale);
    await call('PATCH', `${DEPLOY}/web?fieldManager=labeler`, { metadata: { labels: { tier: 'web' } } }, MERGE);
    const applied = deployment('web', 3, 'nginx:1.27') as any;
    applied.metadata.labels = { tier: 'db' };
    const r = await call('PATCH', `${DEPLOY}/web?fieldManager=kubectl`, JSON.stringify(applied), APPLY);
    expect(r.status).toBe(409);
    expect(r.json.message).toBe(
      'Apply failed with 3 conflicts: conflicts with "kubectl-client-side-apply" using apps/v1:\n' +
        '- .spec.template.spec.containers[name="web"].image\n' +
        'conflicts with "labeler" using apps/v1:\n' +
        '- .metadata.labels.tier\n' +
        'conflicts with "scaler" with subresource "scale" using apps/v1:\n' +
        '- .spec.replicas',
    );
    expect(r.json.details.causes).toEqual([
      { reason: 'FieldManagerConflict', message: 'conflict with "labeler" using apps/v1', field: '.metadata.labels.tier' },
      { reason: 'FieldManagerConflict', message: 'conflict with "scaler" with subresource "scale" using apps/v1', field: '.spec.replicas' },
      { reason: 'FieldManagerConflict', message: 'conflict with "kubectl-client-side-apply" using apps/v1', field: '.spec.template.spec.containers[name="web"].image' },
    ]);
  });

  it('shares a field applied with its current value, and force takes conflicting fields', async () => {
    const same = await call('PATCH', `${DEPLOY}/web?fieldManager=kubectl`, JSON.stringify(deployment('web', 6)), APPLY);
    expect(same.status).toBe(200);
    let list = same.json.metadata.managedFields;
    expect(entry(list, 'kubectl', 'Apply').fieldsV1['f:spec']).toHaveProperty('f:replicas');
    expect(entry(list, 'scaler').fieldsV1).toEqual({ 'f:spec': { 'f:replicas': {} } });
    expect(entry(list, 'kubectl-client-side-apply').fieldsV1['f:spec']['f:template']['f:spec']['f:containers']['k:{"name":"web"}']).toHaveProperty('f:image');

    const forced = await call('PATCH', `${DEPLOY}/web?fieldManager=kubectl&force=true`, JSON.stringify(deployment('web', 7, 'nginx:1.27')), APPLY);
    expect(forced.status).toBe(200);
    expect(forced.json.spec.replicas).toBe(7);
    expect(forced.json.spec.template.spec.containers[0].image).toBe('nginx:1.27');
    list = forced.json.metadata.managedFields;
    expect(entry(list, 'scaler')).toBeUndefined(); // its only field was taken
    const csa = entry(list, 'kubectl-client-side-apply').fieldsV1;
    expect(csa['f:spec']['f:template']['f:spec']['f:containers']['k:{"name":"web"}']).not.toHaveProperty('f:image');
    expect(csa['f:spec']['f:template']['f:spec']['f:containers']['k:{"name":"web"}']).toHaveProperty('f:name');
    expect(entry(list, 'kubectl', 'Apply').fieldsV1['f:spec']).toHaveProperty('f:replicas');
  });

  it('conflicts between two appliers, and keeps a dropped field another manager still owns', async () => {
    const cm = (data: Record<string, string>) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared}\ndata: ${JSON.stringify(data)}\n`;
    expect((await call('PATCH', `${CM}/shared?fieldManager=a`, cm({ x: '1', y: '1' }), APPLY)).status).toBe(201);
    const clash = await call('PATCH', `${CM}/shared?fieldManager=b`, cm({ x: '2' }), APPLY);
    expect(clash.status).toBe(409);
    expect(clash.json.message).toBe('Apply failed with 1 conflict: conflict with "a": .data.x');
    // b applies the same value: x is shared.
    expect((await call('PATCH', `${CM}/shared?fieldManager=b`, cm({ x: '1' }), APPLY)).status).toBe(200);
    // a drops x and y: y goes, x stays (b owns it) and is b's alone.
    const dropped = await call('PATCH', `${CM}/shared?fieldManager=a`, cm({}), APPLY);
    expect(dropped.json.data).toEqual({ x: '1' });
    expect(entry(dropped.json.metadata.managedFields, 'a', 'Apply').fieldsV1).toEqual({ 'f:data': {} });
    // Now b may change it, and dropping it removes it.
    expect((await call('PATCH', `${CM}/shared?fieldManager=b`, cm({ x: '3' }), APPLY)).json.data).toEqual({ x: '3' });
    expect((await call('PATCH', `${CM}/shared?fieldManager=b`, cm({}), APPLY)).json.data).toEqual({});
  });

  it('applies to the status subresource with its own Apply entry', async () => {
    const body = 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: sub}\nstatus: {observedGeneration: 7}\n';
    const clash = await call('PATCH', `${DEPLOY}/sub/status?fieldManager=st`, body, APPLY);
    expect(clash.json.message).toBe('Apply failed with 1 conflict: conflict with "statuser" with subresource "status" using apps/v1: .status.observedGeneration');
    const r = await call('PATCH', `${DEPLOY}/sub/status?fieldManager=st&force=true`, body, APPLY);
    expect(r.status).toBe(200);
    expect(r.json.status.observedGeneration).toBe(7);
    expect(entry(r.json.metadata.managedFields, 'st', 'Apply')).toMatchObject({ subresource: 'status', fieldsV1: { 'f:status': { 'f:observedGeneration': {} } } });
  });
});
