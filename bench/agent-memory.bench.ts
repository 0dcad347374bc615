/**
 * Agent memory: resident set size of one process running the in-process control plane (memory
 * store, API server) plus a node agent with 100 running pods (pause + busybox container each),
 * created as a ReplicaSet would (slow-start batches), after the pods have been running through
 * a resync and metrics samples (default intervals). Also printed: RSS before
 * the agent started (control plane and libraries alone) and the JS heap.
 *
 * The measured process runs the way the product ships: plain JavaScript on Node. Under tsx the
 * TypeScript loader alone (a loader thread with its own V8 heap, esbuild) puts ~30 MB on the RSS
 * before anything Wheelhouse does, so this file, when started by bench/run.ts, first transpiles
 * its own import graph with TypeScript (transpileModule, no type check) into
 * node_modules/.cache/wheelhouse-bench/ and runs that in a child `node` with default flags.
 *   {"name":"agent-memory","pods":100,"value":<rss MB>,"unit":"MB","ratio":<value / 100 MB target>,…}
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const PODS = Number(process.env.WHEELHOUSE_BENCH_PODS ?? 100);
/** Long enough for a resync of every pod (10 s) and a couple of metrics samples (5 s): the defaults. */
const SETTLE_MS = Number(process.env.WHEELHOUSE_BENCH_SETTLE_MS ?? 12_000);
const MB = 1024 * 1024;
const ROOT = resolve(import.meta.dirname, '..');

if (process.env.WHEELHOUSE_BENCH_CHILD === '1') await measure();
else await runChild();

/** Transpiles this file's import graph to JS and runs it as plain Node; passes its output through. */
async function runChild(): Promise<void> {
  const ts = (await import('typescript')).default;
  const out = join(ROOT, 'node_modules/.cache/wheelhouse-bench');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'package.json'), '{"type":"module"}\n');
  const todo = [import.meta.filename];
  const done = new Set<string>();
  while (todo.length) {
    const file = todo.pop()!;
    if (done.has(file)) continue;
    done.add(file);
    const src = readFileSync(file, 'utf8');
    for (const m of src.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+\.ts)'/g)) todo.push(resolve(dirname(file), m[1]!));
    const js = ts.transpileModule(src, {
      fileName: file,
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        verbatimModuleSyntax: true,
        rewriteRelativeImportExtensions: true,
      },
    }).outputText;
    const target = join(out, relative(ROOT, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, js);
  }
  const entry = join(out, relative(ROOT, import.meta.filename)).replace(/\.ts$/, '.js');
  const code = await new Promise<number>((r) => {
    const child = spawn(process.execPath, [entry], { stdio: 'inherit', env: { ...process.env, WHEELHOUSE_BENCH_CHILD: '1' } });
    child.on('exit', (c, sig) => r(c ?? (sig ? 1 : 0)));
  });
  process.exitCode = code;
}

async function measure(): Promise<void> {
  const { setFlagsFromString } = await import('node:v8');
  const { runInNewContext } = await import('node:vm');
  const { IMAGE, benchEnv, print, round, sleep } = await import('./agent-env.ts');
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const sample = () => {
    gc();
    gc();
    const m = process.memoryUsage();
    return { rss: m.rss / MB, heap: m.heapUsed / MB, heapTotal: m.heapTotal / MB };
  };
  const env = await benchEnv('mem', { metrics: {} });
  try {
    const before = sample();
    await env.agent.start();
    const names = Array.from({ length: PODS }, (_, i) => `m-${i}`);
    const running = env.watchPods(names, (p) => p.status?.phase === 'Running' && p.status.containerStatuses?.[0]?.state?.running);
    const t0 = performance.now();
    // Created the way a ReplicaSet controller creates 100 replicas: slow-start batches 1, 2, 4, 8 …
    for (let i = 0, batch = 1; i < names.length; i += batch, batch *= 2) {
      await Promise.all(
        names.slice(i, i + batch).map((name, k) =>
          env.client.create({
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: { name, namespace: 'default', labels: { app: 'mem', shard: String((i + k) % 4) } },
            spec: {
              nodeName: 'node-1',
              terminationGracePeriodSeconds: 0,
              containers: [{ name: 'c', image: IMAGE, command: ['sleep', '3600'], resources: { limits: { cpu: '50m', memory: '16Mi' } } }],
            },
          }),
        ),
      );
    }
    await running;
    const startedMs = performance.now() - t0;
    await sleep(SETTLE_MS);
    const after = sample();
    print({
      name: 'agent-memory',
      pods: PODS,
      value: round(after.rss),
      unit: 'MB',
      ratio: round(after.rss / 100, 3),
      target_mb: 100,
      rss_before_agent_mb: round(before.rss),
      heap_used_mb: round(after.heap),
      heap_used_before_agent_mb: round(before.heap),
      heap_total_mb: round(after.heapTotal),
      pods_running_after_ms: round(startedMs),
      metrics_samples: env.agent.metrics.nodeUsage().history.length,
      runs_as: `node ${process.version}, transpiled JS, default V8 flags`,
    });
  } finally {
    await env.cleanup();
  }
}
