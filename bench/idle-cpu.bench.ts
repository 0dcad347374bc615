/**
 * Idle CPU of the whole app with 100 pods (issue: ≤ 1 % of a core): the cluster with its default
 * (desktop) timings — agent resyncs, leases, node status, usage sampling, controllers, service
 * proxy, DNS — plus browser mode with the UI open in headless Chromium on the Overview. Once the
 * 100 pods are Ready and things settle (8 minutes), CPU time is measured over 2 minutes: the app's process
 * and the renderer (Chromium's TaskDuration via the DevTools protocol). The whole app's CPU in each
 * minute of the settling is printed too (`settle_pct`), so the way down to the steady state shows.
 * The Docker engine's own CPU is not the app's and is not counted.
 *   {"name":"idle.cpu","value":<% of one core>,"main_pct":…,"renderer_pct":…,"pods":100,"probe":"http","budget_pct":1}
 * The app runs as `wheelhouse serve` in a process of its own; its CPU (and that of the iptables
 * runs it starts) is read from /proc, so the bench's own work (Playwright) is not counted.
 * WHEELHOUSE_BENCH_RENDERER_PROFILE=FILE writes one of the renderer over the measured time;
 * WHEELHOUSE_BENCH_NODE_ARGS adds node flags to the app (e.g. --trace-gc), whose output goes to
 * WHEELHOUSE_BENCH_APP_LOG=FILE.
 * WHEELHOUSE_BENCH_CPU_PROFILE=DIR writes V8 CPU profiles of the app process into DIR when it
 * exits (open one in Chrome's DevTools, or `node bench/profile-summary.mjs FILE`).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { removeServeRules, startServe } from '../test/reliability/helpers.ts';
import { IMAGE, print, removeByLabel, round, sleep } from './agent-env.ts';

const PODS = Number(process.env.WHEELHOUSE_BENCH_IDLE_PODS ?? 100);
const MEASURE_S = Number(process.env.WHEELHOUSE_BENCH_IDLE_SECONDS ?? 120);
/**
 * Idle is the steady state, not the tail of starting 100 pods. After the burst: about a minute on,
 * V8's memory reducer runs a few full garbage collections of the start-up's garbage (about 0.1 s
 * of CPU, once); the relist slows to its quiet period; and V8 goes on optimizing the code that
 * idle work runs (probes, sampling), which it finds hot only slowly at ten probes a second. With
 * `--trace-opt` that was 19, 6, 1 and 5 optimizing compiles in four minutes from minute 5 after a start, on
 * compiler threads whose CPU is the app's: about 0.2 % of a core at minute 5, next to nothing by
 * minute 9. Measured from 8 minutes after the pods are Ready; `settle_pct` shows each minute before.
 */
const SETTLE_S = Number(process.env.WHEELHOUSE_BENCH_IDLE_SETTLE ?? 480);
/** `0`: no UI open (the core alone); renderer_pct is then 0. */
const WITH_UI = process.env.WHEELHOUSE_BENCH_IDLE_UI !== '0';
/** A file to write a V8 CPU profile of the renderer over the measured time into (it adds its own cost). */
const RENDERER_PROFILE = process.env.WHEELHOUSE_BENCH_RENDERER_PROFILE;
/**
 * The pods' readiness probe, every 10 s: `http` (default, the common case: busybox httpd in the
 * pod), `exec` (each run is three engine requests and a process in the container) or `none`.
 */
const PROBE = (process.env.WHEELHOUSE_BENCH_IDLE_PROBE ?? 'http') as 'http' | 'exec' | 'none';
const probeSpec = () =>
  PROBE === 'none' ? {} : PROBE === 'exec' ? { readinessProbe: { exec: { command: ['true'] }, periodSeconds: 10 } } : { readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 10 } };

/** CPU seconds used by a process (user, system) and its reaped children (iptables runs), from /proc. */
function cpuTimes(pid: number): { user: number; sys: number; children: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime, stime, cutime, cstime are fields 14-17; f[0] is field 3.
  return { user: Number(f[11]) / CLOCK_TICKS, sys: Number(f[12]) / CLOCK_TICKS, children: (Number(f[13]) + Number(f[14])) / CLOCK_TICKS };
}
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

async function main(): Promise<void> {
  const name = `bench-idle-${Date.now().toString(36)}`;
  const dataDir = await mkdtemp(join(tmpdir(), 'wh-bench-idle-'));
  const profileDir = process.env.WHEELHOUSE_BENCH_CPU_PROFILE;
  // The app as users run it, in its own process: what the bench itself does (Playwright's
  // protocol traffic, polling) is not counted as the app's.
  const nodeArgs = [
    ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir, '--cpu-prof-interval', process.env.WHEELHOUSE_BENCH_CPU_PROFILE_US ?? '1000'] : []),
    ...(process.env.WHEELHOUSE_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
  ];
  const app = await startServe(name, dataDir, { WHEELHOUSE_LOG: 'warn' }, nodeArgs);
  const uiUrl = /UI:\s+(\S+)/.exec(app.output())?.[1];
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  try {
    if (!uiUrl) throw new Error(`serve printed no UI address:\n${app.output()}`);
    const c = app.client;
    await c.create({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'idle', namespace: 'default' },
      spec: {
        replicas: PODS, selector: { matchLabels: { app: 'idle' } },
        template: { metadata: { labels: { app: 'idle' } }, spec: { containers: [{ name: 'c', image: IMAGE, command: PROBE === 'http' ? ['sh', '-c', 'mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www'] : ['sleep', '1000000'], ...probeSpec() }] } },
      },
    } as any);
    await c.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'idle', namespace: 'default' }, spec: { selector: { app: 'idle' }, ports: [{ port: 80 }] } } as any);
    for (const deadline = Date.now() + 300_000; ; await sleep(1000)) {
      const d = await c.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'idle' });
      if (d.status?.readyReplicas === PODS) break;
      if (Date.now() > deadline) throw new Error(`${PODS} pods not ready in 5 minutes`);
    }
    let task = async () => 0;
    /** UI updates applied (watch batches): an idle cluster should push none. */
    let batches = async () => 0;
    let startRendererProfile = async () => {};
    let stopRendererProfile = async () => {};
    if (WITH_UI) {
      const page = await browser.newPage();
      await page.goto(`${uiUrl}#/overview`);
      batches = () => page.evaluate(() => (globalThis as { __wheelhouse?: { counters: { batches: number } } }).__wheelhouse?.counters.batches ?? 0);
      const cdp = await page.context().newCDPSession(page);
      await cdp.send('Performance.enable');
      task = async () => ((await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'TaskDuration')?.value ?? 0) as number;
      if (RENDERER_PROFILE) {
        await cdp.send('Profiler.enable');
        await cdp.send('Profiler.setSamplingInterval', { interval: 1000 });
        startRendererProfile = async () => void (await cdp.send('Profiler.start'));
        stopRendererProfile = async () => writeFileSync(RENDERER_PROFILE, JSON.stringify((await cdp.send('Profiler.stop')).profile));
      }
    }
    /** The whole app's CPU (% of one core) in each minute of the settling. */
    const settlePct: number[] = [];
    for (let left = SETTLE_S; left > 0; left -= 60) {
      const step = Math.min(60, left);
      const [s0, q0, w0] = [cpuTimes(app.child.pid!), await task(), performance.now()];
      await sleep(step * 1000);
      const [s1, q1, w1] = [cpuTimes(app.child.pid!), await task(), performance.now()];
      const used = s1.user + s1.sys + s1.children - (s0.user + s0.sys + s0.children) + (q1 - q0);
      settlePct.push(round((used / ((w1 - w0) / 1000)) * 100, 2));
    }
    const r0 = await task();
    const b0 = await batches();
    await startRendererProfile();
    const c0 = cpuTimes(app.child.pid!);
    const t0 = performance.now();
    await sleep(MEASURE_S * 1000);
    const c1 = cpuTimes(app.child.pid!);
    const wall = (performance.now() - t0) / 1000;
    const part = (k: keyof typeof c0) => round(((c1[k] - c0[k]) / wall) * 100, 2);
    const cpu = c1.user + c1.sys + c1.children - (c0.user + c0.sys + c0.children);
    const renderer = (await task()) - r0;
    const uiBatches = (await batches()) - b0;
    await stopRendererProfile();
    const mainPct = (cpu / wall) * 100;
    const rendererPct = (renderer / wall) * 100;
    print({
      name: 'idle.cpu',
      value: round(mainPct + rendererPct, 2),
      unit: '% of one core',
      main_pct: round(mainPct, 2),
      main_user_pct: part('user'),
      main_sys_pct: part('sys'),
      children_pct: part('children'),
      renderer_pct: round(rendererPct, 2),
      ui_watch_batches: uiBatches,
      pods: PODS,
      probe: PROBE,
      ui: WITH_UI,
      seconds: round(wall, 1),
      settle_s: SETTLE_S,
      settle_pct: settlePct,
      budget_pct: 1,
      within_budget: mainPct + rendererPct <= 1,
    });
  } finally {
    await browser.close().catch(() => {});
    await app.stop().catch(() => {});
    if (process.env.WHEELHOUSE_BENCH_APP_LOG) writeFileSync(process.env.WHEELHOUSE_BENCH_APP_LOG, app.output());
    await removeByLabel(name);
    await removeServeRules(name, dataDir);
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
