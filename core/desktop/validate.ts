/**
 * Argument checks for the desktop contract: small composable validators that either return the
 * value (typed, with unknown keys refused) or throw a `BadRequest` DesktopError naming the field
 * (`args.replicas: must be an integer from 0 to 1000, not -1`). The renderer is never trusted:
 * every call's arguments pass through one of these before a handler sees them.
 */
import { isDNS1123Subdomain, isQualifiedName, isValidLabelValue } from '../api/selectors.ts';
import { DesktopError } from '../desktop-api.ts';

export type Check<T> = (value: unknown, path: string) => T;

export function fail(path: string, message: string): never {
  throw new DesktopError('BadRequest', `${path}: ${message}`, { field: path });
}

const show = (v: unknown): string => {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return String(v);
};

export interface StringOpts {
  min?: number;
  max?: number;
  pattern?: RegExp;
  /** What `pattern` means, for the message. */
  patternText?: string;
}

export function str(opts: StringOpts = {}): Check<string> {
  const { min = 0, max = 1024 } = opts;
  return (v, path) => {
    if (typeof v !== 'string') fail(path, `must be a string, not ${show(v)}`);
    if (v.length < min) fail(path, min === 1 ? 'must not be empty' : `must be at least ${min} characters`);
    if (v.length > max) fail(path, `must be at most ${max} characters`);
    if (opts.pattern && !opts.pattern.test(v)) fail(path, `${opts.patternText ?? `must match ${opts.pattern}`}, not ${show(v)}`);
    return v;
  };
}

export function oneOf<const T extends readonly string[]>(values: T): Check<T[number]> {
  return (v, path) => {
    if (typeof v !== 'string' || !values.includes(v)) fail(path, `must be one of ${values.join(', ')}, not ${show(v)}`);
    return v as T[number];
  };
}

export function int(min: number, max: number): Check<number> {
  return (v, path) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(path, `must be an integer from ${min} to ${max}, not ${show(v)}`);
    return v;
  };
}

export const bool: Check<boolean> = (v, path) => {
  if (typeof v !== 'boolean') fail(path, `must be true or false, not ${show(v)}`);
  return v;
};

export function optional<T>(check: Check<T>): Check<T | undefined> & { optional: true } {
  const c = ((v: unknown, path: string) => (v === undefined ? undefined : check(v, path))) as Check<T | undefined> & { optional: true };
  c.optional = true;
  return c;
}

export function list<T>(check: Check<T>, opts: { min?: number; max: number }): Check<T[]> {
  return (v, path) => {
    if (!Array.isArray(v)) fail(path, `must be a list, not ${show(v)}`);
    if (v.length < (opts.min ?? 0)) fail(path, `must have at least ${opts.min} item(s)`);
    if (v.length > opts.max) fail(path, `must have at most ${opts.max} items`);
    return v.map((x, i) => check(x, `${path}[${i}]`));
  };
}

/** A plain object with string keys, each value checked. */
export function record<T>(key: Check<string>, value: Check<T>, max = 256): Check<Record<string, T>> {
  return (v, path) => {
    if (!isPlainObject(v)) fail(path, `must be an object, not ${show(v)}`);
    const entries = Object.entries(v);
    if (entries.length > max) fail(path, `must have at most ${max} entries`);
    const out: Record<string, T> = {};
    for (const [k, x] of entries) {
      key(k, `${path}[${k}]`);
      out[k] = value(x, `${path}[${k}]`);
    }
    return out;
  };
}

type Shape = Record<string, Check<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends { optional: true } ? K : never }[keyof S];
type Out<S extends Shape> = { [K in Exclude<keyof S, OptionalKeys<S>>]: ReturnType<S[K]> } & {
  [K in OptionalKeys<S>]?: Exclude<ReturnType<S[K]>, undefined>;
};

/** An object with exactly these keys (optional ones may be missing); anything else is refused. */
export function obj<S extends Shape>(shape: S): Check<Out<S>> {
  return (v, path) => {
    if (v === undefined && Object.values(shape).every((c) => (c as { optional?: boolean }).optional)) v = {};
    if (!isPlainObject(v)) fail(path, `must be an object, not ${show(v)}`);
    for (const k of Object.keys(v)) if (!(k in shape)) fail(`${path}.${k}`, `is not a known field (known: ${Object.keys(shape).join(', ') || 'none'})`);
    const out: Record<string, unknown> = {};
    for (const [k, check] of Object.entries(shape)) {
      const x = check((v as Record<string, unknown>)[k], `${path}.${k}`);
      if (x !== undefined) out[k] = x;
    }
    return out as Out<S>;
  };
}

/** One of several object shapes, told apart by `field`. */
export function union<T>(field: string, variants: Record<string, Check<T>>): Check<T> {
  return (v, path) => {
    if (!isPlainObject(v)) fail(path, `must be an object, not ${show(v)}`);
    const tag = (v as Record<string, unknown>)[field];
    const check = typeof tag === 'string' && Object.hasOwn(variants, tag) ? variants[tag] : undefined;
    if (!check) fail(`${path}.${field}`, `must be one of ${Object.keys(variants).join(', ')}, not ${show(tag)}`);
    return check(v, path);
  };
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

// ---- Kubernetes names ---------------------------------------------------------------------

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Namespace and node-ish names: a DNS-1123 label (≤ 63). */
export const dnsLabel: Check<string> = (v, path) => {
  const s = str({ min: 1, max: 63 })(v, path);
  if (!DNS1123_LABEL.test(s)) fail(path, `must be a DNS-1123 label (lower case letters, digits and '-', starting and ending with a letter or digit), not ${show(s)}`);
  return s;
};

/** Object names: a DNS-1123 subdomain (≤ 253). */
export const objectName: Check<string> = (v, path) => {
  const s = str({ min: 1, max: 253 })(v, path);
  const errs = isDNS1123Subdomain(s);
  if (errs.length) fail(path, `${errs[0]}, not ${show(s)}`);
  return s;
};

/** Node names also allow what the API allows for any object name. */
export const nodeName = objectName;

export const labelKey: Check<string> = (v, path) => {
  const s = str({ min: 1, max: 316 })(v, path);
  const errs = isQualifiedName(s);
  if (errs.length) fail(path, `not a valid label key: ${errs[0]}`);
  return s;
};

export const labelValue: Check<string> = (v, path) => {
  const s = str({ max: 63 })(v, path);
  const errs = isValidLabelValue(s);
  if (errs.length) fail(path, `not a valid label value: ${errs[0]}`);
  return s;
};

/** An id this process handed out (watch, stream, session …). */
export const handleId: Check<string> = str({ min: 1, max: 64, pattern: /^[A-Za-z0-9_-]+$/, patternText: 'must be an id handed out by an earlier call' });

/** A container name (DNS-1123 label). */
export const containerName = dnsLabel;
