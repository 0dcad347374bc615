/**
 * Authentication hardening over HTTP: a ServiceAccount token without permission gets Kubernetes'
 * 403 wording; a token stops working (401) on the very next request once its ServiceAccount or
 * the Secret / Pod it is bound to is deleted or re-created; the API server listens on loopback
 * by default. (No token → 401 and the account-deleted case are in handler.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiServer } from '../../../core/server/api-server.ts';
import { startApiHttpServer, type ApiHttpServer } from '../../../core/server/http/server.ts';
import type { Store } from '../../../core/store/index.ts';
import { openHttpApi, type HttpApi } from './http-api.ts';

describe('API authentication', () => {
  let dir: string;
  let store: Store;
  let api: ApiServer;
  let server: ApiHttpServer;

  const call = async (method: string, path: string, token: string, body?: unknown) => {
    const res = await fetch(server.url + path, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, json: (await res.json()) as any };
  };
  const tokenFor = async (sa: string, boundObjectRef?: Record<string, string>) =>
    call('POST', `/api/v1/namespaces/default/serviceaccounts/${sa}/token`, server.adminToken, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { ...(boundObjectRef ? { boundObjectRef } : {}) },
    });
  const whoami = (token: string) => call('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', token, { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
  const sa = (name: string) => api.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: 'default' } });

  let t: HttpApi | undefined;
  beforeAll(async () => {
    t = await openHttpApi('wh-auth-');
    ({ dir, store, api, server } = t);
  });
  afterAll(() => t?.close());

  it('listens on 127.0.0.1 unless told otherwise, and refuses plain HTTP beyond loopback', async () => {
    expect(new URL(server.url).hostname).toBe('127.0.0.1');
    await expect(startApiHttpServer({ api, dataDir: dir, tls: false, host: '0.0.0.0' })).rejects.toThrow(/beyond loopback: it must use TLS/);
  });

  it('answers a token without permission with 403 and Kubernetes wording', async () => {
    await sa('reader');
    const token = (await tokenFor('reader')).json.status.token as string;
    const r = await call('GET', '/api/v1/namespaces/default/pods', token);
    expect(r.status).toBe(403);
    expect(r.json).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'Forbidden',
      code: 403,
      message: 'pods is forbidden: User "system:serviceaccount:default:reader" cannot list resource "pods" in API group "" in the namespace "default"',
    });
  });

  it('revokes a token when its ServiceAccount is re-created under the same name', async () => {
    await sa('phoenix');
    const token = (await tokenFor('phoenix')).json.status.token as string;
    expect((await whoami(token)).status).toBe(201);
    await api.delete({ apiVersion: 'v1', kind: 'ServiceAccount', namespace: 'default', name: 'phoenix' });
    await sa('phoenix');
    const r = await whoami(token);
    expect(r.status).toBe(401);
    expect(r.json).toMatchObject({ kind: 'Status', reason: 'Unauthorized', message: 'Unauthorized', code: 401 });
  });

  it('revokes a token bound to a Secret when the Secret is deleted', async () => {
    await sa('bound');
    await api.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'anchor', namespace: 'default' }, stringData: { a: 'b' } });
    const t = await tokenFor('bound', { apiVersion: 'v1', kind: 'Secret', name: 'anchor' });
    expect(t.status).toBe(201);
    expect(t.json.spec.boundObjectRef).toMatchObject({ kind: 'Secret', name: 'anchor' });
    const token = t.json.status.token as string;
    expect((await whoami(token)).json.status.userInfo.username).toBe('system:serviceaccount:default:bound');
    await api.delete({ apiVersion: 'v1', kind: 'Secret', namespace: 'default', name: 'anchor' });
    expect((await whoami(token)).status).toBe(401);
    // The account itself is still there: an unbound token of it keeps working.
    expect((await whoami((await tokenFor('bound')).json.status.token)).status).toBe(201);
  });

  it('revokes a token bound to a Pod when the Pod is deleted, and checks what it is bound to', async () => {
    await sa('runner');
    await api.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'job-1', namespace: 'default' }, spec: { serviceAccountName: 'runner', containers: [{ name: 'c', image: 'busybox' }] } });
    const token = (await tokenFor('runner', { apiVersion: 'v1', kind: 'Pod', name: 'job-1' })).json.status.token as string;
    expect((await whoami(token)).status).toBe(201);
    await api.delete({ apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'job-1' }, undefined, { gracePeriodSeconds: 0 });
    expect((await whoami(token)).status).toBe(401);

    await api.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'other', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
    const wrongSa = await tokenFor('runner', { apiVersion: 'v1', kind: 'Pod', name: 'other' });
    expect(wrongSa.json).toMatchObject({ reason: 'BadRequest', message: 'cannot bind token for serviceaccount "runner" to pod running with serviceaccount "default"' });
    const wrongKind = await tokenFor('runner', { apiVersion: 'v1', kind: 'ConfigMap', name: 'x' });
    expect(wrongKind.json).toMatchObject({ reason: 'BadRequest', message: 'cannot bind token to object of type /v1, Kind=ConfigMap' });
    await api.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's2', namespace: 'default' } });
    const wrongUid = await tokenFor('runner', { apiVersion: 'v1', kind: 'Secret', name: 's2', uid: 'not-it' });
    expect(wrongUid.status).toBe(409);
    expect(wrongUid.json.message).toMatch(/the UID in the bound object reference \(not-it\) does not match the UID in record/);
    expect((await tokenFor('runner', { apiVersion: 'v1', kind: 'Secret', name: 'missing' })).status).toBe(404);
  });
});
