/**
 * Request paths → what is asked for, as kube-apiserver's RequestInfoFactory decides it:
 *
 *   /api/v1/namespaces/{ns}/{resource}/{name}/{subresource}
 *   /apis/{group}/{version}/{resource}/{name}
 *   /api/v1/watch/…   (the deprecated watch paths: a watch of the same list)
 *
 * anything else is a non-resource path (/healthz, /version, /openapi/v2 …). The verb is the
 * Kubernetes authorization verb: get, list, watch, create, update, patch, delete, deletecollection.
 */

export interface RequestInfo {
  /** True for /api/… and /apis/… paths that name a resource. */
  isResource: boolean;
  path: string;
  /** Authorization verb (lower-case HTTP method for non-resource paths). */
  verb: string;
  apiPrefix?: 'api' | 'apis';
  apiGroup: string;
  apiVersion: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
  /** Path segments after the subresource (e.g. the proxy path). */
  rest: string[];
}

/** Cluster-scoped `namespaces` has these subresources; anything else after a namespace name is a resource. */
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

export function parseRequest(method: string, rawPath: string, query: URLSearchParams): RequestInfo {
  const path = rawPath.replace(/\/+$/, '') || '/';
  const verbOf = method.toLowerCase();
  const info: RequestInfo = {
    isResource: false,
    path,
    verb: verbOf,
    apiGroup: '',
    apiVersion: '',
    namespace: '',
    resource: '',
    subresource: '',
    name: '',
    rest: [],
  };
  const parts = path.split('/').filter(Boolean).map(safeDecode);
  if (parts[0] !== 'api' && parts[0] !== 'apis') return info;
  info.apiPrefix = parts[0];
  let i = 1;
  if (parts[0] === 'apis') {
    if (parts.length < 3) return info; // /apis, /apis/{group}: discovery
    info.apiGroup = parts[1]!;
    i = 2;
  } else if (parts.length < 2) {
    return info; // /api
  }
  info.apiVersion = parts[i]!;
  i++;
  if (parts.length <= i) return info; // group-version discovery
  info.isResource = true;
  let watchPath = false;
  if (parts[i] === 'watch') {
    watchPath = true;
    i++;
  }
  let seg = parts.slice(i);
  if (seg[0] === 'namespaces' && seg.length >= 3 && !NAMESPACE_SUBRESOURCES.has(seg[2]!)) {
    info.namespace = seg[1]!;
    seg = seg.slice(2);
  } else if (seg[0] === 'namespaces' && seg.length >= 2) {
    // The namespace object itself: its name is both the name and the namespace (as Kubernetes does).
    info.namespace = seg[1]!;
  }
  info.resource = seg[0] ?? '';
  info.name = seg[1] ?? '';
  info.subresource = seg[2] ?? '';
  info.rest = seg.slice(3);

  const isWatch = watchPath || truthy(query.get('watch'));
  switch (method) {
    case 'GET':
    case 'HEAD':
      info.verb = info.name ? (isWatch ? 'watch' : 'get') : isWatch ? 'watch' : 'list';
      break;
    case 'POST':
      info.verb = 'create';
      break;
    case 'PUT':
      info.verb = 'update';
      break;
    case 'PATCH':
      info.verb = 'patch';
      break;
    case 'DELETE':
      info.verb = info.name ? 'delete' : 'deletecollection';
      break;
    default:
      info.verb = verbOf;
  }
  // A watch of one object by path is a watch of the list, narrowed by name (the verb stays `watch`).
  return info;
}

export function truthy(v: string | null | undefined): boolean {
  return v === 'true' || v === '1';
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
