/**
 * End-to-end set-up: the real core on the real Docker engine (a cluster whose name is unique to
 * the test file, cleaned up by its `io.wheelhouse.cluster` label), browser mode on a 127.0.0.1
 * port (`serveBrowserMode`), and headless Debian Chromium driven by playwright-core. Screenshots
 * go to test-results/screenshots/.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Docker from 'dockerode';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { KubeObject } from '../../core/api/types.ts';
import { startCluster, type Cluster, type ClusterConfig } from '../../core/cluster.ts';
import { DEFAULT_STATIC_DIR, serveBrowserMode, type BrowserMode } from '../../core/desktop/serve-browser.ts';
import { removeLabelled } from '../docker-cleanup.ts';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
export const BUSYBOX = `wheelhouse-test/busybox:${process.env.TEST_IMAGE_VERSION ?? '1'}`;
export const ROOT = resolve(import.meta.dirname, '../..');
export const SHOTS = join(ROOT, 'test-results', 'screenshots');

const docker = new Docker();

/** The cluster of the running test file: a timed-out `eventually` says what its pods were doing. */
let current: Cluster | undefined;

/**
 * One line on the cluster's state for a failure message (CI shows only the end of its log):
 * each pod's node, phase, readiness and container states; each Endpoints' ready/not-ready
 * counts; the last Warning events.
 */
export async function describeCluster(cluster: Cluster): Promise<string> {
  const parts: string[] = [];
  const pods = (await cluster.client.list({ apiVersion: 'v1', kind: 'Pod' })).items as Array<KubeObject & { spec?: { nodeName?: string }; status?: any }>;
  for (const p of pods) {
    const st = p.status ?? {};
    const ready = (st.conditions ?? []).find((c: { type: string }) => c.type === 'Ready')?.status ?? '?';
    const cs = (st.containerStatuses ?? [])
      .map((c: any) => `${c.name}:${Object.keys(c.state ?? {})[0] ?? '?'}${c.state?.waiting?.reason ? `(${c.state.waiting.reason})` : ''}${c.state?.terminated?.reason ? `(${c.state.terminated.reason})` : ''} r${c.restartCount ?? 0}`)
      .join(',');
    parts.push(`pod ${p.metadata.namespace}/${p.metadata.name} ${p.spec?.nodeName ?? 'unbound'} ${st.phase ?? '?'} ready=${ready} ip=${st.podIP ?? '-'} [${cs}]`);
  }
  const eps = (await cluster.client.list({ apiVersion: 'v1', kind: 'Endpoints' })).items as Array<KubeObject & { subsets?: Array<{ addresses?: unknown[]; notReadyAddresses?: unknown[] }> }>;
  for (const ep of eps) {
    const r = (ep.subsets ?? []).reduce((n, s) => n + (s.addresses?.length ?? 0), 0);
    const nr = (ep.subsets ?? []).reduce((n, s) => n + (s.notReadyAddresses?.length ?? 0), 0);
    parts.push(`endpoints ${ep.metadata.namespace}/${ep.metadata.name} ${r}/${r + nr}`);
  }
  const events = (await cluster.client.list({ apiVersion: 'v1', kind: 'Event' })).items as Array<KubeObject & { type?: string; reason?: string; message?: string; involvedObject?: { kind?: string; name?: string } }>;
  for (const ev of events.filter((x) => x.type === 'Warning').slice(-6)) {
    parts.push(`warning ${ev.involvedObject?.kind}/${ev.involvedObject?.name} ${ev.reason}: ${(ev.message ?? '').slice(0, 160)}`);
  }
  return parts.join('; ');
}

export interface E2E {
  name: string;
  cluster: Cluster;
  bm: BrowserMode;
  browser: Browser;
  page: Page;
  /** Page errors and console errors seen so far. */
  errors: string[];
  shot(name: string): Promise<string>;
  close(): Promise<void>;
}

/** Fails with what to do when a prerequisite is missing. */
export async function requirePrerequisites(): Promise<void> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run "bash scripts/ensure-chromium.sh" (as root, Debian) or set CHROMIUM_PATH`);
  try {
    await docker.ping();
  } catch {
    throw new Error('no Docker engine answers: run "bash scripts/ensure-docker.sh"');
  }
  try {
    await docker.getImage(BUSYBOX).inspect();
  } catch {
    throw new Error(`test image ${BUSYBOX} is missing: run "bash scripts/build-test-images.sh"`);
  }
  if (!existsSync(join(DEFAULT_STATIC_DIR, 'index.html')) || process.env.WHEELHOUSE_E2E_BUILD === '1') {
    execFileSync('bash', ['scripts/build-ui.sh', 'renderer'], { cwd: ROOT, stdio: 'inherit' });
  }
}

export async function cleanupDocker(cluster: string): Promise<void> {
  await removeLabelled(docker, cluster);
}

export async function startE2E(prefix: string, cfg: Partial<ClusterConfig> = {}, opts: { host?: Parameters<typeof serveBrowserMode>[1] extends infer O ? (O extends { host?: infer H } ? H : never) : never } = {}): Promise<E2E> {
  await requirePrerequisites();
  const name = `e2e-${prefix}-${randomBytes(3).toString('hex')}`;
  const dataDir = await mkdtemp(join(tmpdir(), `wh-${name}-`));
  mkdirSync(SHOTS, { recursive: true });
  const cluster = await startCluster({
    dataDir,
    name,
    defaultNode: { name: 'node-1', capacity: { cpu: '4', memory: '8Gi', pods: '50' } },
    agent: {
      restartBackoff: { initialMs: 300, maxMs: 2_000 },
      imagePullBackoff: { initialMs: 500, maxMs: 4_000 },
      leaseRenewIntervalMs: 1_000,
      nodeStatusUpdateIntervalMs: 1_000,
      resyncIntervalMs: 2_000,
      metrics: { intervalMs: 1_000 },
    },
    ...cfg,
  });
  let bm: BrowserMode | undefined;
  let browser: Browser | undefined;
  try {
    bm = await serveBrowserMode(cluster, opts.host ? { host: opts.host } : {});
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  } catch (e) {
    await bm?.close();
    await cluster.stop();
    await cleanupDocker(name);
    throw e;
  }
  current = cluster;
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  const b = browser;
  const server = bm;
  return {
    name,
    cluster,
    bm: server,
    browser: b,
    page,
    errors,
    async shot(shotName) {
      const path = join(SHOTS, `${shotName}.png`);
      await page.screenshot({ path });
      return path;
    },
    async close() {
      if (current === cluster) current = undefined;
      await b.close().catch(() => {});
      await server.close().catch(() => {});
      await cluster.stop().catch(() => {});
      await cleanupDocker(name);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Drops files on the window with a real DataTransfer (dragenter → dragover → drop). */
export async function dropFiles(page: Page, files: Array<{ name: string; text: string }>, selector = 'main.content'): Promise<void> {
  const dt = await page.evaluateHandle((fs) => {
    // (The page's globals: this file is type-checked without the DOM library.)
    const g = globalThis as unknown as { DataTransfer: new () => { items: { add(f: unknown): void } }; File: new (parts: string[], name: string, o: object) => unknown };
    const d = new g.DataTransfer();
    for (const f of fs) d.items.add(new g.File([f.text], f.name, { type: 'application/x-yaml' }));
    return d;
  }, files);
  const target = page.locator(selector);
  await target.dispatchEvent('dragenter', { dataTransfer: dt });
  await target.dispatchEvent('dragover', { dataTransfer: dt });
  await target.dispatchEvent('drop', { dataTransfer: dt });
}

/** Navigates the app (hash routes keep the page and its connection). */
export async function goTo(page: Page, hash: string): Promise<void> {
  await page.evaluate((h) => {
    (globalThis as unknown as { location: { hash: string } }).location.hash = h;
  }, hash);
}

/** Polls `fn` until it returns a truthy value. */
export async function eventually<T>(what: string, fn: () => Promise<T> | T, timeoutMs = 60_000): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) {
      const state = current ? await describeCluster(current).catch((e) => `(cluster state unavailable: ${(e as Error).message})`) : '';
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}${state ? ` — cluster: ${state}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
