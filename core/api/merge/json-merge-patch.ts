/**
 * JSON Merge Patch (RFC 7386): a patch is a partial document; `null` deletes a member, objects
 * merge recursively, everything else (arrays included) replaces.
 */
import { cloneJson, hasOwn, isObject, jsonEqual, setOwn, type JsonObject } from './json.ts';

/** `target` with `patch` applied. Neither argument is modified. */
export function jsonMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return cloneJson(patch);
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const key of Object.keys(patch)) {
    const value = patch[key];
    if (value === null) {
      delete out[key];
      continue;
    }
    setOwn(out, key, jsonMergePatch(hasOwn(out, key) ? out[key] : undefined, value));
  }
  // Members copied from target were shared; clone them so the result owns its values.
  for (const key of Object.keys(out)) if (!hasOwn(patch, key)) setOwn(out, key, cloneJson(out[key]));
  return out;
}

/**
 * The merge patch that turns `from` into `to`: `jsonMergePatch(from, createJsonMergePatch(from, to))`
 * equals `to` — except where `to` holds `null` as an object member, which RFC 7386 cannot express
 * (a null in a patch means "delete").
 */
export function createJsonMergePatch(from: unknown, to: unknown): unknown {
  if (!isObject(from) || !isObject(to)) return cloneJson(to);
  const patch: JsonObject = {};
  for (const key of Object.keys(from)) if (!hasOwn(to, key)) setOwn(patch, key, null);
  for (const key of Object.keys(to)) {
    const a = hasOwn(from, key) ? from[key] : undefined;
    const b = to[key];
    if (a !== undefined && jsonEqual(a, b)) continue;
    if (isObject(a) && isObject(b)) setOwn(patch, key, createJsonMergePatch(a, b));
    else setOwn(patch, key, cloneJson(b));
  }
  return patch;
}
