/**
 * Value shapes and Kubernetes' string formats (k8s.io/apimachinery/pkg/util/validation): DNS
 * labels and subdomains, port names, env var names, config keys — with Kubernetes' wording.
 */
import { isIP } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import { isDNS1123Subdomain, isQualifiedName, isValidLabelValue } from '../selectors.ts';

export { isDNS1123Subdomain, isQualifiedName, isValidLabelValue };

// ---- value shapes (objects come from users' YAML: never trust a type) ---------------------------

/** `x` when it is a plain object, else undefined. */
export function obj(x: unknown): Record<string, any> | undefined {
  return x !== null && typeof x === 'object' && !Array.isArray(x) ? (x as Record<string, any>) : undefined;
}
export function arr(x: unknown): any[] {
  return Array.isArray(x) ? x : [];
}
export const isStr = (x: unknown): x is string => typeof x === 'string';
export const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x);
export const has = (x: unknown): boolean => x !== undefined && x !== null;
/** Non-empty string. */
export const filled = (x: unknown): x is string => typeof x === 'string' && x.length > 0;

/** Deep equality with JSON semantics: `{a: undefined}` equals `{}`. */
export function same(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(normalize(a), normalize(b));
}
function normalize(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(normalize);
  if (x && typeof x === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) if (v !== undefined) out[k] = normalize(v);
    return out;
  }
  return x;
}

/** Leaf paths where `a` and `b` differ (`spec.containers[0].image`), at most `max` of them. */
export function diffPaths(a: unknown, b: unknown, path: string, max = 8): string[] {
  const out: string[] = [];
  const walk = (x: unknown, y: unknown, p: string): void => {
    if (out.length >= max || same(x, y)) return;
    if (Array.isArray(x) && Array.isArray(y) && x.length === y.length) return x.forEach((v, i) => walk(v, y[i], `${p}[${i}]`));
    const ox = obj(x);
    const oy = obj(y);
    if (ox && oy) {
      for (const k of new Set([...Object.keys(ox), ...Object.keys(oy)])) walk(ox[k], oy[k], `${p}.${k}`);
      return;
    }
    out.push(p);
  };
  walk(a, b, path);
  return out;
}

// ---- name formats ---------------------------------------------------------------------------------

const DNS1123_LABEL_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1035_LABEL_FMT = '[a-z]([-a-z0-9]*[a-z0-9])?';
const dns1123LabelRe = new RegExp(`^${DNS1123_LABEL_FMT}$`);
const dns1035LabelRe = new RegExp(`^${DNS1035_LABEL_FMT}$`);

export const maxLen = (n: number): string => `must be no more than ${n} characters`;

export function isDNS1123Label(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 63) errs.push(maxLen(63));
  if (!dns1123LabelRe.test(v)) {
    errs.push(
      "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character " +
        `(e.g. 'my-name',  or '123-abc', regex used for validation is '${DNS1123_LABEL_FMT}')`,
    );
  }
  return errs;
}

export function isDNS1035Label(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 63) errs.push(maxLen(63));
  if (!dns1035LabelRe.test(v)) {
    errs.push(
      "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character " +
        `(e.g. 'my-name',  or 'abc-123', regex used for validation is '${DNS1035_LABEL_FMT}')`,
    );
  }
  return errs;
}

/** path.IsValidPathSegmentName — RBAC and scale-target names. */
export function isValidPathSegmentName(v: string): string[] {
  if (v === '.' || v === '..') return [`may not be '${v}'`];
  const errs: string[] = [];
  for (const c of ['/', '%']) if (v.includes(c)) errs.push(`may not contain '${c}'`);
  return errs;
}

/** A Kubernetes name validator; `prefix` is true for generateName (a trailing '-' is fine). */
export type NameFn = (name: string, prefix: boolean) => string[];
const masked = (fn: (v: string) => string[]): NameFn => (n, prefix) => fn(prefix && n.endsWith('-') ? `${n.slice(0, -1)}a` : n);
export const nameIsDNSSubdomain: NameFn = masked(isDNS1123Subdomain);
export const nameIsDNSLabel: NameFn = masked(isDNS1123Label);
export const nameIsDNS1035Label: NameFn = masked(isDNS1035Label);
export const nameIsPathSegment: NameFn = (n) => isValidPathSegmentName(n);

export function isValidPortNum(n: unknown): string[] {
  return isInt(n) && n >= 1 && n <= 65535 ? [] : ['must be between 1 and 65535, inclusive'];
}

/** IANA_SVC_NAME: a named container port. */
export function isValidPortName(p: string): string[] {
  const errs: string[] = [];
  if (p.length > 15) errs.push(maxLen(15));
  if (!/^[-a-z0-9]+$/.test(p)) errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(p)) errs.push('must contain at least one letter (a-z)');
  if (p.includes('--')) errs.push('must not contain consecutive hyphens');
  if (p.startsWith('-') || p.endsWith('-')) errs.push('must not begin or end with a hyphen');
  return errs;
}

export function isEnvVarName(v: string): string[] {
  if (/^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(v)) return [];
  return [
    "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit " +
      "(e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')",
  ];
}

/** A ConfigMap/Secret key (also a file name in a volume). */
export function isConfigMapKey(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 253) errs.push(maxLen(253));
  if (!/^[-._a-zA-Z0-9]+$/.test(v)) {
    errs.push(
      "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
    );
  }
  if (v === '.') errs.push("must not be '.'");
  else if (v === '..') errs.push("must not be '..'");
  else if (v.startsWith('..')) errs.push("must not start with '..'");
  return errs;
}

export const isValidIP = (v: unknown): boolean => typeof v === 'string' && isIP(v) !== 0;

