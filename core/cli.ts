/**
 * The `wheelhouse` command.
 *   wheelhouse serve [--data-dir DIR] [--port PORT]   run the control plane headless
 *   wheelhouse apply -f FILE… [--data-dir DIR] [--dry-run] [-n NS]
 *   wheelhouse get KIND [NAME] [-n NS | -A] [-o json|yaml] [--data-dir DIR]
 *   wheelhouse start                                    the desktop app (see `npm start`)
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { projectRoot } from './paths.ts';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { defaultDataDir, startCluster, type Cluster } from './cluster.ts';
import { serve as serveCluster } from './serve.ts';
import { isApiError } from './api/errors.ts';
import { resolveResourceName, apiVersionOf } from './api/kinds.ts';
import { ImportError, parseManifests, type ParsedDocument } from './api/yaml-import.ts';
import { applyManifests } from './api/apply.ts';
import { validateObject } from './api/validation/index.ts';
import type { KubeObject } from './api/types.ts';

const USAGE = `usage:
  wheelhouse serve [--data-dir DIR] [--port PORT] [--api-port PORT] [--name CLUSTER]
  wheelhouse apply -f FILE [-f FILE…] [--data-dir DIR] [-n NAMESPACE] [--dry-run]
  wheelhouse get KIND [NAME] [-n NAMESPACE | -A] [-o json|yaml] [--data-dir DIR]
  wheelhouse start`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'serve':
      return serve(rest);
    case 'start':
      return start(rest);
    case 'apply':
      return apply(rest);
    case 'get':
      return get(rest);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      console.log(USAGE);
      return cmd ? 0 : 2;
    default:
      console.error(`wheelhouse: unknown command "${cmd}"\n${USAGE}`);
      return 2;
  }
}

async function serve(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { 'data-dir': { type: 'string' }, port: { type: 'string' }, 'api-port': { type: 'string' }, name: { type: 'string' } },
    strict: true,
  });
  if (values.name !== undefined && !/^[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?$/.test(values.name)) {
    console.error(`wheelhouse serve: --name "${values.name}" must be a DNS label (lowercase letters, digits and '-', at most 42 characters)`);
    return 2;
  }
  const port = parsePort('--port', values.port, 0);
  const apiPort = parsePort('--api-port', values['api-port'], 0);
  if (port === undefined || apiPort === undefined) return 2;
  const served = await serveCluster({ dataDir: values['data-dir'] ?? defaultDataDir(), apiPort, port, ...(values.name ? { name: values.name } : {}) });
  const { cluster, apiServer, ui } = served;
  console.log(`Wheelhouse is running (data folder ${cluster.dataDir}, nodes: ${[...cluster.agents.keys()].join(', ') || 'none'}).`);
  console.log(`Kubernetes API: ${apiServer.url}`);
  console.log(`kubeconfig:     ${apiServer.kubeconfigPath}   (kubectl --kubeconfig ${apiServer.kubeconfigPath} get pods)`);
  console.log(`UI:             ${ui.url}`);
  await new Promise<void>((resolveStop) => {
    const stop = () => resolveStop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await served.stop();
  console.log('Wheelhouse stopped; its containers keep running and are adopted at the next start.');
  return 0;
}

function parsePort(flag: string, value: string | undefined, fallback: number): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    console.error(`wheelhouse serve: ${flag} must be a number from 0 to 65535, not "${value}"`);
    return undefined;
  }
  return n;
}

/**
 * `npm start`: the Electron desktop app. Where Electron cannot start (its binary was not
 * downloaded, or there is no display) say why and run browser mode instead.
 */
async function start(args: string[]): Promise<number> {
  const why = electronUnavailable();
  if (why) {
    console.error(`wheelhouse start: ${why}; running in browser mode instead (open the UI URL below).`);
    return serve(args);
  }
  const root = projectRoot();
  const build = spawnSync('bash', [join(root, 'scripts', 'build-ui.sh')], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) {
    console.error('wheelhouse start: building the UI failed; running in browser mode instead.');
    return serve(args);
  }
  const electron = createRequire(import.meta.url)('electron') as unknown as string;
  const r = spawnSync(electron, [join(root, 'out', 'electron', 'main.mjs'), ...args], { cwd: root, stdio: 'inherit' });
  return r.status ?? 1;
}

function electronUnavailable(): string | undefined {
  let bin: string;
  try {
    bin = createRequire(import.meta.url)('electron') as unknown as string;
  } catch {
    return 'the Electron binary is missing (npm installed the electron package without it: ELECTRON_SKIP_BINARY_DOWNLOAD was set or the download failed)';
  }
  if (typeof bin !== 'string' || !existsSync(bin)) return 'the Electron binary is missing (it is downloaded at install time; ELECTRON_SKIP_BINARY_DOWNLOAD was set or the download failed)';
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return 'there is no display (DISPLAY and WAYLAND_DISPLAY are unset)';
  return undefined;
}

async function withCluster(dataDir: string | undefined, fn: (c: Cluster) => Promise<number>): Promise<number> {
  process.env.WHEELHOUSE_LOG ??= 'warn'; // one-shot commands print results, not the cluster's log
  // One-shot commands need the API layer only: no controllers, no node agents.
  const cluster = await startCluster({ dataDir: dataDir ?? defaultDataDir(), runtime: false, controlPlane: false });
  try {
    return await fn(cluster);
  } finally {
    await cluster.stop();
  }
}

async function apply(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      filename: { type: 'string', short: 'f', multiple: true },
      'data-dir': { type: 'string' },
      namespace: { type: 'string', short: 'n' },
      'dry-run': { type: 'boolean' },
    },
    strict: true,
  });
  const files = values.filename ?? [];
  if (!files.length) {
    console.error('wheelhouse apply: give at least one file with -f');
    return 2;
  }
  const docs: ParsedDocument[] = [];
  try {
    for (const f of files) {
      const text = f === '-' ? readFileSync(0, 'utf8') : readFileText(f);
      docs.push(...parseManifests(text, f));
    }
  } catch (e) {
    return reportImportError(e);
  }
  return withCluster(values['data-dir'], async (cluster) => {
    try {
      const results = await applyManifests(cluster.client, docs, {
        dryRun: values['dry-run'],
        namespace: values.namespace,
        fieldManager: 'wheelhouse-cli',
        validate: validateObject,
      });
      for (const r of results) {
        const info = resolveResourceName(r.kind);
        const res = info ? (info.group ? `${info.singular}.${info.group}` : info.singular) : r.kind.toLowerCase();
        console.log(`${res}/${r.name} ${r.action}${values['dry-run'] ? ' (dry run)' : ''}`);
      }
      return 0;
    } catch (e) {
      return reportImportError(e);
    }
  });
}

function readFileText(path: string): string {
  const size = statSync(path).size;
  if (size > 4 * 1024 * 1024) {
    // parseManifests checks too; this avoids reading a huge file into memory first.
    throw new ImportError([{ file: path, document: 0, line: 0, column: 0, message: `file is ${(size / 1048576).toFixed(1)} MiB; the limit is 4 MiB` }]);
  }
  return readFileSync(path, 'utf8');
}

function reportImportError(e: unknown): number {
  if (e instanceof ImportError) {
    console.error(e.message);
    return 1;
  }
  if (isApiError(e)) {
    console.error(`Error from server (${e.reason}): ${e.message}`);
    return 1;
  }
  throw e;
}

async function get(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      'data-dir': { type: 'string' },
      namespace: { type: 'string', short: 'n' },
      'all-namespaces': { type: 'boolean', short: 'A' },
      output: { type: 'string', short: 'o' },
    },
    strict: true,
  });
  const [what, name] = positionals;
  const info = what ? resolveResourceName(what) : undefined;
  if (!info) {
    console.error(`wheelhouse get: the server doesn't have a resource type "${what ?? ''}"`);
    return 1;
  }
  return withCluster(values['data-dir'], async (cluster) => {
    const ref = { apiVersion: apiVersionOf(info), kind: info.kind };
    const ns = values['all-namespaces'] ? undefined : (values.namespace ?? 'default');
    let items: KubeObject[];
    try {
      items = name ? [await cluster.client.get({ ...ref, namespace: ns, name })] : (await cluster.client.list(ref, { namespace: ns })).items;
    } catch (e) {
      return reportImportError(e);
    }
    if (values.output === 'json') console.log(JSON.stringify(name ? items[0] : { apiVersion: 'v1', kind: 'List', items }, null, 2));
    else if (values.output === 'yaml') console.log(stringify(name ? items[0] : { apiVersion: 'v1', kind: 'List', items }));
    else if (!items.length) console.error(`No resources found${info.namespaced && ns ? ` in ${ns} namespace` : ''}.`);
    else {
      const rows = items.map((o) => [...(info.namespaced && !ns ? [o.metadata.namespace ?? ''] : []), o.metadata.name ?? '', age(o.metadata.creationTimestamp)]);
      const head = [...(info.namespaced && !ns ? ['NAMESPACE'] : []), 'NAME', 'AGE'];
      printTable([head, ...rows]);
    }
    return 0;
  });
}

function age(ts: string | undefined): string {
  if (!ts) return '<unknown>';
  const s = Math.max(0, Math.floor((Date.now() - Date.parse(ts)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i]! + 3)).join('').trimEnd());
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error(`wheelhouse: ${(e as Error).message}`);
    process.exit(1);
  },
);
