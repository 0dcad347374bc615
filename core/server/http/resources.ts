/**
 * The REST verbs on stored resources: get, list (paged, selectors, Table), watch, create, update,
 * patch, delete, deletecollection, and the subresources (status, scale, eviction, binding, token,
 * finalize). Authentication and authorization have already happened.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, badRequest, notFound } from '../../api/errors.ts';
import { apiVersionOf, type KindInfo } from '../../api/kinds.ts';
import type { KubeObject } from '../../api/types.ts';
import type { UserInfo } from '../admission/chain.ts';
import type { HttpContext } from './context.ts';
import { checkFields, fieldValidationParam, warningHeader } from './field-validation.ts';
import { writeManager, type OptionsKind } from './field-manager.ts';
import { patchTypeOf, servePatch } from './patch.ts';
import { decodeBody, dryRunParam, intParam, readBody, send, success, type Negotiated } from './respond.ts';
import type { RequestInfo } from './router.ts';
import { deleteOptions, serveBinding, serveEviction, serveFinalize, serveScale, serveTokenRequest } from './subresources.ts';
import { toTable } from './table.ts';
import { serveWatch } from './watch.ts';

export interface ResourceRequest {
  ctx: HttpContext;
  req: IncomingMessage;
  res: ServerResponse;
  ri: RequestInfo;
  info: KindInfo;
  query: URLSearchParams;
  user: UserInfo;
  neg: Negotiated;
}

function reply(r: ResourceRequest, code: number, obj: unknown, warnings: string[] = []): void {
  const headers: Record<string, string> = {};
  const h = warningHeader(warnings);
  if (h.length) r.res.setHeader('Warning', h);
  if (r.neg.encoding === 'table' && obj && typeof obj === 'object' && (obj as KubeObject).kind === r.info.kind) {
    const o = obj as KubeObject;
    send(r.res, code, toTable(r.info.kind, [o], { resourceVersion: o.metadata?.resourceVersion }, r.neg.includeObject), 'json', headers);
    return;
  }
  send(r.res, code, obj, r.neg.encoding === 'yaml' ? 'yaml' : 'json', headers);
}

async function body(r: ResourceRequest): Promise<Buffer> {
  return readBody(r.req);
}

/** Fills apiVersion/kind from the URL when the body has none; rejects a body of another kind or name. */
function decodeObject(r: ResourceRequest, buf: Buffer): KubeObject {
  const obj = decodeBody(buf, r.req.headers['content-type']) as KubeObject;
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw badRequest('the request body must be a JSON object');
  const gv = apiVersionOf(r.info);
  obj.apiVersion ||= gv;
  obj.kind ||= r.info.kind;
  if (obj.kind !== r.info.kind) {
    throw badRequest(`${obj.kind} in version "${r.info.version}" cannot be handled as a ${r.info.kind}: the kind of the object does not match the resource ${r.info.plural}`);
  }
  if (obj.metadata !== undefined && obj.metadata !== null && (typeof obj.metadata !== 'object' || Array.isArray(obj.metadata))) {
    throw badRequest(`${obj.kind}: metadata must be an object`);
  }
  obj.metadata ??= {};
  if (r.info.namespaced) {
    if (obj.metadata.namespace && r.ri.namespace && obj.metadata.namespace !== r.ri.namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    if (r.ri.namespace) obj.metadata.namespace = r.ri.namespace;
  }
  if (r.ri.name && obj.metadata.name && obj.metadata.name !== r.ri.name) {
    throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${r.ri.name})`);
  }
  if (r.ri.name) obj.metadata.name ||= r.ri.name;
  return obj;
}

function ref(r: ResourceRequest) {
  return { apiVersion: apiVersionOf(r.info), kind: r.info.kind, namespace: r.ri.namespace || undefined, name: r.ri.name };
}

export async function serveResource(r: ResourceRequest): Promise<void> {
  const { ri, query, ctx, user } = r;
  const api = ctx.api;
  if (r.info.namespaced && !ri.namespace && ri.name) throw notFound({ kind: r.info.kind, group: r.info.group, name: ri.name }, r.info.plural);
  const dryRun = dryRunParam(query);
  if (ri.subresource) return serveSubresource(r, dryRun);

  switch (ri.verb) {
    case 'get':
      return reply(r, 200, await api.get(ref(r)));
    case 'list': {
      const list = await api.list(ref(r), {
        namespace: ri.namespace || undefined,
        labelSelector: query.get('labelSelector') ?? undefined,
        fieldSelector: query.get('fieldSelector') ?? undefined,
        limit: intParam(query, 'limit'),
        continue: query.get('continue') ?? undefined,
      });
      if (r.neg.encoding === 'table') {
        return send(r.res, 200, toTable(r.info.kind, list.items, list.metadata, r.neg.includeObject));
      }
      return send(r.res, 200, list, r.neg.encoding === 'yaml' ? 'yaml' : 'json');
    }
    case 'watch':
      return serveWatch(r.req, r.res, { api, info: r.info, namespace: ri.namespace || undefined, name: ri.name || undefined, query, negotiated: r.neg, registry: ctx.streams });
    case 'create': {
      if (ri.name) throw new ApiError('MethodNotAllowed', `the server does not allow this method on the requested resource`);
      const { fieldManager, manager } = managerOf(r, 'CreateOptions');
      const obj = decodeObject(r, await body(r));
      const warnings = checkFields(obj, apiVersionOf(r.info), r.info.kind, fieldValidationParam(query));
      return reply(r, 201, await api.create(obj, user, { dryRun, fieldManager, warnings, fieldOwner: { manager } }), warnings);
    }
    case 'update': {
      const { fieldManager, manager } = managerOf(r, 'UpdateOptions');
      const obj = decodeObject(r, await body(r));
      const warnings = checkFields(obj, apiVersionOf(r.info), r.info.kind, fieldValidationParam(query));
      return reply(r, 200, await api.update(obj, user, { dryRun, fieldManager, warnings, fieldOwner: { manager } }), warnings);
    }
    case 'patch': {
      const wm = managerOf(r, 'PatchOptions', patchTypeOf(r.req.headers['content-type']) === 'apply');
      const out = await servePatch({
        api, info: r.info, namespace: ri.namespace || undefined, name: ri.name, subresource: '', body: await body(r),
        contentType: r.req.headers['content-type'], user, dryRun, ...wm, fieldValidation: fieldValidationParam(query),
      });
      return reply(r, out.created ? 201 : 200, out.object, out.warnings);
    }
    case 'delete': {
      const opts = deleteOptions(await optionalBody(r), query, dryRun);
      const obj = await api.delete(ref(r), user, opts);
      if (obj.metadata?.deletionTimestamp || r.info.kind === 'Pod' || r.info.kind === 'Namespace') return reply(r, 200, obj);
      return reply(r, 200, success(200, { name: ri.name, group: r.info.group, kind: r.info.plural, uid: obj.metadata?.uid }));
    }
    case 'deletecollection': {
      const opts = deleteOptions(await optionalBody(r), query, dryRun);
      const list = await api.list(ref(r), {
        namespace: ri.namespace || undefined,
        labelSelector: query.get('labelSelector') ?? undefined,
        fieldSelector: query.get('fieldSelector') ?? undefined,
      });
      const items: KubeObject[] = [];
      for (const o of list.items) {
        try {
          items.push(await api.delete({ ...ref(r), namespace: o.metadata.namespace, name: o.metadata.name! }, user, opts));
        } catch (e) {
          if (!(e instanceof ApiError && e.reason === 'NotFound')) throw e;
        }
      }
      return send(r.res, 200, { ...list, items }, r.neg.encoding === 'yaml' ? 'yaml' : 'json');
    }
    default:
      throw new ApiError('MethodNotAllowed', 'the server does not allow this method on the requested resource');
  }
}

async function optionalBody(r: ResourceRequest): Promise<Record<string, any> | undefined> {
  const buf = await body(r);
  if (!buf.length || !buf.toString('utf8').trim()) return undefined;
  return decodeBody(buf, r.req.headers['content-type']) as Record<string, any>;
}

function notAllowed(): ApiError {
  return new ApiError('MethodNotAllowed', 'the server does not allow this method on the requested resource');
}

/** The fieldManager (validated as Kubernetes validates `kind`) and who the write is recorded for. */
function managerOf(r: ResourceRequest, kind: OptionsKind, apply = false) {
  return writeManager(r.query, r.req.headers['user-agent'], kind, apply);
}

async function serveSubresource(r: ResourceRequest, dryRun: boolean): Promise<void> {
  const { ri, ctx, user, query } = r;
  const api = ctx.api;
  const sub = ri.subresource;
  const served = r.info.subresources.includes(sub) || (sub === 'finalize' && r.info.kind === 'Namespace');
  if (!served || !ri.name) throw new ApiError('NotFound', 'the server could not find the requested resource');
  const ns = ri.namespace || undefined;
  switch (sub) {
    case 'status':
      if (ri.verb === 'get') return reply(r, 200, await api.get(ref(r)));
      if (ri.verb === 'update') {
        const { fieldManager, manager } = managerOf(r, 'UpdateOptions');
        const obj = decodeObject(r, await body(r));
        return reply(r, 200, await api.updateStatus(obj, user, { dryRun, fieldManager, fieldOwner: { manager, subresource: 'status' } }));
      }
      if (ri.verb === 'patch') {
        const wm = managerOf(r, 'PatchOptions', patchTypeOf(r.req.headers['content-type']) === 'apply');
        const out = await servePatch({
          api, info: r.info, namespace: ns, name: ri.name, subresource: 'status', body: await body(r),
          contentType: r.req.headers['content-type'], user, dryRun, ...wm, fieldValidation: fieldValidationParam(query),
        });
        return reply(r, 200, out.object, out.warnings);
      }
      throw notAllowed();
    case 'scale': {
      if (!['get', 'update', 'patch'].includes(ri.verb)) throw notAllowed();
      const wm = ri.verb === 'get' ? undefined : managerOf(r, ri.verb === 'update' ? 'UpdateOptions' : 'PatchOptions', ri.verb === 'patch' && patchTypeOf(r.req.headers['content-type']) === 'apply');
      const buf = ri.verb === 'get' ? undefined : await body(r);
      const method = ri.verb === 'get' ? 'GET' : ri.verb === 'update' ? 'PUT' : 'PATCH';
      const scale = await serveScale({
        api, info: r.info, namespace: ns, name: ri.name, method, body: buf, contentType: r.req.headers['content-type'], user, dryRun,
        fieldManager: wm?.fieldManager, manager: wm?.manager ?? '',
      });
      return send(r.res, 200, scale, r.neg.encoding === 'yaml' ? 'yaml' : 'json');
    }
    case 'eviction':
      if (ri.verb !== 'create') throw notAllowed();
      return send(r.res, 201, await serveEviction(api, ri.namespace, ri.name, decodeBody(await body(r), r.req.headers['content-type']) as any, user, dryRun));
    case 'binding':
      if (ri.verb !== 'create') throw notAllowed();
      return send(r.res, 201, await serveBinding(api, ri.namespace, ri.name, decodeBody(await body(r), r.req.headers['content-type']) as any, user, dryRun));
    case 'token': {
      if (ri.verb !== 'create') throw notAllowed();
      const buf = await body(r);
      const b = buf.length ? (decodeBody(buf, r.req.headers['content-type']) as any) : {};
      return send(r.res, 201, await serveTokenRequest(api, ctx.auth, ri.namespace, ri.name, b));
    }
    case 'finalize':
      if (ri.verb !== 'update') throw notAllowed();
      return reply(r, 200, await serveFinalize(api, ri.name, decodeBody(await body(r), r.req.headers['content-type']) as any, user, dryRun));
    default:
      throw new ApiError('NotFound', 'the server could not find the requested resource');
  }
}
