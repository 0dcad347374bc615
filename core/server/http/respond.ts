/**
 * The wire: request bodies (JSON or YAML, at most 3 MiB as kube-apiserver), content negotiation
 * (JSON, YAML, server-side Table; protobuf is not served, so a client that accepts only protobuf
 * gets 406 and one that also accepts JSON gets JSON), and errors as `Status` objects.
 */
import { exceedsDepth, MAX_NESTING } from '../../api/depth.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { ApiError, isApiError } from '../../api/errors.ts';
import { log } from '../../log.ts';
import { decodeKubernetesProtobuf } from './protobuf.ts';

/** kube-apiserver's limit on a request body. */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export type Encoding = 'json' | 'yaml' | 'table';

export interface Negotiated {
  encoding: Encoding;
  /** For tables: None | Metadata | Object (`includeObject`). */
  includeObject?: string;
}

const ACCEPTED = 'application/json, application/yaml, application/json;as=Table;v=v1;g=meta.k8s.io';

/** What the client asked for in `Accept` (first acceptable, in the client's order). */
export function negotiate(accept: string | undefined, query?: URLSearchParams): Negotiated {
  if (!accept) return { encoding: 'json' };
  const offers = accept.split(',').map((s) => s.trim()).filter(Boolean);
  for (const offer of offers) {
    const [type, ...params] = offer.split(';').map((s) => s.trim());
    const p = Object.fromEntries(params.map((x) => x.split('=').map((y) => y.trim()) as [string, string]));
    const mt = type!.toLowerCase();
    if (mt === 'application/json' && p.as === 'Table') {
      if (p.g === 'meta.k8s.io' && (p.v === 'v1' || p.v === 'v1beta1')) return { encoding: 'table', includeObject: query?.get('includeObject') ?? 'Metadata' };
      continue;
    }
    if (p.as) continue; // another server-side conversion (PartialObjectMetadata …) we do not offer
    if (mt === 'application/json' || mt === 'application/*' || mt === '*/*' || mt === 'application/json-patch+json') return { encoding: 'json' };
    if (mt === 'application/yaml') return { encoding: 'yaml' };
  }
  throw new ApiError('NotAcceptable', `only the following media types are accepted: ${ACCEPTED}`);
}

/** Reads the body (at most MAX_BODY_BYTES; more: 413 RequestEntityTooLarge). */
export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? -1);
  if (declared > limit) {
    req.resume();
    throw tooLarge(limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      req.resume();
      throw tooLarge(limit);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function tooLarge(limit: number): ApiError {
  return new ApiError('RequestEntityTooLarge', `Request entity too large: limit is ${limit}`);
}

/** The body decoded by its Content-Type (JSON or YAML). */
export function decodeBody(buf: Buffer, contentType: string | undefined): unknown {
  const ct = (contentType ?? 'application/json').split(';')[0]!.trim().toLowerCase();
  if (ct === 'application/vnd.kubernetes.protobuf') {
    const { object, unknown } = decodeKubernetesProtobuf(buf);
    if (unknown.length) log.warn('http: protobuf body fields not decoded', { kind: object.kind, fields: unknown.slice(0, 20) });
    return object;
  }
  if (ct !== 'application/json' && ct !== 'application/yaml' && !ct.endsWith('+json') && !ct.endsWith('+yaml') && ct !== 'text/plain' && ct !== '') {
    throw new ApiError('UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf`);
  }
  const text = buf.toString('utf8');
  if (!text.trim()) throw new ApiError('BadRequest', 'the request body is empty');
  let value: unknown;
  try {
    value = ct === 'application/yaml' || ct.endsWith('+yaml') ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw new ApiError('BadRequest', `the request body could not be decoded: ${(e as Error).message}`);
  }
  if (exceedsDepth(value)) throw new ApiError('BadRequest', `the request body nests more than ${MAX_NESTING} levels deep`);
  return value;
}

export function send(res: ServerResponse, code: number, body: unknown, enc: Encoding = 'json', headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const yaml = enc === 'yaml';
  const text = yaml ? toYaml(body) : JSON.stringify(body);
  res.writeHead(code, {
    'Content-Type': yaml ? 'application/yaml' : 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-cache, private',
    ...headers,
  });
  res.end(text);
}

/** Any error → the Status kube-apiserver would send. */
export function toApiError(e: unknown): ApiError {
  if (isApiError(e)) return e;
  if (e && typeof e === 'object' && (e as { name?: string }).name === 'ApiError' && (e as ApiError).status) return e as ApiError;
  log.error('http: unexpected error', { error: (e as Error)?.stack ?? String(e) });
  return new ApiError('InternalError', `Internal error occurred: ${(e as Error)?.message ?? String(e)}`);
}

export function sendError(res: ServerResponse, e: unknown, enc: Encoding = 'json'): void {
  const err = toApiError(e);
  const headers: Record<string, string> = {};
  if (err.code === 401) headers['WWW-Authenticate'] = 'Bearer realm="wheelhouse"';
  const retryAfter = err.status.details?.retryAfterSeconds;
  if (retryAfter && retryAfter > 0) headers['Retry-After'] = String(retryAfter);
  send(res, err.code, err.status, enc === 'yaml' ? 'yaml' : 'json', headers);
}

export function success(code = 200, details?: Record<string, unknown>) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code, ...(details ? { details } : {}) };
}

/** `?x=` as a non-negative integer (400 BadRequest when malformed). */
export function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new ApiError('BadRequest', `invalid value for ${name}: "${v}": must be an integer`);
  return n;
}

/** The dryRun query parameter: absent or `All` (anything else is 400, as in Kubernetes). */
export function dryRunParam(q: URLSearchParams): boolean {
  const all = q.getAll('dryRun');
  if (!all.length) return false;
  for (const v of all) {
    if (v !== 'All') throw new ApiError('BadRequest', `Invalid dryRun value "${v}": supported values: "All"`);
  }
  return true;
}
