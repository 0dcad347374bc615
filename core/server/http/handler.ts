/**
 * The request handler of the Kubernetes REST API: authentication (bearer token, 401) →
 * impersonation (`kubectl --as`) → authorization (RBAC, 403) → discovery, OpenAPI, reviews,
 * metrics, or the stored resources. Every error is a `Status` with Kubernetes' reason and code.
 * /healthz, /livez, /readyz and /version answer without a token.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from '../../api/errors.ts';
import { kindByResource } from '../../api/kinds.ts';
import type { UserInfo } from '../admission/chain.ts';
import { serviceAccountUser } from './auth.ts';
import type { HttpContext } from './context.ts';
import { aggregatedDiscovery, apiGroupDoc, apiGroupList, apiResourceList, apiVersions, wantsAggregated } from './discovery.ts';
import { serveMetrics } from './metrics-api.ts';
import { openapiV2, openapiV2Proto, openapiV3, openapiV3Root } from './openapi.ts';
import { PROTO_OPENAPI_V2 } from './openapi-v2-proto.ts';
import { forbidden } from './rbac.ts';
import { serveResource } from './resources.ts';
import { decodeBody, negotiate, readBody, send, sendError } from './respond.ts';
import { serveReview } from './reviews.ts';
import { parseRequest, type RequestInfo } from './router.ts';
import { servePodLogs } from './streams.ts';

export const VERSION_INFO = {
  major: '1',
  minor: '30',
  gitVersion: 'v1.30.0-wheelhouse',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'go1.22.0',
  compiler: 'gc',
  platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
};

const notFoundStatus = () => new ApiError('NotFound', 'the server could not find the requested resource');

export function createRequestHandler(ctx: HttpContext): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handle(ctx, req, res).catch((e) => sendError(res, e));
  };
}

function healthPath(path: string): boolean {
  return /^\/(healthz|livez|readyz)(\/[\w-]+)?$/.test(path);
}

/** Who the request is from (after impersonation). Throws 401/403. */
export async function identify(ctx: HttpContext, req: IncomingMessage): Promise<UserInfo> {
  const user = await ctx.auth.authenticate(req.headers.authorization);
  return impersonate(ctx, req, user);
}

function headerList(req: IncomingMessage, name: string): string[] {
  const v = req.headers[name];
  return v === undefined ? [] : Array.isArray(v) ? v : v.split(',').map((s) => s.trim()).filter(Boolean);
}

function impersonate(ctx: HttpContext, req: IncomingMessage, user: UserInfo): UserInfo {
  const name = req.headers['impersonate-user'];
  const groups = headerList(req, 'impersonate-group');
  const uid = req.headers['impersonate-uid'];
  if (name === undefined && !groups.length && uid === undefined) return user;
  if (typeof name !== 'string' || !name) throw new ApiError('BadRequest', 'requested impersonation of groups or uid without impersonating a user');
  const check = (resource: string, objName: string, apiGroup = '', namespace = '') => {
    const a = { user, verb: 'impersonate', isResource: true, apiGroup, resource, namespace, name: objName };
    if (!ctx.rbac.allowed(a)) throw forbidden(a);
  };
  const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(name);
  let target: UserInfo;
  if (sa) {
    check('serviceaccounts', sa[2]!, '', sa[1]!);
    target = serviceAccountUser(sa[1]!, sa[2]!);
  } else {
    check('users', name);
    target = { username: name, groups: [] };
  }
  for (const g of groups) check('groups', g);
  if (typeof uid === 'string' && uid) {
    check('uids', uid, 'authentication.k8s.io');
    target.uid = uid;
  }
  const all = [...new Set([...groups, ...target.groups])];
  if (name !== 'system:anonymous' && !all.includes('system:authenticated')) all.push('system:authenticated');
  return { ...target, groups: all };
}

async function handle(ctx: HttpContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://wheelhouse');
  const path = url.pathname;
  const method = req.method ?? 'GET';
  if (healthPath(path.replace(/\/+$/, ''))) {
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
    res.end('ok');
    return;
  }
  if (path === '/version' || path === '/version/') return send(res, 200, VERSION_INFO);
  const user = await identify(ctx, req);
  const ri = parseRequest(method, path, url.searchParams);
  if (!ri.isResource) return serveNonResource(ctx, req, res, ri, user, url);

  const attrs = {
    user,
    verb: ri.verb,
    isResource: true,
    apiGroup: ri.apiGroup,
    resource: ri.resource,
    subresource: ri.subresource,
    namespace: ri.namespace,
    name: ri.name,
  };
  if (!ctx.rbac.allowed(attrs)) throw forbidden(attrs);
  const neg = negotiate(req.headers.accept, url.searchParams);

  if (ri.apiGroup === 'metrics.k8s.io' && ri.apiVersion === 'v1beta1' && (ri.resource === 'pods' || ri.resource === 'nodes')) {
    if (ri.verb !== 'get' && ri.verb !== 'list') throw new ApiError('MethodNotAllowed', 'the server does not allow this method on the requested resource');
    const q = url.searchParams;
    const out = await serveMetrics(ctx.api, ctx.metrics, {
      resource: ri.resource,
      namespace: ri.namespace || undefined,
      name: ri.name || undefined,
      labelSelector: q.get('labelSelector') ?? undefined,
      fieldSelector: q.get('fieldSelector') ?? undefined,
    });
    return send(res, 200, out, neg.encoding === 'yaml' ? 'yaml' : 'json');
  }
  if ((ri.apiGroup === 'authorization.k8s.io' || ri.apiGroup === 'authentication.k8s.io') && ri.apiVersion === 'v1') {
    if (ri.verb !== 'create') throw new ApiError('MethodNotAllowed', 'the server does not allow this method on the requested resource');
    const body = decodeBody(await readBody(req), req.headers['content-type']) as Record<string, any>;
    const out = await serveReview(ctx, ri.apiGroup, ri.resource, ri.namespace, body, user);
    if (!out) throw notFoundStatus();
    return send(res, 201, out);
  }
  const info = kindByResource(ri.apiGroup, ri.resource);
  if (!info || info.version !== ri.apiVersion) throw notFoundStatus();
  if (info.kind === 'Pod' && ri.subresource === 'log') {
    if (ri.verb !== 'get') throw new ApiError('MethodNotAllowed', 'the server does not allow this method on the requested resource');
    return servePodLogs(ctx, req, res, ri.namespace, ri.name, url.searchParams);
  }
  if (info.kind === 'Pod' && ['exec', 'attach', 'portforward'].includes(ri.subresource)) {
    throw new ApiError('BadRequest', 'Upgrade request required');
  }
  return serveResource({ ctx, req, res, ri, info, query: url.searchParams, user, neg });
}

function serveNonResource(ctx: HttpContext, req: IncomingMessage, res: ServerResponse, ri: RequestInfo, user: UserInfo, url: URL): void {
  const path = ri.path;
  const attrs = { user, verb: ri.verb, isResource: false, path };
  if (!ctx.rbac.allowed(attrs)) throw forbidden(attrs);
  if (ri.verb !== 'get' && ri.verb !== 'head') throw new ApiError('MethodNotAllowed', 'the server does not allow this method on the requested resource');
  const accept = req.headers.accept;
  if (path === '/api' || path === '/apis') {
    const agg = wantsAggregated(accept);
    if (agg) {
      const body = JSON.stringify(aggregatedDiscovery(path === '/api' ? 'api' : 'apis', agg.version));
      res.writeHead(200, { 'Content-Type': agg.type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-cache, private' });
      res.end(body);
      return;
    }
    return send(res, 200, path === '/api' ? apiVersions(ctx.serverAddress()) : apiGroupList());
  }
  if (ri.apiPrefix === 'apis' && ri.apiGroup === '' && /^\/apis\/[^/]+$/.test(path)) {
    const g = apiGroupDoc(path.slice('/apis/'.length));
    if (!g) throw notFoundStatus();
    return send(res, 200, g);
  }
  if (ri.apiPrefix && ri.apiVersion) {
    const list = apiResourceList(ri.apiGroup, ri.apiVersion);
    if (!list) throw notFoundStatus();
    return send(res, 200, list);
  }
  if (path === '/openapi/v2') {
    if (accept?.includes(PROTO_OPENAPI_V2)) {
      const d = openapiV2Proto();
      return sendDoc(req, res, d.body, d.etag, false, 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
    }
    if (accept && !/application\/json|\*\/\*/.test(accept)) {
      throw new ApiError('NotAcceptable', `only the following media types are accepted: application/json, ${PROTO_OPENAPI_V2}`);
    }
    const d = openapiV2();
    return sendDoc(req, res, d.body, d.etag);
  }
  if (path === '/openapi/v3') return send(res, 200, openapiV3Root());
  if (path.startsWith('/openapi/v3/')) {
    const d = openapiV3(path.slice('/openapi/v3/'.length));
    if (!d) throw notFoundStatus();
    if (accept && !/application\/json|\*\/\*/.test(accept)) {
      throw new ApiError('NotAcceptable', 'only the following media types are accepted: application/json');
    }
    return sendDoc(req, res, d.body, d.etag, url.searchParams.has('hash'));
  }
  throw notFoundStatus();
}

function sendDoc(req: IncomingMessage, res: ServerResponse, body: string | Buffer, etag: string, immutable = false, type = 'application/json'): void {
  const tag = `"${etag}"`;
  const headers: Record<string, string> = {
    ETag: tag,
    'Content-Type': type,
    'Cache-Control': immutable ? 'public, immutable' : 'no-cache, private',
  };
  if (req.headers['if-none-match'] === tag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  res.writeHead(200, { ...headers, 'Content-Length': String(Buffer.byteLength(body)) });
  res.end(body);
}
