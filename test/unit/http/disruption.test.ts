/**
 * PodDisruptionBudgets and pods/eviction over HTTP, in the shapes kubectl (`get pdb`, `drain`)
 * reads: discovery, the Table, 422s, and the eviction's 201 / 429 / 500 Status bodies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../../core/store/index.ts';
import { ApiServer } from '../../../core/server/api-server.ts';
import type { ApiHttpServer } from '../../../core/server/http/server.ts';
import { HttpClient } from '../../../core/client/http-client.ts';
import { resolveResourceName } from '../../../core/api/kinds.ts';
import type { KubeObject } from '../../../core/api/types.ts';
import { openHttpApi, type HttpApi } from './http-api.ts';

const PDBS = '/apis/policy/v1/namespaces/default/poddisruptionbudgets';
const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io';

describe('PodDisruptionBudgets over HTTP', () => {
  let dir: string;
  let store: Store;
  let api: ApiServer;
  let server: ApiHttpServer;
  const call = async (method: string, path: string, opts: { body?: unknown; accept?: string } = {}) => {
    const headers: Record<string, string> = { Authorization: `Bearer ${server.adminToken}` };
    if (opts.accept) headers.Accept = opts.accept;
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(server.url + path, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined, headers: res.headers };
  };
  const evict = (name: string, query = '', extra: Record<string, unknown> = {}) =>
    call('POST', `/api/v1/namespaces/default/pods/${name}/eviction${query}`, {
      body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: 'default' }, ...extra },
    });
  async function readyPod(name: string, app: string) {
    const p = await api.create<KubeObject>({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { app } }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'x:1' }] } });
    await api.updateStatus({ ...p, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } });
  }
  async function setStatus(name: string, status: Record<string, unknown>) {
    const b = await api.get<KubeObject>({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', namespace: 'default', name });
    await api.updateStatus({ ...b, status: { observedGeneration: b.metadata.generation, ...status } });
  }

  let t: HttpApi | undefined;
  beforeAll(async () => {
    t = await openHttpApi('wh-pdb-');
    ({ dir, store, api, server } = t);
  });
  afterAll(() => t?.close());

  it('is served in policy/v1 with its short name and status subresource', async () => {
    expect(resolveResourceName('pdb')?.kind).toBe('PodDisruptionBudget');
    const groups = await call('GET', '/apis');
    expect(groups.json.groups.filter((g: any) => g.name === 'policy')).toEqual([
      expect.objectContaining({ versions: [{ groupVersion: 'policy/v1', version: 'v1' }] }),
    ]);
    const r = await call('GET', '/apis/policy/v1');
    expect(r.json.resources).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'poddisruptionbudgets', kind: 'PodDisruptionBudget', namespaced: true, shortNames: ['pdb'] }),
        expect.objectContaining({ name: 'poddisruptionbudgets/status', kind: 'PodDisruptionBudget' }),
      ]),
    );
    const doc = await call('GET', '/openapi/v3/apis/policy/v1');
    expect(doc.json.components.schemas['io.k8s.api.policy.v1.PodDisruptionBudget']).toBeDefined();
    expect(Object.keys(doc.json.paths)).toContain('/apis/policy/v1/namespaces/{namespace}/poddisruptionbudgets');
  });

  it('creates with a zeroed status and refuses invalid budgets with 422', async () => {
    const c = await call('POST', PDBS, { body: { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web' }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'web' } } }, status: { disruptionsAllowed: 5 } } });
    expect(c.status).toBe(201);
    expect(c.json.status).toEqual({ disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 });
    expect(c.json.metadata.generation).toBe(1);

    const both = await call('POST', PDBS, { body: { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'bad' }, spec: { minAvailable: 1, maxUnavailable: '101%', unhealthyPodEvictionPolicy: 'Sometimes', selector: { matchExpressions: [{ key: 'app', operator: 'Near' }] } } } });
    expect(both.status).toBe(422);
    expect(both.json.reason).toBe('Invalid');
    expect(both.json.message).toMatch(/^PodDisruptionBudget\.policy "bad" is invalid: /);
    const fields = both.json.details.causes.map((x: any) => `${x.field}: ${x.reason}`);
    expect(fields).toEqual(
      expect.arrayContaining([
        'spec: FieldValueInvalid',
        'spec.maxUnavailable: FieldValueInvalid',
        'spec.unhealthyPodEvictionPolicy: FieldValueNotSupported',
        'spec.selector.matchExpressions[0].operator: FieldValueNotSupported',
      ]),
    );
    expect(both.json.details.causes.find((x: any) => x.field === 'spec').message).toMatch(/minAvailable and maxUnavailable cannot be both set/);
    expect(both.json.details.causes.find((x: any) => x.field === 'spec.unhealthyPodEvictionPolicy').message).toBe('Unsupported value: "Sometimes": supported values: "AlwaysAllow", "IfHealthyBudget"');
    const neg = await call('POST', PDBS, { body: { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'neg' }, spec: { minAvailable: -1 } } });
    expect(neg.json.details.causes).toEqual([expect.objectContaining({ field: 'spec.minAvailable', message: expect.stringMatching(/must be greater than or equal to 0/) })]);
  });

  it('prints kubectl get pdb columns', async () => {
    await setStatus('web', { disruptionsAllowed: 1, currentHealthy: 2, desiredHealthy: 1, expectedPods: 2 });
    const t = await call('GET', PDBS, { accept: TABLE });
    expect(t.json.columnDefinitions.map((c: any) => c.name)).toEqual(['Name', 'Min Available', 'Max Unavailable', 'Allowed Disruptions', 'Age']);
    expect(t.json.rows[0].cells.slice(0, 4)).toEqual(['web', 'N/A', '1', 1]);
  });

  it('evicts with 201 while the budget allows, then answers 429 with the DisruptionBudget cause', async () => {
    await readyPod('web-a', 'web');
    await readyPod('web-b', 'web');
    const ok = await evict('web-a', '', { deleteOptions: { gracePeriodSeconds: 0 } });
    expect(ok.status).toBe(201);
    expect(ok.json).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
    expect((await call('GET', '/api/v1/namespaces/default/pods/web-a')).status).toBe(404);
    const pdb = await call('GET', `${PDBS}/web`);
    expect(pdb.json.status.disruptionsAllowed).toBe(0);
    expect(Object.keys(pdb.json.status.disruptedPods)).toEqual(['web-a']);

    const no = await evict('web-b');
    expect(no.status).toBe(429);
    expect(no.json).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: "Cannot evict pod as it would violate the pod's disruption budget.",
      reason: 'TooManyRequests',
      details: { causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget web needs 1 healthy pods and has 2 currently' }] },
      code: 429,
    });
    expect(no.headers.get('retry-after')).toBeNull();
    // The HTTP client turns it back into the same error.
    const client = new HttpClient({ server: server.url, token: server.adminToken });
    await expect(client.evict({ namespace: 'default', name: 'web-b' })).rejects.toMatchObject({ reason: 'TooManyRequests', code: 429 });
    client.close();
  });

  it('honours dryRun and checks the Eviction names the pod', async () => {
    await setStatus('web', { disruptionsAllowed: 1, currentHealthy: 2, desiredHealthy: 1, expectedPods: 2 });
    const before = (await call('GET', `${PDBS}/web`)).json.metadata.resourceVersion;
    expect((await evict('web-b', '?dryRun=All')).status).toBe(201);
    expect((await evict('web-b', '', { deleteOptions: { dryRun: ['All'] } })).status).toBe(201);
    expect((await call('GET', '/api/v1/namespaces/default/pods/web-b')).json.metadata.deletionTimestamp).toBeUndefined();
    expect((await call('GET', `${PDBS}/web`)).json.metadata.resourceVersion).toBe(before);
    const wrong = await call('POST', '/api/v1/namespaces/default/pods/web-b/eviction', { body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'other' } } });
    expect(wrong.status).toBe(400);
    expect(wrong.json.message).toBe('name in URL does not match name in Eviction object');
  });

  it('a budget not yet processed answers 429 with Retry-After: 10', async () => {
    await api.patch({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', namespace: 'default', name: 'web' }, 'merge', { spec: { maxUnavailable: 2 } });
    const r = await evict('web-b');
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('10');
    expect(r.json.details).toEqual({ causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget web is still being processed by the server.' }], retryAfterSeconds: 10 });
  });

  it('a pod under two budgets: 500 with Kubernetes\' message and no reason', async () => {
    await readyPod('shared', 'shared');
    for (const name of ['s1', 's2']) {
      await api.create({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name, namespace: 'default' }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'shared' } } } });
      await setStatus(name, { disruptionsAllowed: 1, currentHealthy: 1, desiredHealthy: 0, expectedPods: 1 });
    }
    const r = await evict('shared');
    expect(r.status).toBe(500);
    expect(r.json).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.',
      code: 500,
    });
  });
});
