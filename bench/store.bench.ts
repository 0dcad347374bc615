/**
 * Store write throughput: 10,000 stored Pods (~3 KB each), then concurrent writers doing
 * optimistic updates (90%) and creates (10%), for lowdb (the default, durable) against memory
 * (the baseline) in the same process run. A write counts once its promise resolved: for lowdb
 * that means fsynced. Prints one JSON line per (driver, writers):
 *   {"name":"store.write","driver":"lowdb","writers":50,"value":…,"unit":"writes/s","p50_ms":…,"p99_ms":…,"ratio_vs_memory":…}
 * plus store.list (10,000 Pods in one call, copies included) and store.open (lowdb start-up
 * with the resulting store) lines.
 * Target: lowdb ≥ 2,000 writes/s at 50 writers with p99 ≤ 50 ms.
 * WHEELHOUSE_BENCH_DIR picks where the lowdb files go (default: the OS temp dir).
 * WHEELHOUSE_BENCH_SECONDS sets each measurement's length (default 4).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLowdbStore } from '../core/store/drivers/lowdb-driver.ts';
import { MemoryStore } from '../core/store/drivers/memory-driver.ts';
import type { Store } from '../core/store/store.ts';

process.env.WHEELHOUSE_LOG ??= 'warn';
const OBJECTS = 10_000;
const SECONDS = Number(process.env.WHEELHOUSE_BENCH_SECONDS ?? 4);
const baseDir = process.env.WHEELHOUSE_BENCH_DIR ?? tmpdir();

function pod(ns: string, name: string, i: number): Record<string, unknown> {
  const app = `app-${i % 50}`;
  const uid = `${(i * 2654435761) >>> 0}`.padStart(10, '0');
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: ns,
      uid: `5f1c2a9e-${uid.slice(0, 4)}-4b7d-9c1e-${uid}ab`,
      generateName: `${app}-7d9f8c6b5-`,
      creationTimestamp: '2026-11-28T10:00:00Z',
      labels: { app, 'pod-template-hash': '7d9f8c6b5', tier: i % 3 ? 'backend' : 'frontend', 'app.kubernetes.io/part-of': 'shop' },
      annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-11-27T09:12:44Z', 'wheelhouse.dev/revision': '0' },
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${app}-7d9f8c6b5`, uid: `a1b2c3d4-${uid}`, controller: true, blockOwnerDeletion: true },
      ],
    },
    spec: {
      containers: [
        {
          name: app,
          image: `registry.example.com/shop/${app}:1.${i % 7}.3`,
          imagePullPolicy: 'IfNotPresent',
          command: ['/bin/server'],
          args: ['--port=8080', '--log-level=info', `--shard=${i % 16}`],
          ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
          env: [
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: 'DATABASE_URL', value: 'postgres://db.shop.svc.cluster.local:5432/shop' },
            { name: 'CACHE_TTL', value: '300' },
          ],
          resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '512Mi' } },
          readinessProbe: { httpGet: { path: '/healthz', port: 8080, scheme: 'HTTP' }, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 },
          livenessProbe: { httpGet: { path: '/livez', port: 8080, scheme: 'HTTP' }, initialDelaySeconds: 10, periodSeconds: 10 },
          volumeMounts: [
            { name: 'config', mountPath: '/etc/shop', readOnly: true },
            { name: 'kube-api-access', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true },
          ],
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
        },
      ],
      volumes: [
        { name: 'config', configMap: { name: `${app}-config`, defaultMode: 420 } },
        { name: 'kube-api-access', projected: { defaultMode: 420, sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: 'token' } }] } },
      ],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: 'default',
      nodeName: `node-${i % 3}`,
      schedulerName: 'default-scheduler',
      tolerations: [
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      ],
      priority: 0,
    },
    status: {
      phase: 'Running',
      conditions: ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({
        type,
        status: 'True',
        lastProbeTime: null,
        lastTransitionTime: '2026-11-28T10:00:05Z',
      })),
      hostIP: `10.0.0.${(i % 3) + 10}`,
      podIP: `10.244.${i % 3}.${i % 250}`,
      podIPs: [{ ip: `10.244.${i % 3}.${i % 250}` }],
      startTime: '2026-11-28T10:00:01Z',
      containerStatuses: [
        {
          name: app,
          state: { running: { startedAt: '2026-11-28T10:00:04Z' } },
          lastState: {},
          ready: true,
          restartCount: 0,
          image: `registry.example.com/shop/${app}:1.${i % 7}.3`,
          imageID: `docker-pullable://registry.example.com/shop/${app}@sha256:${uid.repeat(6).slice(0, 64)}`,
          containerID: `docker://${uid.repeat(7).slice(0, 64)}`,
          started: true,
        },
      ],
      qosClass: 'Burstable',
    },
  };
}

let next = OBJECTS; // the next new pod's number
const keyOf = (i: number) => `/registry/core/pods/ns-${i % 10}/pod-${String(i).padStart(6, '0')}`;

interface Owned {
  key: string;
  obj: Record<string, unknown>;
  rev: number;
}

async function preload(store: Store): Promise<Owned[]> {
  const owned: Owned[] = [];
  for (let start = 0; start < OBJECTS; start += 200) {
    const batch = Array.from({ length: Math.min(200, OBJECTS - start) }, (_, j) => start + j);
    const kvs = await Promise.all(batch.map((i) => store.create(keyOf(i), pod(`ns-${i % 10}`, `pod-${i}`, i))));
    kvs.forEach((kv, j) => owned.push({ key: kv.key, obj: pod(`ns-${batch[j]! % 10}`, `pod-${batch[j]}`, batch[j]!), rev: kv.modRevision }));
  }
  return owned;
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

async function measure(store: Store, owned: Owned[], writers: number, seconds: number) {
  const latencies: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      const mine = owned.filter((_, i) => i % writers === w);
      for (let n = 0; performance.now() < deadline; n++) {
        const start = performance.now();
        if (n % 10 === 9) {
          const i = next++;
          const kv = await store.create(keyOf(i), pod(`ns-${i % 10}`, `pod-${i}`, i));
          mine.push({ key: kv.key, obj: kv.value, rev: kv.modRevision });
        } else {
          const o = mine[(n * 7919) % mine.length]!;
          const meta = o.obj.metadata as { annotations: Record<string, string> };
          meta.annotations['wheelhouse.dev/revision'] = String(o.rev);
          const kv = await store.update(o.key, o.obj, o.rev); // Conflict would throw: each writer owns its keys
          o.rev = kv.modRevision;
        }
        latencies.push(performance.now() - start);
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  const sorted = Float64Array.from(latencies).sort();
  return { rate: latencies.length / elapsed, p50: percentile(sorted, 50), p99: percentile(sorted, 99), writes: latencies.length };
}

const round = (x: number, d = 2) => Number(x.toFixed(d));

async function run(): Promise<void> {
  const dirs: string[] = [];
  const memoryRate = new Map<number, number>();
  const memoryList = { ms: 0 };
  try {
    for (const writers of [1, 50]) {
      for (const driver of ['memory', 'lowdb'] as const) {
        let store: Store;
        let path = '';
        if (driver === 'memory') store = new MemoryStore();
        else {
          const dir = mkdtempSync(join(baseDir, 'wheelhouse-store-bench-'));
          dirs.push(dir);
          path = join(dir, 'store.json');
          store = await openLowdbStore(path);
        }
        next = OBJECTS;
        const owned = await preload(store);
        await measure(store, owned, writers, 0.3); // warm-up
        const r = await measure(store, owned, writers, SECONDS);
        const ratio = driver === 'memory' ? 1 : r.rate / memoryRate.get(writers)!;
        if (driver === 'memory') memoryRate.set(writers, r.rate);
        console.log(
          JSON.stringify({
            name: 'store.write',
            driver,
            writers,
            value: Math.round(r.rate),
            unit: 'writes/s',
            p50_ms: round(r.p50, 3),
            p99_ms: round(r.p99, 3),
            ratio_vs_memory: round(ratio, 4),
            writes: r.writes,
            objects: next, // stored at the end (10,000 + creates)
          }),
        );
        if (writers === 50) {
          const t = performance.now();
          const all = await store.list('/registry/core/pods/', { limit: OBJECTS });
          const ms = performance.now() - t;
          if (driver === 'memory') memoryList.ms = ms;
          console.log(
            JSON.stringify({ name: 'store.list', driver, objects: all.items.length, value: round(ms), unit: 'ms', ratio_vs_memory: driver === 'memory' ? 1 : round(ms / memoryList.ms) }),
          );
        }
        await store.close();
        if (driver === 'lowdb' && writers === 50) {
          const t = performance.now();
          const reopened = await openLowdbStore(path);
          const ms = performance.now() - t;
          console.log(JSON.stringify({ name: 'store.open', driver, objects: (await reopened.list('/registry/')).items.length, value: round(ms), unit: 'ms' }));
          await reopened.close();
        }
      }
    }
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

await run();
