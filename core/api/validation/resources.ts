/** Resource quantities and lists: containers' requests/limits, quotas, limit ranges, PVC sizes. */
import { Inv } from '../errors.ts';
import { parseQuantity, QuantityError, type Quantity } from '../quantity.ts';
import { isQualifiedName, obj, ReqD, type Errs } from './common.ts';

/** Parse a quantity, pushing Kubernetes' wording on failure. */
export function quantityAt(path: string, v: unknown, errs: Errs): Quantity | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') {
    errs.push(Inv(path, v ?? null, 'must be a quantity string (e.g. "500m", "1Gi")'));
    return undefined;
  }
  try {
    return parseQuantity(v);
  } catch (e) {
    if (e instanceof QuantityError) {
      errs.push(Inv(path, v, e.detail));
      return undefined;
    }
    throw e;
  }
}

export const isHugePages = (name: string): boolean => name.startsWith('hugepages-');
const STANDARD_CONTAINER = new Set(['cpu', 'memory', 'ephemeral-storage']);
/** Native resources live in no namespace or in `kubernetes.io/`. */
const isNative = (name: string): boolean => !name.includes('/') || name.includes('kubernetes.io/');
export const isExtendedResource = (name: string): boolean => !isNative(name) && !name.startsWith('requests.');
/** Requests may be below limits only for these. */
const overcommitAllowed = (name: string): boolean => isNative(name) && !isHugePages(name);
const isIntegerResource = (name: string): boolean => isExtendedResource(name);

/** validateContainerResourceName. */
function containerResourceNameErrors(name: string, path: string): Errs {
  const errs: Errs = [];
  for (const msg of isQualifiedName(name)) errs.push(Inv(path, name, msg));
  if (errs.length) return errs;
  if (!name.includes('/')) {
    if (!STANDARD_CONTAINER.has(name) && !isHugePages(name)) errs.push(Inv(path, name, 'must be a standard resource for containers'));
  } else if (!isNative(name) && !isExtendedResource(name)) {
    errs.push(Inv(path, name, "doesn't follow extended resource name standard"));
  }
  return errs;
}

/** Each entry: a name (checked by `nameErrors`) and a non-negative quantity. Returns parsed values. */
export function validateResourceList(
  list: unknown,
  path: string,
  errs: Errs,
  nameErrors: (name: string, path: string) => Errs = (n, p) => isQualifiedName(n).map((m) => Inv(p, n, m)),
): Map<string, Quantity> {
  const out = new Map<string, Quantity>();
  if (list === undefined || list === null) return out;
  const m = obj(list);
  if (!m) {
    errs.push(Inv(path, list, 'must be a map of resource names to quantities'));
    return out;
  }
  for (const [name, v] of Object.entries(m)) {
    const p = `${path}[${name}]`;
    errs.push(...nameErrors(name, p));
    const q = quantityAt(p, v, errs);
    if (!q) continue;
    if (q.sign() < 0) errs.push(Inv(p, v, 'must be greater than or equal to 0'));
    else if (isIntegerResource(name) && q.milliValue() % 1000n !== 0n) errs.push(Inv(p, v, 'must be an integer'));
    out.set(name, q);
  }
  return out;
}

/** ValidateResourceRequirements for a container: valid names and quantities, requests ≤ limits. */
export function validateContainerResources(res: unknown, path: string): Errs {
  const errs: Errs = [];
  if (res === undefined || res === null) return errs;
  const r = obj(res);
  if (!r) return [Inv(path, res, 'must be an object with `requests` and/or `limits`')];
  const limPath = `${path}.limits`;
  const reqPath = `${path}.requests`;
  const limits = validateResourceList(r.limits, limPath, errs, containerResourceNameErrors);
  const requests = validateResourceList(r.requests, reqPath, errs, containerResourceNameErrors);
  for (const [name, req] of requests) {
    const lim = limits.get(name);
    if (lim) {
      if (req.cmp(lim) !== 0 && !overcommitAllowed(name)) {
        errs.push(Inv(reqPath, req.toString(), `must be equal to ${name} limit of ${lim.toString()}`));
      } else if (req.cmp(lim) > 0) {
        errs.push(Inv(reqPath, req.toString(), `must be less than or equal to ${name} limit of ${lim.toString()}`));
      }
    } else if (!overcommitAllowed(name)) {
      errs.push(ReqD(`${limPath}[${name}]`, 'Limit must be set for non overcommitable resources'));
    }
  }
  return errs;
}
