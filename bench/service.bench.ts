/**
 * The service path against going straight to the pods, in the same run: a 3-replica busybox
 * httpd Deployment behind a Service; HTTP GETs from this process (one connection per request, as
 * busybox httpd closes each) at a bounded concurrency,
 *   - direct: round robin over the three pod IPs (the baseline),
 *   - clusterIP: to the Service's cluster IP (the proxy's kernel DNAT rules),
 *   - nodePort: to 127.0.0.1:<nodePort> (the user-space relay; reported, not targeted).
 * Direct and clusterIP alternate in chunks so drift on a busy machine hits both alike.
 *   {"name":"service.clusterip","p50_ratio":…,"throughput_ratio":…,"targets":{"p50_ratio":1.2,"throughput_ratio":0.8},…}
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster } from '../core/cluster.ts';
import { IMAGE, docker, print, quantile, removeByLabel, round, sleep } from './agent-env.ts';

const REQUESTS = Number(process.env.WHEELHOUSE_BENCH_SVC_REQUESTS ?? 20_000);
const CONCURRENCY = Number(process.env.WHEELHOUSE_BENCH_SVC_CONCURRENCY ?? 32);
const CHUNKS = 4;

function get(host: string, port: number): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path: '/', agent: false, timeout: 5_000 }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - t0) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

interface Run {
  latencies: number[];
  seconds: number;
  errors: number;
}

async function load(targets: Array<{ host: string; port: number }>, n: number): Promise<Run> {
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) {
        const t = targets[next++ % targets.length]!;
        try {
          latencies.push(await get(t.host, t.port));
        } catch {
          errors++;
        }
      }
    }),
  );
  return { latencies, seconds: (performance.now() - t0) / 1000, errors };
}

const merge = (runs: Run[]): Run => ({ latencies: runs.flatMap((r) => r.latencies), seconds: runs.reduce((s, r) => s + r.seconds, 0), errors: runs.reduce((s, r) => s + r.errors, 0) });
const stats = (r: Run) => ({ p50_ms: round(quantile(r.latencies, 0.5), 3), p99_ms: round(quantile(r.latencies, 0.99), 3), rps: Math.round(r.latencies.length / r.seconds), errors: r.errors });

async function main(): Promise<void> {
  await docker.getImage(IMAGE).inspect().catch(() => {
    throw new Error(`bench image ${IMAGE} is missing: run bash scripts/build-test-images.sh`);
  });
  const name = `bench-svc-${randomBytes(3).toString('hex')}`;
  const dataDir = await mkdtemp(join(tmpdir(), 'wh-bench-svc-'));
  const cluster = await startCluster({
    dataDir,
    name,
    storeUrl: 'memory:',
    defaultNode: { name: 'node-1', capacity: { cpu: '2', memory: '4Gi', pods: '110' } },
    agent: { metrics: false },
    network: { serviceCIDR: '10.215.0.0/16', removeRulesOnStop: true, upstreamDNS: [] },
  });
  try {
    if (cluster.network?.proxy.mode !== 'iptables') throw new Error(`the service proxy runs in ${cluster.network?.proxy.mode} mode (${cluster.network?.proxy.userspaceReason}); this bench needs iptables mode`);
    const c = cluster.client;
    await c.create({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' },
      spec: {
        replicas: 3, selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: IMAGE, command: ['sh', '-c', 'mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www'], ports: [{ containerPort: 8080 }], readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 } }] } },
      },
    } as any);
    const svc = await c.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } } as any);
    let podIPs: string[] = [];
    for (const deadline = Date.now() + 120_000; ; await sleep(200)) {
      const ep = await c.get({ apiVersion: 'v1', kind: 'Endpoints', namespace: 'default', name: 'web' }).catch(() => undefined);
      podIPs = ((ep?.subsets ?? []) as any[]).flatMap((s: any) => (s.addresses ?? []).map((a: any) => a.ip));
      if (podIPs.length === 3) break;
      if (Date.now() > deadline) throw new Error('3 ready endpoints did not show up in 120 s');
    }
    await cluster.network.proxy.idle();
    const direct = podIPs.map((host) => ({ host, port: 8080 }));
    const viaService = [{ host: svc.spec.clusterIP as string, port: 80 }];
    const viaNodePort = [{ host: '127.0.0.1', port: svc.spec.ports[0].nodePort as number }];
    await load(direct, 500);
    await load(viaService, 500);
    const d: Run[] = [];
    const s: Run[] = [];
    for (let i = 0; i < CHUNKS; i++) {
      d.push(await load(direct, REQUESTS / CHUNKS));
      s.push(await load(viaService, REQUESTS / CHUNKS));
    }
    const np = await load(viaNodePort, REQUESTS / CHUNKS);
    const D = merge(d);
    const S = merge(s);
    const ds = stats(D);
    const ss = stats(S);
    print({
      name: 'service.clusterip',
      requests: REQUESTS,
      concurrency: CONCURRENCY,
      p50_ratio: round(ss.p50_ms / ds.p50_ms, 3),
      throughput_ratio: round(ss.rps / ds.rps, 3),
      direct: ds,
      service: ss,
      targets: { p50_ratio: 1.2, throughput_ratio: 0.8 },
    });
    const ns = stats(np);
    print({ name: 'service.nodeport', requests: REQUESTS / CHUNKS, concurrency: CONCURRENCY, p50_ratio: round(ns.p50_ms / ds.p50_ms, 3), throughput_ratio: round(ns.rps / ds.rps, 3), nodePort: ns, path: 'user-space relay on 127.0.0.1' });
  } finally {
    await cluster.stop().catch(() => {});
    await removeByLabel(name);
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
