/**
 * kubeconfig files: DIR/kubeconfig (0600) with one cluster, user (the admin token) and context,
 * all named `wheelhouse`; and `mergeIntoKubeconfig`, which adds (or refreshes) those three
 * entries in the user's ~/.kube/config so the desktop app can offer "use with kubectl" without
 * touching their other clusters. The current context is only set when the file had none, unless
 * asked.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';

export const CONTEXT_NAME = 'wheelhouse';

export interface KubeconfigOptions {
  /** `http://127.0.0.1:6443` or `https://…` */
  server: string;
  token: string;
  /** PEM of the CA that signed the server certificate (https only). */
  caPem?: string;
  name?: string;
}

interface Named<T> {
  name: string;
  [k: string]: unknown;
  cluster?: T;
  user?: T;
  context?: T;
}

function entries(o: KubeconfigOptions) {
  const name = o.name ?? CONTEXT_NAME;
  return {
    cluster: { name, cluster: { server: o.server, ...(o.caPem ? { 'certificate-authority-data': Buffer.from(o.caPem).toString('base64') } : {}) } },
    user: { name, user: { token: o.token } },
    context: { name, context: { cluster: name, user: name, namespace: 'default' } },
  };
}

export function kubeconfigObject(o: KubeconfigOptions): Record<string, unknown> {
  const e = entries(o);
  return {
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    clusters: [e.cluster],
    users: [e.user],
    contexts: [e.context],
    'current-context': e.context.name,
  };
}

function writeSecret(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/** Writes DIR/kubeconfig (0600) and returns its path. */
export function writeKubeconfig(dataDir: string, o: KubeconfigOptions): string {
  const path = join(dataDir, 'kubeconfig');
  writeSecret(path, stringify(kubeconfigObject(o)));
  return path;
}

/** The kubeconfig kubectl would use: the first of $KUBECONFIG, else ~/.kube/config. */
export function defaultKubeconfigPath(): string {
  const env = process.env.KUBECONFIG?.split(process.platform === 'win32' ? ';' : ':').find(Boolean);
  return env ?? join(homedir(), '.kube', 'config');
}

function upsert<T>(list: Named<T>[] | undefined, entry: Named<T>): Named<T>[] {
  const out = (list ?? []).filter((x) => x?.name !== entry.name);
  out.push(entry);
  return out;
}

/**
 * Adds the `wheelhouse` cluster, user and context to a kubeconfig (default: the user's), keeping
 * everything else. Returns the file written and the context name.
 */
export function mergeIntoKubeconfig(o: KubeconfigOptions, opts: { path?: string; makeCurrent?: boolean } = {}): { path: string; context: string } {
  const path = opts.path ?? defaultKubeconfigPath();
  let cfg: Record<string, any> = {};
  if (existsSync(path)) {
    const text = readFileSync(path, 'utf8');
    const parsed = text.trim() ? parse(text) : {};
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) cfg = parsed;
    else throw new Error(`${path}: not a kubeconfig (expected a YAML mapping)`);
  }
  const e = entries(o);
  cfg.apiVersion ??= 'v1';
  cfg.kind ??= 'Config';
  cfg.clusters = upsert(cfg.clusters, e.cluster);
  cfg.users = upsert(cfg.users, e.user);
  cfg.contexts = upsert(cfg.contexts, e.context);
  if (opts.makeCurrent || !cfg['current-context']) cfg['current-context'] = e.context.name;
  writeSecret(path, stringify(cfg));
  return { path, context: e.context.name };
}
