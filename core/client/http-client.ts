/**
 * The Client over HTTP(S): the Kubernetes REST API that core/server/http serves (or any
 * Kubernetes API server), with a bearer token. A node agent on another machine, or a tool, uses
 * this exactly as in-process code uses InProcessClient. Errors are ApiErrors rebuilt from the
 * server's Status. A watch whose stream the server ends (timeout) is resumed from the last
 * resourceVersion seen; a 410 Expired comes through as an ERROR event, as in-process.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ApiError } from '../api/errors.ts';
import { lookupKind, explainUnknownKind, type KindInfo } from '../api/kinds.ts';
import type { KubeList, KubeObject, Status } from '../api/types.ts';
import type {
  Client,
  ClientWatchEvent,
  DeleteOptions,
  KindRef,
  ListOptions,
  ObjectRef,
  PatchType,
  WatchHandle,
  WatchOptions,
  WriteOptions,
} from './client.ts';

export interface HttpClientOptions {
  /** `https://127.0.0.1:6443` */
  server: string;
  token: string;
  /** PEM of the CA that signed the server certificate. */
  caPem?: string;
  insecureSkipTlsVerify?: boolean;
  userAgent?: string;
  /** Per request (not watches); default 30 s. */
  timeoutMs?: number;
}

const PATCH_TYPES: Record<PatchType, string> = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
};

export class HttpClient implements Client {
  private readonly url: URL;
  private readonly agent: HttpAgent | HttpsAgent;
  private readonly https: boolean;

  constructor(private readonly opts: HttpClientOptions) {
    this.url = new URL(opts.server);
    this.https = this.url.protocol === 'https:';
    this.agent = this.https
      ? new HttpsAgent({ keepAlive: true, ca: opts.caPem, rejectUnauthorized: !opts.insecureSkipTlsVerify })
      : new HttpAgent({ keepAlive: true });
  }

  /** A client for a kubeconfig's context (default: its current context); token users only. */
  static fromKubeconfig(path: string, context?: string): HttpClient {
    const cfg = parseYaml(readFileSync(path, 'utf8')) as any;
    const ctxName = context ?? cfg['current-context'];
    const ctx = cfg.contexts?.find((c: any) => c.name === ctxName)?.context;
    if (!ctx) throw new Error(`${path}: no context "${ctxName}"`);
    const cluster = cfg.clusters?.find((c: any) => c.name === ctx.cluster)?.cluster;
    const user = cfg.users?.find((u: any) => u.name === ctx.user)?.user;
    if (!cluster?.server) throw new Error(`${path}: context "${ctxName}" names no cluster server`);
    if (!user?.token) throw new Error(`${path}: context "${ctxName}" has no token user`);
    const caPem = cluster['certificate-authority-data']
      ? Buffer.from(cluster['certificate-authority-data'], 'base64').toString('utf8')
      : cluster['certificate-authority']
        ? readFileSync(cluster['certificate-authority'], 'utf8')
        : undefined;
    return new HttpClient({ server: cluster.server, token: user.token, caPem, insecureSkipTlsVerify: !!cluster['insecure-skip-tls-verify'] });
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.agent.destroy();
  }

  // ---- Client ------------------------------------------------------------------------------

  async create<T extends KubeObject>(obj: T, opts?: WriteOptions): Promise<T> {
    const info = this.kind(obj.apiVersion, obj.kind);
    return this.call<T>('POST', this.path(info, obj.metadata?.namespace, undefined, '', writeQuery(opts)), obj);
  }
  async get<T extends KubeObject = KubeObject>(ref: ObjectRef): Promise<T> {
    return this.call<T>('GET', this.path(this.kind(ref.apiVersion, ref.kind), ref.namespace, ref.name));
  }
  async list<T extends KubeObject = KubeObject>(ref: KindRef, opts: ListOptions = {}): Promise<KubeList<T>> {
    const q = new URLSearchParams();
    if (opts.labelSelector) q.set('labelSelector', opts.labelSelector);
    if (opts.fieldSelector) q.set('fieldSelector', opts.fieldSelector);
    if (opts.limit) q.set('limit', String(opts.limit));
    if (opts.continue) q.set('continue', opts.continue);
    const info = this.kind(ref.apiVersion, ref.kind);
    return this.call<KubeList<T>>('GET', this.path(info, opts.namespace ?? ref.namespace, undefined, '', q, true));
  }
  async update<T extends KubeObject>(obj: T, opts?: WriteOptions): Promise<T> {
    const info = this.kind(obj.apiVersion, obj.kind);
    return this.call<T>('PUT', this.path(info, obj.metadata?.namespace, obj.metadata?.name, '', writeQuery(opts)), obj);
  }
  async updateStatus<T extends KubeObject>(obj: T, opts?: WriteOptions): Promise<T> {
    const info = this.kind(obj.apiVersion, obj.kind);
    return this.call<T>('PUT', this.path(info, obj.metadata?.namespace, obj.metadata?.name, 'status', writeQuery(opts)), obj);
  }
  async patch<T extends KubeObject = KubeObject>(ref: ObjectRef, type: PatchType, patch: unknown, opts?: WriteOptions & { subresource?: 'status' }): Promise<T> {
    const info = this.kind(ref.apiVersion, ref.kind);
    return this.call<T>('PATCH', this.path(info, ref.namespace, ref.name, opts?.subresource ?? '', writeQuery(opts)), patch, PATCH_TYPES[type]);
  }
  async delete<T extends KubeObject = KubeObject>(ref: ObjectRef, opts: DeleteOptions = {}): Promise<T> {
    const info = this.kind(ref.apiVersion, ref.kind);
    const body = {
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      ...(opts.propagationPolicy ? { propagationPolicy: opts.propagationPolicy } : {}),
      ...(opts.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: opts.gracePeriodSeconds } : {}),
      ...(opts.preconditions ? { preconditions: opts.preconditions } : {}),
      ...(opts.dryRun ? { dryRun: ['All'] } : {}),
    };
    const out = await this.call<KubeObject>('DELETE', this.path(info, ref.namespace, ref.name), body);
    if (out.kind === 'Status') {
      const d = (out as unknown as Status).details;
      return { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, ...(info.namespaced ? { namespace: ref.namespace ?? 'default' } : {}), ...(d?.uid ? { uid: d.uid } : {}) } } as T;
    }
    return out as T;
  }
  async bind(pod: { namespace: string; name: string }, nodeName: string, opts?: WriteOptions): Promise<void> {
    const info = this.kind('v1', 'Pod');
    const body = { apiVersion: 'v1', kind: 'Binding', metadata: { name: pod.name, namespace: pod.namespace }, target: { apiVersion: 'v1', kind: 'Node', name: nodeName } };
    await this.call('POST', this.path(info, pod.namespace, pod.name, 'binding', writeQuery(opts)), body);
  }

  async evict(pod: { namespace: string; name: string }, opts: DeleteOptions = {}): Promise<void> {
    const info = this.kind('v1', 'Pod');
    const deleteOptions = {
      ...(opts.propagationPolicy ? { propagationPolicy: opts.propagationPolicy } : {}),
      ...(opts.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: opts.gracePeriodSeconds } : {}),
      ...(opts.preconditions ? { preconditions: opts.preconditions } : {}),
      ...(opts.dryRun ? { dryRun: ['All'] } : {}),
    };
    const body = { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod.name, namespace: pod.namespace }, deleteOptions };
    await this.call('POST', this.path(info, pod.namespace, pod.name, 'eviction'), body);
  }

  watch<T extends KubeObject = KubeObject>(ref: KindRef, opts: WatchOptions, onEvent: (ev: ClientWatchEvent<T>) => void): WatchHandle {
    const info = this.kind(ref.apiVersion, ref.kind);
    let closed = false;
    let current: { destroy(): void } | undefined;
    let rv = opts.resourceVersion;
    const start = () => {
      if (closed) return;
      const q = new URLSearchParams({ watch: 'true' });
      if (opts.labelSelector) q.set('labelSelector', opts.labelSelector);
      if (opts.fieldSelector) q.set('fieldSelector', opts.fieldSelector);
      if (rv) q.set('resourceVersion', rv);
      if (opts.allowWatchBookmarks) q.set('allowWatchBookmarks', 'true');
      const deliver = (ev: ClientWatchEvent<T>) => {
        if (closed) return;
        const v = ev.object?.metadata?.resourceVersion;
        if (v && ev.type !== 'ERROR') rv = v;
        onEvent(ev);
        if (ev.type === 'ERROR') handle.close();
      };
      const fail = (e: unknown) => deliver({ type: 'ERROR', object: toStatus(e) as unknown as T });
      const req = this.raw('GET', this.path(info, opts.namespace ?? ref.namespace, undefined, '', q, true), undefined, undefined, false);
      current = req;
      req.on('error', (e) => {
        if (!closed) fail(e);
      });
      req.on('response', (res: IncomingMessage) => {
        if ((res.statusCode ?? 500) >= 300) {
          readAll(res).then((buf) => fail(errorFrom(res.statusCode ?? 500, buf)), fail);
          return;
        }
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buf += chunk;
          let i: number;
          while ((i = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, i).trim();
            buf = buf.slice(i + 1);
            if (!line) continue;
            try {
              deliver(JSON.parse(line) as ClientWatchEvent<T>);
            } catch (e) {
              fail(e);
              return;
            }
          }
        });
        // The server ended the stream (timeout): resume from where we are.
        res.on('end', () => setTimeout(start, 50));
        res.on('error', () => setTimeout(start, 1000));
      });
      req.end();
    };
    const handle: WatchHandle = {
      close() {
        closed = true;
        current?.destroy();
      },
    };
    start();
    return handle;
  }

  // ---- plumbing ----------------------------------------------------------------------------

  private kind(apiVersion: string, kind: string): KindInfo {
    const info = lookupKind(apiVersion, kind);
    if (!info) throw new ApiError('NotFound', `the server could not find the requested resource: ${explainUnknownKind(apiVersion, kind)}`);
    return info;
  }

  private path(info: KindInfo, namespace: string | undefined, name: string | undefined, sub = '', q?: URLSearchParams, collection = false): string {
    const base = info.group ? `/apis/${info.group}/${info.version}` : `/api/${info.version}`;
    const ns = info.namespaced && (namespace || !collection) ? `/namespaces/${encodeURIComponent(namespace || 'default')}` : '';
    const n = name ? `/${encodeURIComponent(name)}` : '';
    const s = sub && name ? `/${sub}` : '';
    const qs = q && [...q.keys()].length ? `?${q}` : '';
    return `${base}${ns}/${info.plural}${n}${s}${qs}`;
  }

  private raw(method: string, path: string, body?: unknown, contentType?: string, timeout = true) {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this.opts.token}`,
      Accept: 'application/json',
      'User-Agent': this.opts.userAgent ?? 'wheelhouse-http-client',
    };
    let payload: Buffer | undefined;
    if (body !== undefined) {
      payload = Buffer.from(JSON.stringify(body));
      headers['Content-Type'] = contentType ?? 'application/json';
      headers['Content-Length'] = String(payload.length);
    }
    const fn = this.https ? httpsRequest : httpRequest;
    const req = fn({
      protocol: this.url.protocol,
      hostname: this.url.hostname.replace(/^\[|\]$/g, ''),
      port: this.url.port,
      path,
      method,
      headers,
      agent: this.agent,
      ...(timeout ? { timeout: this.opts.timeoutMs ?? 30_000 } : {}),
    });
    if (timeout) req.on('timeout', () => req.destroy(new ApiError('Timeout', `${method} ${path}: no answer in ${this.opts.timeoutMs ?? 30_000} ms`)));
    if (payload) req.write(payload);
    return req;
  }

  private call<T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const req = this.raw(method, path, body, contentType);
      req.on('error', (e) => reject(e instanceof ApiError ? e : new ApiError('ServiceUnavailable', `${method} ${path}: ${(e as Error).message}`)));
      req.on('response', (res) => {
        readAll(res).then((buf) => {
          const code = res.statusCode ?? 500;
          if (code >= 300) return reject(errorFrom(code, buf));
          try {
            resolve((buf.length ? JSON.parse(buf.toString('utf8')) : {}) as T);
          } catch (e) {
            reject(new ApiError('InternalError', `${method} ${path}: the answer is not JSON: ${(e as Error).message}`));
          }
        }, reject);
      });
      req.end();
    });
  }
}

function writeQuery(opts: WriteOptions | undefined): URLSearchParams {
  const q = new URLSearchParams();
  if (opts?.dryRun) q.set('dryRun', 'All');
  if (opts?.fieldManager) q.set('fieldManager', opts.fieldManager);
  return q;
}

function readAll(res: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', reject);
  });
}

function errorFrom(code: number, buf: Buffer): ApiError {
  try {
    const s = JSON.parse(buf.toString('utf8')) as Status;
    if (s?.kind === 'Status') return ApiError.fromStatus({ ...s, code: s.code ?? code });
  } catch {
    /* not a Status */
  }
  const reason = code === 401 ? 'Unauthorized' : code === 403 ? 'Forbidden' : code === 404 ? 'NotFound' : code >= 500 ? 'InternalError' : 'BadRequest';
  const e = new ApiError(reason, `the server answered ${code}: ${buf.toString('utf8').slice(0, 200)}`);
  e.status.code = code;
  return e;
}

function toStatus(e: unknown): Status {
  if (e instanceof ApiError) return e.status;
  return new ApiError('InternalError', (e as Error)?.message ?? String(e)).status;
}
