/**
 * The reliability suite's tools: `wheelhouse serve` as a real child process (so it can be
 * killed with SIGKILL), a client for it from its kubeconfig, Docker-side views of what the
 * cluster runs (to count duplicates and orphans), and clean-up of everything a run made.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Docker from 'dockerode';
import { HttpClient } from '../../core/client/http-client.ts';
import { HostIptables } from '../../core/network/proxy/iptables.ts';
import { chainPrefix } from '../../core/network/proxy/iptables-rules.ts';
import { LABEL } from '../../core/runtime/runtime.ts';
import { removeLabelled } from '../docker-cleanup.ts';

export const ROOT = resolve(import.meta.dirname, '../..');
export const BUSYBOX = `wheelhouse-test/busybox:${process.env.TEST_IMAGE_VERSION ?? '1'}`;
export const docker = new Docker();
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface ServeProcess {
  child: ChildProcess;
  client: HttpClient;
  kubeconfig: string;
  output(): string;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
  /** SIGKILL: no clean-up at all, as a crash or a power cut. */
  kill(): Promise<void>;
}

export interface Run {
  name: string;
  dataDir: string;
  start(env?: Record<string, string>): Promise<ServeProcess>;
  cleanup(): Promise<void>;
}

export function newRun(prefix: string): Run {
  const name = `rel-${prefix}-${randomBytes(3).toString('hex')}`;
  const dataDir = mkdtempSync(join(tmpdir(), `wh-rel-${prefix}-`));
  const procs: ServeProcess[] = [];
  return {
    name,
    dataDir,
    async start(env = {}) {
      const p = await startServe(name, dataDir, env);
      procs.push(p);
      return p;
    },
    async cleanup() {
      for (const p of procs) await p.kill().catch(() => {});
      await removeLabelled(docker, name);
      await removeServeRules(name, dataDir);
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(join('/dev/shm/wheelhouse', name), { recursive: true, force: true });
    },
  };
}

/** Newest modification time of the files under a folder. */
function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/**
 * The `wheelhouse` command as it ships (out/cli/wheelhouse.mjs, the esbuild bundle that
 * bin/wheelhouse.js runs), built here when missing or older than core/. Recovery times are the
 * product's: starting through tsx would add 2–3 s of TypeScript compilation to each start.
 */
export function cliBundle(): string {
  const bundle = join(ROOT, 'out', 'cli', 'wheelhouse.mjs');
  if (!existsSync(bundle) || statSync(bundle).mtimeMs < newest(join(ROOT, 'core'))) {
    execFileSync('bash', [join(ROOT, 'scripts', 'build-cli.sh')], { cwd: ROOT, stdio: 'inherit' });
  }
  return bundle;
}

/**
 * Removes the service rules of a `wheelhouse serve` run: serve leaves them in place when it stops
 * (pods keep reaching each other, as with kube-proxy), so a test or bench that is done removes them.
 */
export function removeServeRules(name: string, dataDir: string): Promise<void> {
  return new HostIptables().removeAll(chainPrefix(`${name}|${dataDir}`)).catch(() => {});
}

/** Starts `wheelhouse serve` and resolves once it has printed its kubeconfig (the API answers then). */
export function startServe(name: string, dataDir: string, env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<ServeProcess> {
  const child = spawn(process.execPath, [...nodeArgs, cliBundle(), 'serve', '--data-dir', dataDir, '--name', name], {
    cwd: ROOT,
    env: { ...process.env, WHEELHOUSE_LOG: process.env.WHEELHOUSE_LOG ?? 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  // 'close': the exit code once the output is all read.
  const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
  const proc = (kubeconfig: string): ServeProcess => ({
    child,
    kubeconfig,
    client: HttpClient.fromKubeconfig(kubeconfig),
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  });
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start in 60 s:\n${out}`)), 60_000);
    const onData = () => {
      const m = /kubeconfig:\s+(\S+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolvePromise(proc(m[1]!));
    };
    child.stdout!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${code}) before it started:\n${out}`));
    });
  });
}

/** Runs `wheelhouse serve` expecting it to refuse to start: resolves with its exit code and output. */
export function failingServe(name: string, dataDir: string): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [cliBundle(), 'serve', '--data-dir', dataDir, '--name', name], {
    cwd: ROOT,
    env: { ...process.env, WHEELHOUSE_LOG: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return new Promise((res) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      res({ code, output: out });
    });
  });
}

export interface DockerView {
  /** Running app containers per `podUid/container`. */
  running: Map<string, number>;
  /** Running sandboxes per pod uid. */
  sandboxes: Map<string, number>;
  /** Pod uids of every container of the cluster (running or not). */
  podUids: Set<string>;
}

export async function dockerView(cluster: string): Promise<DockerView> {
  const list = await docker.listContainers({ all: true, filters: { label: [`${LABEL.cluster}=${cluster}`] } });
  const v: DockerView = { running: new Map(), sandboxes: new Map(), podUids: new Set() };
  for (const c of list) {
    const uid = c.Labels[LABEL.podUid];
    if (!uid) continue;
    v.podUids.add(uid);
    if (c.State !== 'running') continue;
    const name = c.Labels[LABEL.containerName];
    if (name) v.running.set(`${uid}/${name}`, (v.running.get(`${uid}/${name}`) ?? 0) + 1);
    else v.sandboxes.set(uid, (v.sandboxes.get(uid) ?? 0) + 1);
  }
  return v;
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs: number, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await sleep(everyMs);
  }
}

export const isReady = (p: any): boolean =>
  !p.metadata.deletionTimestamp && p.status?.phase === 'Running' && (p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');

/** Prints one JSON line of measurements (collected by the suite's report). */
export function report(line: Record<string, unknown>): void {
  process.stdout.write(`RELIABILITY ${JSON.stringify(line)}\n`);
}
