/**
 * /openapi/v2 (one Swagger 2.0 document with every definition) and /openapi/v3 (a root listing
 * one document per group version, each with its paths and the schemas they reach), enough for
 * `kubectl explain` and for kubectl to see that the server validates fields itself (the
 * `fieldValidation` parameter on PATCH operations) — so `kubectl apply --validate=strict`
 * sends `fieldValidation=Strict` and unknown fields come back as errors from `unknownFields`.
 *
 * /openapi/v2 is also served as gnostic protobuf, which kubectl 1.27–1.29 ask for.
 */
import { createHash } from 'node:crypto';
import { closure, definitions, type Schema } from './openapi-schema.ts';
import { groupVersions, resourcesOf, type ResourceDef } from './discovery.ts';
import { encodeOpenApiV2 } from './openapi-v2-proto.ts';

export const OPENAPI_VERSION = 'v1.30.0';

interface Doc {
  body: string;
  etag: string;
}
let v2Doc: Doc | undefined;
const v3Docs = new Map<string, Doc>();

function doc(value: unknown): Doc {
  const body = JSON.stringify(value);
  return { body, etag: createHash('sha512').update(body).digest('hex').slice(0, 64).toUpperCase() };
}

export function openapiV2(): Doc {
  if (!v2Doc) {
    v2Doc = doc({ swagger: '2.0', info: { title: 'Kubernetes', version: OPENAPI_VERSION }, paths: {}, definitions: definitions().defs });
  }
  return v2Doc;
}

let v2Proto: { body: Buffer; etag: string } | undefined;

/** The same document as gnostic protobuf (kubectl 1.27–1.29's `kubectl apply`). */
export function openapiV2Proto(): { body: Buffer; etag: string } {
  if (!v2Proto) {
    const body = encodeOpenApiV2(definitions().defs, OPENAPI_VERSION);
    v2Proto = { body, etag: createHash('sha512').update(body).digest('hex').slice(0, 64).toUpperCase() };
  }
  return v2Proto;
}

const gvPath = (group: string, version: string) => (group ? `apis/${group}/${version}` : `api/${version}`);

/** The v3 root: where each group version's document is. */
export function openapiV3Root(): unknown {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const gv of groupVersions()) {
    const p = gvPath(gv.group, gv.version);
    const d = openapiV3(p);
    if (d) paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${d.etag}` };
  }
  return { paths };
}

function toV3(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(toV3);
  if (!s || typeof s !== 'object') return s;
  const out: Schema = {};
  for (const [k, v] of Object.entries(s)) out[k] = k === '$ref' ? String(v).replace('#/definitions/', '#/components/schemas/') : toV3(v);
  return out;
}

const q = (name: string, description: string) => ({ name, in: 'query', description, schema: { type: 'string', uniqueItems: true } });
const WRITE_PARAMS = [
  q('dryRun', 'When present, indicates that modifications should not be persisted. Valid values are: - All: all dry run stages will be processed'),
  q('fieldManager', 'fieldManager is a name associated with the actor or entity that is making these changes.'),
  q('fieldValidation', 'fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields. Valid values are: Ignore, Warn (default), Strict.'),
];

function operations(r: ResourceDef, schemaName: string | undefined, listName: string | undefined) {
  const gvk = { group: r.group, version: r.version, kind: r.kind };
  const ref = (n: string | undefined) => (n ? { 'application/json': { schema: { $ref: `#/components/schemas/${n}` } } } : {});
  const op = (action: string, id: string, extra: object = {}) => ({
    operationId: `${action}${r.kind}`,
    'x-kubernetes-action': id,
    'x-kubernetes-group-version-kind': gvk,
    responses: { '200': { description: 'OK', content: ref(schemaName) } },
    ...extra,
  });
  const base = `/${gvPath(r.group, r.version)}/${r.namespaced ? 'namespaces/{namespace}/' : ''}${r.plural}`;
  const paths: Record<string, unknown> = {};
  if (!r.verbs.includes('get')) {
    paths[base] = { post: op('create', 'post', { parameters: WRITE_PARAMS, requestBody: { content: ref(schemaName) } }) };
    return paths;
  }
  paths[base] = {
    get: { ...op('list', 'list'), responses: { '200': { description: 'OK', content: ref(listName) } } },
    post: op('create', 'post', { parameters: WRITE_PARAMS, requestBody: { content: ref(schemaName) } }),
  };
  paths[`${base}/{name}`] = {
    get: op('read', 'get'),
    put: op('replace', 'put', { parameters: WRITE_PARAMS, requestBody: { content: ref(schemaName) } }),
    patch: op('patch', 'patch', { parameters: [...WRITE_PARAMS, q('force', 'Force is going to "force" Apply requests.')] }),
    delete: op('delete', 'delete', { parameters: [q('dryRun', 'dry run'), q('gracePeriodSeconds', 'grace period'), q('propagationPolicy', 'propagation policy')] }),
  };
  return paths;
}

/** The document of one group version (`apis/apps/v1`), or undefined when not served. */
export function openapiV3(path: string): Doc | undefined {
  const hit = v3Docs.get(path);
  if (hit) return hit;
  const m = /^(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(path);
  if (!m) return undefined;
  const group = m[1] ? '' : m[2]!;
  const version = m[1] ?? m[3]!;
  const resources = resourcesOf(group, version);
  if (!resources) return undefined;
  const { defs, byGVK } = definitions();
  const gv = group ? `${group}/${version}` : version;
  const roots: string[] = [];
  let paths: Record<string, unknown> = {};
  for (const r of resources) {
    const name = byGVK.get(`${gv}/${r.kind}`);
    const list = byGVK.get(`${gv}/${r.kind}List`);
    if (name) roots.push(name);
    if (list) roots.push(list);
    paths = { ...paths, ...operations(r, name, list) };
    if (r.subresources.some((s) => s.name === 'scale')) roots.push('io.k8s.api.autoscaling.v1.Scale');
  }
  roots.push('io.k8s.apimachinery.pkg.apis.meta.v1.Status', 'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions');
  const schemas: Record<string, unknown> = {};
  for (const n of [...closure(roots)].sort()) schemas[n] = toV3(defs[n]);
  const d = doc({ openapi: '3.0.0', info: { title: 'Kubernetes', version: OPENAPI_VERSION }, paths, components: { schemas } });
  v3Docs.set(path, d);
  return d;
}
