import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DockerRuntime } from '../../../core/runtime/docker/docker-runtime.ts';
import { LABEL, type ContainerConfig, type LogLine, type RuntimeEvent } from '../../../core/runtime/runtime.ts';
import { cleanupCluster, containerConfig, docker, newRuntime, requireBusybox, sandboxConfig, testCluster, waitFor } from './helpers.ts';

const cluster = testCluster('io');
const network = `${cluster}-net`;
let rt: DockerRuntime;
let sandbox: string;

beforeAll(async () => {
  await requireBusybox();
  rt = newRuntime();
  await rt.ensureNetwork(network, { [LABEL.cluster]: cluster });
  sandbox = await rt.runPodSandbox(sandboxConfig(cluster, network));
});

afterAll(async () => {
  await rt?.close();
  await cleanupCluster(cluster);
});

let n = 0;
async function run(cfg: Partial<ContainerConfig>): Promise<string> {
  const id = await rt.createContainer(sandbox, containerConfig({ name: `io${++n}`, ...cfg }));
  await rt.startContainer(id);
  return id;
}

async function collect(it: AsyncIterable<LogLine>): Promise<LogLine[]> {
  const out: LogLine[] = [];
  for await (const l of it) out.push(l);
  return out;
}

describe('logs', () => {
  it('demultiplexes stdout and stderr, honours tailLines and timestamps', async () => {
    const id = await run({ command: ['sh', '-c', 'for i in 1 2 3 4; do echo out$i; done; sleep 0.2; echo err1 >&2; sleep 0.2; echo out5; printf no-newline'] });
    await waitFor('exit', async () => (await rt.containerStatus(id)).state === 'exited');
    const all = await collect(rt.logs(id));
    expect(all).toEqual([
      { stream: 'stdout', line: 'out1' },
      { stream: 'stdout', line: 'out2' },
      { stream: 'stdout', line: 'out3' },
      { stream: 'stdout', line: 'out4' },
      { stream: 'stderr', line: 'err1' },
      { stream: 'stdout', line: 'out5' },
      { stream: 'stdout', line: 'no-newline' },
    ]);
    const tail = await collect(rt.logs(id, { tailLines: 3 }));
    expect(tail.map((l) => l.line)).toEqual(['err1', 'out5', 'no-newline']);
    const stamped = await collect(rt.logs(id, { tailLines: 1, timestamps: true }));
    expect(stamped).toHaveLength(1);
    expect(stamped[0]!.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/);
    expect(Math.abs(Date.parse(stamped[0]!.time!) - Date.now())).toBeLessThan(60_000);
    expect(await collect(rt.logs(id, { sinceTime: new Date(Date.now() + 60_000) }))).toEqual([]);
  });

  it('follows a running container until aborted', async () => {
    const id = await run({ command: ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo tick$i; sleep 0.1; done'] });
    const ac = new AbortController();
    const got: string[] = [];
    const t0 = Date.now();
    for await (const l of rt.logs(id, { follow: true }, ac.signal)) {
      got.push(l.line);
      if (got.length === 5) ac.abort();
    }
    expect(got).toEqual(['tick1', 'tick2', 'tick3', 'tick4', 'tick5']);
    expect(Date.now() - t0).toBeLessThan(5_000);
    await rt.stopContainer(id, 0);
  });

  it('follow ends when the container exits', async () => {
    const id = await run({ command: ['sh', '-c', 'echo a; sleep 0.5; echo b'] });
    const lines = await collect(rt.logs(id, { follow: true }));
    expect(lines.map((l) => l.line)).toEqual(['a', 'b']);
  });

  it('reads a TTY container (not multiplexed)', async () => {
    const id = await run({ tty: true, command: ['sh', '-c', 'echo on-tty; echo also-tty >&2'] });
    await waitFor('exit', async () => (await rt.containerStatus(id)).state === 'exited');
    expect(await collect(rt.logs(id))).toEqual([
      { stream: 'stdout', line: 'on-tty' },
      { stream: 'stdout', line: 'also-tty' },
    ]);
  });
});

describe('exec', () => {
  let target: string;
  beforeAll(async () => {
    target = await run({ name: 'exec-target', command: ['sleep', '300'] });
  });

  it('execSync returns exit code, stdout and stderr', async () => {
    const r = await rt.execSync(target, ['sh', '-c', 'echo to-out; echo to-err >&2; exit 7'], 5_000);
    expect(r).toEqual({ exitCode: 7, stdout: 'to-out\n', stderr: 'to-err\n', truncated: false });
    expect((await rt.execSync(target, ['true'], 5_000)).exitCode).toBe(0);
  });

  it('execSync times out', async () => {
    const t0 = Date.now();
    await expect(rt.execSync(target, ['sleep', '5'], 300)).rejects.toMatchObject({ name: 'ExecTimeoutError' });
    expect(Date.now() - t0).toBeLessThan(2_000);
  });

  it('an interactive session takes stdin and reports the exit code', async () => {
    const s = await rt.exec(target, { cmd: ['sh', '-c', 'while read l; do echo "got:$l"; done; echo bye >&2; exit 4'], stdin: true });
    let out = '';
    let err = '';
    s.stdout.on('data', (b: Buffer) => (out += b.toString()));
    s.stderr.on('data', (b: Buffer) => (err += b.toString()));
    s.stdin!.write('one\n');
    s.stdin!.write('two\n');
    s.stdin!.end();
    expect(await s.exitCode()).toBe(4);
    expect(out).toBe('got:one\ngot:two\n');
    expect(err).toBe('bye\n');
  });

  it('a TTY session can be resized', async () => {
    const s = await rt.exec(target, { cmd: ['sh'], stdin: true, tty: true });
    let out = '';
    s.stdout.on('data', (b: Buffer) => (out += b.toString()));
    await s.resize(123, 45);
    s.stdin!.write('stty size; exit 0\n');
    expect(await s.exitCode()).toBe(0);
    expect(out).toContain('45 123');
  });
});

describe('stats', () => {
  it('reports CPU and working-set memory of a busy container', async () => {
    const id = await run({
      name: 'busy',
      command: ['sh', '-c', 'x=$(head -c 8000000 /dev/zero | tr "\\0" a); while true; do :; done'],
      resources: { memoryLimitBytes: 256 * 1024 * 1024 },
    });
    await new Promise((r) => setTimeout(r, 300));
    let t0 = Date.now();
    const first = await rt.containerStats(id); // two one-shot samples 250 ms apart
    expect(Date.now() - t0).toBeLessThan(1_500);
    expect(first.cpuNanoCores).toBeGreaterThan(300_000_000); // a busy loop: most of a core
    expect(first.cpuNanoCores).toBeLessThan(2_100_000_000);
    expect(first.memoryWorkingSetBytes).toBeGreaterThan(1_000_000);
    expect(first.memoryWorkingSetBytes).toBeLessThan(256 * 1024 * 1024);
    expect(first.memoryUsageBytes).toBeGreaterThanOrEqual(first.memoryWorkingSetBytes);
    t0 = Date.now();
    const second = await rt.containerStats(id); // delta from the previous sample: one request
    expect(Date.now() - t0).toBeLessThan(1_500); // the engine samples once a second
    expect(second.cpuNanoCores).toBeGreaterThan(300_000_000);
    expect(second.cpuUsageCoreNanoSeconds).toBeGreaterThan(first.cpuUsageCoreNanoSeconds);
    const sb = await rt.containerStats(sandbox);
    expect(sb.network).toBeDefined();
    // usageOnly (the agent's usage sampler): CPU and memory, no network counters or pids.
    const lean = await rt.containerStats(sandbox, { usageOnly: true });
    expect(lean.network).toBeUndefined();
    expect(lean.pids).toBeUndefined();
    expect(lean.memoryUsageBytes).toBeGreaterThan(0);
    expect((await rt.containerStats(id, { usageOnly: true })).cpuNanoCores).toBeGreaterThan(300_000_000);
    // On this machine the figures come from the cgroup files (cgroup-stats.ts); they agree with
    // what the engine's own stats say.
    const { CgroupStats, heldCgroupFiles } = await import('../../../core/runtime/docker/cgroup-stats.ts');
    const cg = new CgroupStats();
    const heldBefore = heldCgroupFiles();
    const files = await cg.read(id);
    expect(files, 'the container cgroup is readable here').toBeDefined();
    const api = (await docker.getContainer(id).stats({ stream: false, 'one-shot': true } as { stream: false })) as any;
    const ours = await rt.containerStats(id);
    expect(Math.abs(ours.memoryUsageBytes - api.memory_stats.usage) / api.memory_stats.usage).toBeLessThan(0.2);
    expect(Math.abs(ours.cpuUsageCoreNanoSeconds - api.cpu_stats.cpu_usage.total_usage)).toBeLessThan(2e9);
    // The files stay open between reads and are read again from their start: fresh figures each time.
    expect(heldCgroupFiles()).toBeGreaterThan(heldBefore);
    await new Promise((r) => setTimeout(r, 200));
    const again = await cg.read(id);
    expect(again!.cpuTotalNs).toBeGreaterThan(files!.cpuTotalNs + 50_000_000);
    await rt.stopContainer(id, 0);
    // Stopped: its cgroup is gone, the open files say so, and they are closed.
    expect(await cg.read(id)).toBeUndefined();
    expect(heldCgroupFiles()).toBe(heldBefore);
  });
});

describe('events', () => {
  it('sees a container die within ~100 ms of docker kill', async () => {
    const id = await run({ name: 'victim', command: ['sleep', '300'] });
    const seen: RuntimeEvent[] = [];
    let resolveDie: (t: number) => void;
    const died = new Promise<number>((r) => (resolveDie = r));
    const stop = rt.events(
      (e) => {
        seen.push(e);
        if (e.action === 'die' && e.id === id) resolveDie(performance.now());
      },
      { cluster, types: ['container'] },
    );
    try {
      await new Promise((r) => setTimeout(r, 300)); // let the stream connect
      const t0 = performance.now();
      await docker.getContainer(id).kill();
      const latency = (await died) - t0;
      expect(latency).toBeLessThan(300); // ~50-70 ms here, kill round trip included; slack for a shared machine
      const die = seen.find((e) => e.action === 'die' && e.id === id)!;
      expect(die).toMatchObject({ type: 'container', exitCode: 137 });
      expect(die.labels).toMatchObject({ [LABEL.cluster]: cluster, [LABEL.containerName]: 'victim', [LABEL.type]: 'container' });
      expect(die.labels.name).toBeUndefined();
      expect(seen.every((e) => e.labels[LABEL.cluster] === cluster)).toBe(true);
    } finally {
      stop();
    }
  });

  it('reports oom before die for an OOM kill', async () => {
    const seen: RuntimeEvent[] = [];
    const stop = rt.events((e) => seen.push(e), { cluster, actions: ['oom', 'die'] });
    try {
      await new Promise((r) => setTimeout(r, 200));
      const id = await run({ name: 'hog', command: ['sh', '-c', 'x=0123456789abcdef; while true; do x="$x$x"; done'], resources: { memoryLimitBytes: 32 << 20 } });
      await waitFor('oom and die events', async () => seen.some((e) => e.id === id && e.action === 'die'), 20_000);
      const mine = seen.filter((e) => e.id === id).map((e) => e.action);
      expect(mine).toEqual(['oom', 'die']);
    } finally {
      stop();
    }
  });
});
