/**
 * Idle CPU of the whole app with 100 pods (issue: ≤ 1 % of a core): the cluster with its default
 * (desktop) timings — agent resyncs, leases, node status, usage sampling, controllers, service
 * proxy, DNS — plus browser mode with the UI open in headless Chromium on the Overview. Once the
 * 100 pods are Ready and things settle, CPU time is measured over a minute: this process
 * (process.cpuUsage) and the renderer (Chromium's TaskDuration via the DevTools protocol).
 * The Docker engine's own CPU is not the app's and is not counted.
 *   {"name":"idle.cpu","value":<% of one core>,"main_pct":…,"renderer_pct":…,"pods":100,"budget_pct":1}
 * WHEELHOUSE_BENCH_CPU_PROFILE=FILE writes a V8 CPU profile of this process over the measured
 * minute (open it in Chrome's DevTools, or `node bench/profile-summary.mjs FILE`).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startCluster } from '../core/cluster.ts';
import { serveBrowserMode } from '../core/desktop/serve-browser.ts';
import { ensureUiBuilt } from '../core/serve.ts';
import { IMAGE, print, removeByLabel, round, sleep } from './agent-env.ts';

const PODS = Number(process.env.WHEELHOUSE_BENCH_IDLE_PODS ?? 100);
const MEASURE_S = Number(process.env.WHEELHOUSE_BENCH_IDLE_SECONDS ?? 60);
const SETTLE_S = 20;

async function main(): Promise<void> {
  ensureUiBuilt();
  const name = `bench-idle-${Date.now().toString(36)}`;
  const dataDir = await mkdtemp(join(tmpdir(), 'wh-bench-idle-'));
  const cluster = await startCluster({
    dataDir,
    name,
    defaultNode: { name: 'node-1', capacity: { cpu: '64', memory: '64Gi', pods: String(PODS + 10) } },
    network: { serviceCIDR: '10.219.0.0/16', removeRulesOnStop: true },
  });
  const ui = await serveBrowserMode(cluster);
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  try {
    const c = cluster.client;
    await c.create({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'idle', namespace: 'default' },
      spec: {
        replicas: PODS, selector: { matchLabels: { app: 'idle' } },
        template: { metadata: { labels: { app: 'idle' } }, spec: { containers: [{ name: 'c', image: IMAGE, command: ['sleep', '1000000'], readinessProbe: { exec: { command: ['true'] }, periodSeconds: 10 } }] } },
      },
    } as any);
    await c.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'idle', namespace: 'default' }, spec: { selector: { app: 'idle' }, ports: [{ port: 80 }] } } as any);
    for (const deadline = Date.now() + 300_000; ; await sleep(1000)) {
      const d = await c.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'idle' });
      if (d.status?.readyReplicas === PODS) break;
      if (Date.now() > deadline) throw new Error(`${PODS} pods not ready in 5 minutes`);
    }
    const page = await browser.newPage();
    await page.goto(`${ui.url}#/overview`);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    await sleep(SETTLE_S * 1000);
    const task = async () => ((await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'TaskDuration')?.value ?? 0) as number;
    const profileFile = process.env.WHEELHOUSE_BENCH_CPU_PROFILE;
    const inspector = profileFile ? new Session() : undefined;
    if (inspector) {
      inspector.connect();
      await inspector.post('Profiler.enable');
      await inspector.post('Profiler.start');
    }
    const r0 = await task();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await sleep(MEASURE_S * 1000);
    const cpu = process.cpuUsage(c0);
    const wall = (performance.now() - t0) / 1000;
    const renderer = (await task()) - r0;
    if (inspector && profileFile) {
      const { profile } = await inspector.post('Profiler.stop');
      await writeFile(profileFile, JSON.stringify(profile));
      inspector.disconnect();
    }
    const mainPct = ((cpu.user + cpu.system) / 1e6 / wall) * 100;
    const rendererPct = (renderer / wall) * 100;
    print({
      name: 'idle.cpu',
      value: round(mainPct + rendererPct, 2),
      unit: '% of one core',
      main_pct: round(mainPct, 2),
      renderer_pct: round(rendererPct, 2),
      pods: PODS,
      seconds: round(wall, 1),
      budget_pct: 1,
      within_budget: mainPct + rendererPct <= 1,
    });
  } finally {
    await browser.close().catch(() => {});
    await ui.close().catch(() => {});
    await cluster.stop().catch(() => {});
    await removeByLabel(name);
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
