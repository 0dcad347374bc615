/**
 * The Kubernetes HTTP API under load: 10,000 Pods stored (memory store), then over HTTPS (the
 * default transport, keep-alive, the HttpClient) — create, get, list (500 per page) and watch
 * delivery to 100 HTTP watchers — each against the same call in-process (the baseline: the API
 * layer without HTTP) in the same run. One JSON line per measurement:
 *   {"name":"api.http.get","value":<p99 ms>,"unit":"ms","p50_ms":…,"p99_ms":…,"n":…,"baseline_p50_ms":…,"ratio_p50":…,"target_p99_ms":50}
 * Target: p99 ≤ 50 ms for single-object calls.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../core/store/index.ts';
import { ApiServer } from '../core/server/api-server.ts';
import { startApiHttpServer } from '../core/server/http/server.ts';
import { HttpClient } from '../core/client/http-client.ts';
import { InProcessClient } from '../core/client/in-process-client.ts';
import type { Client, WatchHandle } from '../core/client/client.ts';
import type { KubeObject } from '../core/api/types.ts';

process.env.WHEELHOUSE_LOG ??= 'warn';
const OBJECTS = Number(process.env.WHEELHOUSE_BENCH_OBJECTS ?? 10_000);
const WATCHERS = 100;
const NS = 'bench';
const POD = { apiVersion: 'v1', kind: 'Pod' };

function pod(name: string, i: number): KubeObject {
  const app = `app-${i % 50}`;
  return {
    ...POD,
    metadata: { name, namespace: NS, labels: { app, tier: i % 3 ? 'backend' : 'frontend' }, annotations: { 'wheelhouse.dev/revision': '0' } },
    spec: {
      containers: [
        {
          name: app,
          image: `registry.example.com/shop/${app}:1.${i % 7}.3`,
          args: ['--port=8080', `--shard=${i % 16}`],
          ports: [{ name: 'http', containerPort: 8080 }],
          env: [{ name: 'DATABASE_URL', value: 'postgres://db.shop.svc.cluster.local:5432/shop' }],
          resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '512Mi' } },
          readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 10 },
        },
      ],
    },
  };
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}
const r2 = (x: number) => Math.round(x * 100) / 100;

async function time(n: number, f: (i: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await f(i);
    out.push(performance.now() - t);
  }
  return out;
}

function report(name: string, http: number[], base: number[] | undefined, extra: Record<string, unknown> = {}): void {
  const p50 = pct(http, 50);
  const p99 = pct(http, 99);
  const line: Record<string, unknown> = { name, value: r2(p99), unit: 'ms', p50_ms: r2(p50), p99_ms: r2(p99), n: http.length, ...extra };
  if (base) {
    line.baseline_p50_ms = r2(pct(base, 50));
    line.baseline_p99_ms = r2(pct(base, 99));
    line.ratio_p50 = r2(p50 / Math.max(pct(base, 50), 0.001));
  }
  console.log(JSON.stringify(line));
}

const dir = mkdtempSync(join(tmpdir(), 'wh-api-bench-'));
const store = await openStore('memory:');
const api = new ApiServer({ store });
await api.bootstrap();
await api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
const inproc: Client = new InProcessClient(api);
for (let i = 0; i < OBJECTS; i++) await inproc.create(pod(`seed-${i}`, i));
const server = await startApiHttpServer({ api, dataDir: dir });
const http = HttpClient.fromKubeconfig(server.kubeconfigPath);

try {
  // warm up both paths (JIT, TLS session, OpenAPI schema parse for field validation)
  for (let i = 0; i < 50; i++) {
    await http.get({ ...POD, namespace: NS, name: `seed-${i}` });
    await inproc.get({ ...POD, namespace: NS, name: `seed-${i}` });
  }
  await http.create(pod('warm-http', 0));

  const N = 500;
  const baseCreate = await time(N, (i) => inproc.create(pod(`base-${i}`, i)));
  const httpCreate = await time(N, (i) => http.create(pod(`http-${i}`, i)));
  report('api.http.create', httpCreate, baseCreate, { objects: OBJECTS, target_p99_ms: 50 });

  const rnd = (i: number) => `seed-${(i * 7919) % OBJECTS}`;
  const baseGet = await time(1000, (i) => inproc.get({ ...POD, namespace: NS, name: rnd(i) }));
  const httpGet = await time(1000, (i) => http.get({ ...POD, namespace: NS, name: rnd(i) }));
  report('api.http.get', httpGet, baseGet, { objects: OBJECTS, target_p99_ms: 50 });

  const pages = async (c: Client) => {
    const out: number[] = [];
    let cont: string | undefined;
    do {
      const t = performance.now();
      const page = await c.list({ ...POD, namespace: NS }, { limit: 500, continue: cont });
      out.push(performance.now() - t);
      cont = page.metadata.continue;
    } while (cont);
    return out;
  };
  const baseList: number[] = [];
  const httpList: number[] = [];
  for (let round = 0; round < 3; round++) {
    baseList.push(...(await pages(inproc)));
    httpList.push(...(await pages(http)));
  }
  report('api.http.list500', httpList, baseList, { objects: OBJECTS + 2 * N + 1, page: 500 });

  // Watch delivery: 100 HTTP watchers on the namespace; each update is timed from just before the
  // write to its arrival at every watcher.
  const sent = new Map<string, number>();
  const deliveries: number[] = [];
  const handles: WatchHandle[] = [];
  const rv = (await http.list({ ...POD, namespace: NS }, { limit: 1 })).metadata.resourceVersion;
  let ready = 0;
  for (let w = 0; w < WATCHERS; w++) {
    const client = HttpClient.fromKubeconfig(server.kubeconfigPath);
    handles.push(
      client.watch({ ...POD, namespace: NS }, { resourceVersion: rv }, (ev) => {
        const key = ev.object.metadata?.annotations?.['wheelhouse.dev/revision'];
        const at = key ? sent.get(key) : undefined;
        if (at !== undefined) deliveries.push(performance.now() - at);
      }),
    );
    ready++;
  }
  await new Promise((r) => setTimeout(r, 1000)); // let every watch stream open
  const UPDATES = 50;
  for (let i = 0; i < UPDATES; i++) {
    const key = `u${i}`;
    sent.set(key, performance.now());
    await inproc.patch({ ...POD, namespace: NS, name: `seed-${i}` }, 'merge', { metadata: { annotations: { 'wheelhouse.dev/revision': key } } });
    await new Promise((r) => setTimeout(r, 20));
  }
  const end = Date.now() + 10_000;
  while (deliveries.length < UPDATES * WATCHERS && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  for (const h of handles) h.close();
  report('api.http.watch_delivery', deliveries, undefined, { watchers: ready, updates: UPDATES, delivered: deliveries.length, expected: UPDATES * WATCHERS });
} finally {
  http.close();
  await server.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
