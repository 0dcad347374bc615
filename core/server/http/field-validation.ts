/**
 * Server-side field validation (`?fieldValidation=Strict|Warn|Ignore`, kube-apiserver ≥ 1.27):
 * fields the schema does not know are an error (Strict: 400 `strict decoding error: unknown
 * field "spec.replica"`), a `Warning` header (Warn, the default) or nothing (Ignore). Objects are
 * stored as sent either way; only the report differs.
 */
import { ApiError } from '../../api/errors.ts';
import { definitions, type Schema } from './openapi-schema.ts';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export function fieldValidationParam(q: URLSearchParams): FieldValidation {
  const v = q.get('fieldValidation') ?? '';
  if (v === '') return 'Warn';
  if (v === 'Strict' || v === 'Warn' || v === 'Ignore') return v;
  throw new ApiError('BadRequest', `fieldValidation parameter unsupported: ${v}`);
}

function resolve(s: Schema | undefined): Schema | undefined {
  const { defs } = definitions();
  for (let i = 0; s && i < 10; i++) {
    if (s.$ref) s = defs[String(s.$ref).replace('#/definitions/', '')];
    else if (s.allOf?.length === 1) s = s.allOf[0];
    else break;
  }
  return s;
}

/** Paths of the fields in `obj` that the schema of apiVersion/kind does not have. */
export function unknownFields(obj: unknown, apiVersion: string, kind: string, opts: { patch?: boolean } = {}): string[] {
  const name = definitions().byGVK.get(`${apiVersion}/${kind}`);
  if (!name) return [];
  const out: string[] = [];
  walk(obj, resolve({ $ref: `#/definitions/${name}` }), '', out, !!opts.patch);
  return out;
}

function walk(v: unknown, schema: Schema | undefined, path: string, out: string[], patch: boolean): void {
  if (!schema || v === null || typeof v !== 'object') return;
  if (Array.isArray(v)) {
    if (schema.type !== 'array') return;
    const items = resolve(schema.items);
    v.forEach((x, i) => walk(x, items, `${path}[${i}]`, out, patch));
    return;
  }
  if (schema.type !== 'object') return;
  if (schema.additionalProperties) {
    const ap = resolve(schema.additionalProperties);
    for (const [k, x] of Object.entries(v)) walk(x, ap, path ? `${path}.${k}` : k, out, patch);
    return;
  }
  const props: Record<string, Schema> | undefined = schema.properties;
  if (!props) return; // free-form (RawExtension, FieldsV1, JSON)
  for (const [k, x] of Object.entries(v)) {
    if (patch && k.startsWith('$')) continue; // strategic merge directives
    const p = path ? `${path}.${k}` : k;
    const ps = props[k];
    if (!ps) {
      out.push(p);
      continue;
    }
    walk(x, resolve(ps), p, out, patch);
  }
}

/**
 * Applies the policy: throws for Strict, returns the warnings to send for Warn. `what` is
 * kube-apiserver's prefix for create/update (`Deployment in version "v1" cannot be handled as a
 * Deployment`), empty for patches.
 */
export function checkFields(obj: unknown, apiVersion: string, kind: string, mode: FieldValidation, opts: { patch?: boolean } = {}): string[] {
  if (mode === 'Ignore') return [];
  const unknown = unknownFields(obj, apiVersion, kind, opts);
  if (!unknown.length) return [];
  const msgs = unknown.map((f) => `unknown field "${f}"`);
  if (mode === 'Strict') {
    const version = apiVersion.includes('/') ? apiVersion.split('/')[1] : apiVersion;
    const prefix = opts.patch ? '' : `${kind} in version "${version}" cannot be handled as a ${kind}: `;
    throw new ApiError('BadRequest', `${prefix}strict decoding error: ${msgs.join(', ')}`);
  }
  return msgs;
}

/** `Warning: 299 - "…"` header values. */
export function warningHeader(msgs: string[]): string[] {
  return msgs.map((m) => `299 - ${JSON.stringify(m)}`);
}
