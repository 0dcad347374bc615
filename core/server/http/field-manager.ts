/**
 * The field manager of an HTTP write, as kube-apiserver takes it: the `fieldManager` query
 * parameter, else the User-Agent up to its first `/` (`kubectl/v1.30.0 (linux/amd64) …` →
 * `kubectl`). The parameter is validated as Create/Update/PatchOptions are (422 Invalid: at most
 * 128 bytes, printable characters only; required for apply; `force` only for apply).
 */
import { Forbidden, Inv, Req, TooLong, badRequest, invalid, type FieldError } from '../../api/errors.ts';

export const FIELD_MANAGER_MAX_LENGTH = 128;

export type OptionsKind = 'CreateOptions' | 'UpdateOptions' | 'PatchOptions';

export interface WriteManager {
  /** The fieldManager parameter as sent (undefined when absent or empty). */
  fieldManager?: string;
  /** Who the write is recorded for: the parameter, else the User-Agent's prefix. */
  manager: string;
  /** `force` (PatchOptions only): an apply takes conflicting fields. */
  force: boolean;
}

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/** `kubectl/v1.30.0 (linux/amd64) kubernetes/abc` → `kubectl`: printable characters, at most 128 bytes. */
export function prefixFromUserAgent(ua: string | undefined): string {
  let out = '';
  for (const ch of (ua ?? '').split('/')[0]!) {
    if (!PRINTABLE.test(ch)) continue;
    if (Buffer.byteLength(out + ch) > FIELD_MANAGER_MAX_LENGTH) break;
    out += ch;
  }
  return out;
}

function parseBool(v: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  throw badRequest(`invalid value for force: strconv.ParseBool: parsing ${JSON.stringify(v)}: invalid syntax`);
}

export function writeManager(query: URLSearchParams, userAgent: string | undefined, kind: OptionsKind, apply = false): WriteManager {
  const fieldManager = query.get('fieldManager') || undefined;
  const forceParam = kind === 'PatchOptions' ? query.get('force') : null;
  const force = forceParam === null ? false : parseBool(forceParam);
  const errors: FieldError[] = [];
  if (kind === 'PatchOptions') {
    if (!apply && forceParam !== null) errors.push(Forbidden('force', 'may not be specified for non-apply patch'));
    if (apply && !fieldManager) errors.push(Req('fieldManager', 'Required value: is required for apply patch'));
  }
  if (fieldManager) {
    if (Buffer.byteLength(fieldManager) > FIELD_MANAGER_MAX_LENGTH) errors.push(TooLong('fieldManager', FIELD_MANAGER_MAX_LENGTH));
    let at = 0;
    for (const ch of fieldManager) {
      if (!PRINTABLE.test(ch)) {
        const code = ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
        errors.push(Inv('fieldManager', fieldManager, `invalid character U+${code} (at position ${at})`));
      }
      at += Buffer.byteLength(ch);
    }
  }
  if (errors.length) throw invalid({ kind, group: 'meta.k8s.io', name: '' }, errors);
  return { fieldManager, manager: fieldManager ?? prefixFromUserAgent(userAgent), force };
}
