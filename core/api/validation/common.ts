/**
 * Validation building blocks shared by every kind: numbers, enums, labels, annotations, label
 * selectors and ObjectMeta on create and update — with Kubernetes' field paths and wording.
 * Re-exports the string formats of `formats.ts`.
 */
import { Dup, Forbidden, Inv, NotSupported, Req, TooLong, type FieldError } from '../errors.ts';
import { arr, filled, isDNS1123Label, isInt, isQualifiedName, isStr, isValidLabelValue, obj, same, type NameFn } from './formats.ts';

export * from './formats.ts';
export type Errs = FieldError[];

/** field.Required with a detail: `Required value: <detail>`. */
export const ReqD = (field: string, detail: string): FieldError => Req(field, `Required value: ${detail}`);

/** field.NotFound — a reference to something that is not there. */
export const NotFoundField = (field: string, value: unknown): FieldError => ({
  field,
  type: 'FieldValueNotFound',
  message: `Not found: ${JSON.stringify(value)}`,
});

// ---- numbers ----------------------------------------------------------------------------------------

const NONNEG = 'must be greater than or equal to 0';

/** ValidateNonnegativeField, for an optional integer. */
export function nonNegative(path: string, v: unknown): Errs {
  if (v === undefined || v === null) return [];
  if (!isInt(v)) return [Inv(path, v, 'must be an integer')];
  return v < 0 ? [Inv(path, v, NONNEG)] : [];
}

/** An optional integer that must be > 0. */
export function positive(path: string, v: unknown, detail = 'must be greater than 0'): Errs {
  if (v === undefined || v === null) return [];
  if (!isInt(v)) return [Inv(path, v, 'must be an integer')];
  return v <= 0 ? [Inv(path, v, detail)] : [];
}

/** An optional integer within [lo, hi]. */
export function inRange(path: string, v: unknown, lo: number, hi: number, detail?: string): Errs {
  if (v === undefined || v === null) return [];
  if (!isInt(v)) return [Inv(path, v, 'must be an integer')];
  return v < lo || v > hi ? [Inv(path, v, detail ?? `must be between ${lo} and ${hi}, inclusive`)] : [];
}

/** An optional enum value. */
export function oneOf(path: string, v: unknown, allowed: readonly string[]): Errs {
  if (v === undefined || v === null) return [];
  return allowed.includes(v as string) ? [] : [NotSupported(path, v, allowed)];
}

export function boolField(path: string, v: unknown): Errs {
  return v === undefined || v === null || typeof v === 'boolean' ? [] : [Inv(path, v, 'must be a boolean')];
}

/** ValidatePositiveIntOrPercent + IsNotMoreThan100Percent (optional). */
export function intOrPercent(path: string, v: unknown, max100 = false): Errs {
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') {
    if (!/^[0-9]+%$/.test(v)) {
      return [
        Inv(path, v, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"),
      ];
    }
    return max100 && Number(v.slice(0, -1)) > 100 ? [Inv(path, v, 'must not be greater than 100%')] : [];
  }
  return nonNegative(path, v);
}

/** The numeric part of an int-or-percent (0 for unset). */
export const intOrPercentValue = (v: unknown): number => (typeof v === 'string' ? Number.parseInt(v, 10) || 0 : isInt(v) ? v : 0);

// ---- labels, annotations, selectors -----------------------------------------------------------------

/** ValidateLabels: keys are qualified names, values label values; all errors at `path`. */
export function validateLabels(labels: unknown, path: string): Errs {
  if (labels === undefined || labels === null) return [];
  const m = obj(labels);
  if (!m) return [Inv(path, labels, 'must be a map of string keys to string values')];
  const errs: Errs = [];
  for (const [k, v] of Object.entries(m)) {
    for (const msg of isQualifiedName(k)) errs.push(Inv(path, k, msg));
    if (typeof v !== 'string') errs.push(Inv(path, v, `label ${JSON.stringify(k)}: values must be strings (quote it in YAML)`));
    else for (const msg of isValidLabelValue(v)) errs.push(Inv(path, v, msg));
  }
  return errs;
}

const ANNOTATIONS_MAX = 256 * 1024;

export function validateAnnotations(ann: unknown, path: string): Errs {
  if (ann === undefined || ann === null) return [];
  const m = obj(ann);
  if (!m) return [Inv(path, ann, 'must be a map of string keys to string values')];
  const errs: Errs = [];
  let size = 0;
  for (const [k, v] of Object.entries(m)) {
    for (const msg of isQualifiedName(k.toLowerCase())) errs.push(Inv(path, k, msg));
    if (typeof v !== 'string') errs.push(Inv(path, v, `annotation ${JSON.stringify(k)}: values must be strings`));
    else size += Buffer.byteLength(k) + Buffer.byteLength(v);
  }
  if (size > ANNOTATIONS_MAX) errs.push(TooLong(path, ANNOTATIONS_MAX));
  return errs;
}

const SELECTOR_OPS = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

/** metav1validation.ValidateLabelSelector, per field. */
export function validateLabelSelector(sel: unknown, path: string): Errs {
  if (sel === undefined || sel === null) return [];
  const s = obj(sel);
  if (!s) return [Inv(path, sel, 'must be a label selector object')];
  const errs: Errs = [];
  arr(s.matchExpressions).forEach((e: any, i: number) => {
    const p = `${path}.matchExpressions[${i}]`;
    const values = arr(e?.values);
    if (e?.operator === 'In' || e?.operator === 'NotIn') {
      if (values.length === 0) errs.push(ReqD(`${p}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
    } else if (e?.operator === 'Exists' || e?.operator === 'DoesNotExist') {
      if (values.length > 0) errs.push(Forbidden(`${p}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
    } else {
      errs.push(NotSupported(`${p}.operator`, e?.operator, SELECTOR_OPS));
    }
    if (!isStr(e?.key)) errs.push(Req(`${p}.key`));
    else for (const msg of isQualifiedName(e.key)) errs.push(Inv(`${p}.key`, e.key, msg));
    values.forEach((v, j) => {
      for (const msg of isStr(v) ? isValidLabelValue(v) : ['must be a string']) errs.push(Inv(`${p}.values[${j}]`, v, msg));
    });
  });
  errs.push(...validateLabels(s.matchLabels, `${path}.matchLabels`));
  return errs;
}

// ---- ObjectMeta ---------------------------------------------------------------------------------------

export interface MetaOptions {
  namespaced: boolean;
  nameFn: NameFn;
}

/** ValidateObjectMeta. The namespace is not required: the server defaults it. */
export function validateObjectMeta(meta: unknown, opts: MetaOptions, path = 'metadata'): Errs {
  const m = obj(meta);
  if (!m) return [ReqD(`${path}.name`, 'name or generateName is required')];
  const errs: Errs = [];
  if (filled(m.generateName)) {
    for (const msg of opts.nameFn(m.generateName, true)) errs.push(Inv(`${path}.generateName`, m.generateName, msg));
  }
  if (!filled(m.name)) {
    if (!filled(m.generateName)) errs.push(ReqD(`${path}.name`, 'name or generateName is required'));
  } else {
    for (const msg of opts.nameFn(m.name, false)) errs.push(Inv(`${path}.name`, m.name, msg));
  }
  if (opts.namespaced) {
    if (filled(m.namespace)) for (const msg of isDNS1123Label(m.namespace)) errs.push(Inv(`${path}.namespace`, m.namespace, msg));
  } else if (filled(m.namespace)) {
    errs.push(Forbidden(`${path}.namespace`, 'not allowed on this type'));
  }
  errs.push(...nonNegative(`${path}.generation`, m.generation));
  errs.push(...validateLabels(m.labels, `${path}.labels`));
  errs.push(...validateAnnotations(m.annotations, `${path}.annotations`));
  errs.push(...validateOwnerReferences(m.ownerReferences, `${path}.ownerReferences`));
  arr(m.finalizers).forEach((f, i) => {
    for (const msg of isStr(f) ? isQualifiedName(f) : ['must be a string']) errs.push(Inv(`${path}.finalizers[${i}]`, f, msg));
  });
  return errs;
}

function validateOwnerReferences(refs: unknown, path: string): Errs {
  const errs: Errs = [];
  const controllers: string[] = [];
  arr(refs).forEach((r: any, i: number) => {
    const p = `${path}[${i}]`;
    if (!filled(r?.apiVersion)) errs.push(Inv(`${p}.apiVersion`, r?.apiVersion ?? '', 'version must not be empty'));
    if (!filled(r?.kind)) errs.push(Inv(`${p}.kind`, r?.kind ?? '', 'kind must not be empty'));
    if (!filled(r?.name)) errs.push(Inv(`${p}.name`, r?.name ?? '', 'name must not be empty'));
    if (!filled(r?.uid)) errs.push(Inv(`${p}.uid`, r?.uid ?? '', 'uid must not be empty'));
    if (r?.controller === true) controllers.push(`${r.kind}/${r.name}`);
  });
  if (controllers.length > 1) {
    errs.push(Inv(path, controllers, `Only one reference can have Controller set to true. Found "true" in references for ${controllers.join(' and ')}`));
  }
  return errs;
}

/**
 * ValidateObjectMetaUpdate: name, namespace and uid never change. The server carries uid and
 * creationTimestamp over from the stored object first; an empty new value is not flagged.
 */
export function validateObjectMetaUpdate(meta: unknown, oldMeta: unknown, path = 'metadata'): Errs {
  const n = obj(meta) ?? {};
  const o = obj(oldMeta) ?? {};
  const errs: Errs = [];
  if ((n.name ?? '') !== (o.name ?? '')) errs.push(Inv(`${path}.name`, n.name ?? '', 'field is immutable'));
  if ((n.namespace ?? '') !== (o.namespace ?? '')) errs.push(Inv(`${path}.namespace`, n.namespace ?? '', 'field is immutable'));
  for (const f of ['uid', 'creationTimestamp']) {
    if (filled(n[f]) && filled(o[f]) && n[f] !== o[f]) errs.push(Inv(`${path}.${f}`, n[f], 'field is immutable'));
  }
  if (o.deletionTimestamp && n.deletionTimestamp && n.deletionTimestamp !== o.deletionTimestamp) {
    errs.push(Inv(`${path}.deletionTimestamp`, n.deletionTimestamp, 'field is immutable; may only be changed via deletion'));
  }
  return errs;
}

/** ValidateImmutableField. */
export function immutable(newV: unknown, oldV: unknown, path: string): Errs {
  return same(newV, oldV) ? [] : [Inv(path, newV ?? null, 'field is immutable')];
}

/** Duplicate detection helper: returns a Dup error when `key` was seen before. */
export function dedupe(seen: Set<string>, key: string, path: string, value: unknown = key): Errs {
  if (seen.has(key)) return [Dup(path, value)];
  seen.add(key);
  return [];
}
