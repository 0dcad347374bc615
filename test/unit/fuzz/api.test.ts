/**
 * Property-based fuzzing of what crosses a trust boundary: the Kubernetes HTTP API's request
 * bodies (and paths, verbs, content types) and the desktop contract's call arguments. Properties:
 * no 5xx and no crash — every rejection is a Kubernetes `Status` (HTTP) or a DesktopError with a
 * reason and a message (IPC) — and the server keeps answering. Plus the hostile documents the
 * issue names: oversized, deeply nested, duplicate keys, binary, huge label values.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CALL_NAMES, DesktopError } from '../../../core/desktop-api.ts';
import type { ApiHttpServer } from '../../../core/server/http/server.ts';
import type { Store } from '../../../core/store/index.ts';
import { harness, type Harness } from '../desktop/helpers.ts';
import { anyObject, hostileValue, mutatedObject, RUNS } from './corpus.ts';
import { openHttpApi, type HttpApi } from '../http/http-api.ts';

let dir: string;
let store: Store;
let server: ApiHttpServer;

let t: HttpApi | undefined;
beforeAll(async () => {
  t = await openHttpApi('wh-fuzz-http-');
  ({ dir, store, server } = t);
});

afterAll(() => t?.close());

async function send(method: string, path: string, body?: string | Uint8Array, type = 'application/json') {
  const headers: Record<string, string> = { Authorization: `Bearer ${server.adminToken}` };
  if (body !== undefined) headers['Content-Type'] = type;
  const res = await fetch(server.url + path, { method, headers, body: body as any });
  const text = await res.text();
  return { status: res.status, text };
}

function expectStatusObject(r: { status: number; text: string }, what: string): void {
  expect(r.status, `${what} → ${r.status}: ${r.text.slice(0, 300)}`).toBeLessThan(500);
  if (r.status >= 400) {
    const s = JSON.parse(r.text);
    expect(s.kind, what).toBe('Status');
    expect(String(s.message).length, what).toBeGreaterThan(0);
  }
}

const PATHS = [
  '/api/v1/namespaces/default/pods', '/api/v1/namespaces/default/pods/p', '/api/v1/namespaces/default/services',
  '/api/v1/namespaces/default/secrets', '/api/v1/namespaces/default/configmaps/cm', '/apis/apps/v1/namespaces/default/deployments',
  '/apis/apps/v1/namespaces/default/deployments/d', '/apis/apps/v1/namespaces/default/deployments/d/scale',
  '/api/v1/namespaces/default/pods/p/status', '/api/v1/namespaces/default/pods/p/eviction', '/api/v1/namespaces',
  '/api/v1/nodes', '/apis/batch/v1/namespaces/default/jobs', '/api/v1/namespaces/default/pods?fieldSelector=spec.nodeName%3D',
  '/api/v1/pods?labelSelector=a%20in%20(', '/api/v1/namespaces/default/pods?limit=-1&continue=garbage',
  '/apis/rbac.authorization.k8s.io/v1/clusterroles', '/api/v1/namespaces/%2e%2e/pods', '/apis/nope/v9/things',
];
const TYPES = ['application/json', 'application/yaml', 'application/merge-patch+json', 'application/json-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml', 'text/plain', 'application/octet-stream'];

const bodyArb = fc.oneof(
  { weight: 4, arbitrary: anyObject.map((o) => JSON.stringify(o) ?? 'null') },
  { weight: 1, arbitrary: fc.array(fc.record({ op: fc.constantFrom('add', 'remove', 'replace', 'x'), path: fc.string({ maxLength: 12 }), value: hostileValue }), { maxLength: 3 }).map((o) => JSON.stringify(o)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 100 }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 100 }) },
);

describe('fuzz: HTTP API bodies', () => {
  it(`answers ${RUNS} random requests with no 5xx, every error a Status`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('POST', 'PUT', 'PATCH', 'DELETE', 'GET'),
        fc.constantFrom(...PATHS),
        bodyArb,
        fc.constantFrom(...TYPES),
        fc.constantFrom('', '?dryRun=All', '?fieldManager=fuzz', '?fieldValidation=Strict', '?force=true'),
        async (method, path, body, type, query) => {
          const q = query && path.includes('?') ? query.replace('?', '&') : query;
          const r = await send(method, path + q, method === 'GET' ? undefined : body, type);
          expectStatusObject(r, `${method} ${path}${q} [${type}]`);
        },
      ),
      { numRuns: RUNS },
    );
    expect((await send('GET', '/healthz')).text).toBe('ok');
  }, 300_000);

  it('refuses oversized, deeply nested, binary and duplicate-key documents clearly and stays responsive', async () => {
    // The random requests above may well have deleted every namespace: use a fresh one.
    expect((await send('POST', '/api/v1/namespaces', JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'hostile' } }))).status).toBe(201);
    const pods = '/api/v1/namespaces/hostile/pods';
    const big = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'big' }, data: { a: 'x'.repeat(4 * 1024 * 1024) } });
    const r1 = await send('POST', '/api/v1/namespaces/hostile/configmaps', big);
    expect(r1.status).toBe(413);
    let nested = '0';
    for (let i = 0; i < 100_000; i++) nested = `[${nested}]`;
    const r2 = await send('POST', pods, `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"deep"},"spec":${nested}}`);
    expectStatusObject(r2, 'deeply nested');
    expect(r2.status).toBeGreaterThanOrEqual(400);
    const r3 = await send('POST', pods, new Uint8Array([0xff, 0xfe, 0x00, 0x01, 0x80]));
    expect(r3.status).toBe(400);
    const r4 = await send('POST', pods, 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  name: b\n', 'application/yaml');
    expectStatusObject(r4, 'duplicate keys');
    expect(r4.status).toBeGreaterThanOrEqual(400);
    const r5 = await send('POST', '/api/v1/namespaces/hostile/configmaps', JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'lbl', labels: { a: 'v'.repeat(100_000) } } }));
    expect(r5.status).toBe(422);
    expect(r5.text).toContain('metadata.labels');
    const r6 = await send('POST', pods, JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'wrong' }, spec: { ports: [{ port: 80 }] } }));
    expectStatusObject(r6, 'wrong kind for the path');
    expect(r6.status).toBeGreaterThanOrEqual(400);
    // Nothing of it was stored, and the server still answers at once.
    const list = JSON.parse((await send('GET', '/api/v1/namespaces/hostile/configmaps')).text);
    expect(list.items.map((c: any) => c.metadata.name)).not.toContain('big');
    expect(list.items.map((c: any) => c.metadata.name)).not.toContain('lbl');
    const t0 = performance.now();
    expect((await send('GET', '/healthz')).text).toBe('ok');
    expect(performance.now() - t0).toBeLessThan(500);
  }, 60_000);
});

describe('fuzz: desktop contract arguments', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness();
  });
  afterAll(async () => {
    await h?.close();
  });

  const argsArb = fc.oneof(
    { weight: 3, arbitrary: fc.dictionary(fc.constantFrom('namespace', 'name', 'kind', 'pod', 'port', 'replicas', 'yaml', 'id', 'container', 'node', 'target', 'files', 'revision', 'data', 'service', 'labelSelector', 'subscriptionId'), hostileValue, { maxKeys: 5 }) },
    { weight: 1, arbitrary: hostileValue },
    { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('Pod', 'Deployment', 'Secret', 'Nope'), namespace: fc.constantFrom('default', 'kube-system', '../x', ''), name: fc.string({ maxLength: 20 }), object: mutatedObject }, { requiredKeys: [] }) },
  );

  it(`answers ${RUNS} random calls with a result or a DesktopError, nothing else`, async () => {
    const reasons = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...CALL_NAMES), argsArb, async (name, args) => {
        try {
          await h.rawCall(name, args);
        } catch (e) {
          if (!(e instanceof DesktopError)) throw new Error(`${name}(${JSON.stringify(args)?.slice(0, 200)}) threw ${(e as Error)?.stack ?? e}`);
          expect(e.message.length).toBeGreaterThan(0);
          reasons.add(e.reason);
        }
      }),
      { numRuns: RUNS },
    );
    expect(reasons.has('BadRequest')).toBe(true);
    expect(await h.call('cluster.info', {})).toMatchObject({ name: expect.any(String) });
  }, 300_000);
});
