/**
 * What objects look like when they cross to the renderer: `metadata.managedFields` dropped (it
 * is large and says nothing to a user), and Secrets without their values — `data` and
 * `stringData` values become '' (the keys stay, so the UI can list them), and the
 * last-applied annotation (which holds the values as written) is removed. Values reach the
 * renderer only through `config.get` with `reveal`.
 */
import type { KubeObject } from '../api/types.ts';
import { SECRET_MASK } from '../desktop-api.ts';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

export function forRenderer(obj: KubeObject): KubeObject {
  const needsCopy = obj.metadata?.managedFields !== undefined || obj.kind === 'Secret';
  if (!needsCopy) return obj;
  const out: KubeObject = { ...obj, metadata: { ...obj.metadata } };
  delete out.metadata.managedFields;
  if (obj.kind === 'Secret') maskSecret(out);
  return out;
}

/** Masks a Secret in place (its top-level fields; `metadata` must already be a copy). */
export function maskSecret(out: KubeObject): void {
  for (const field of ['data', 'stringData'] as const) {
    const d = out[field];
    if (d && typeof d === 'object') out[field] = Object.fromEntries(Object.keys(d).map((k) => [k, SECRET_MASK]));
  }
  if (out.metadata.annotations?.[LAST_APPLIED] !== undefined) {
    const annotations = { ...out.metadata.annotations };
    delete annotations[LAST_APPLIED];
    out.metadata.annotations = annotations;
  }
}

/**
 * For an import diff: a Secret's values as `•••• (N bytes)`, and `•••• (N bytes, changed)` where
 * the value differs from `other`'s — the diff shows what changes without showing any value.
 */
export function maskSecretForDiff(obj: KubeObject, other?: KubeObject): KubeObject {
  const out: KubeObject = { ...obj, metadata: { ...obj.metadata } };
  delete out.metadata.managedFields;
  const bytes = (v: unknown, b64: boolean) => (typeof v === 'string' ? (b64 ? Buffer.from(v, 'base64').length : Buffer.byteLength(v)) : 0);
  for (const field of ['data', 'stringData'] as const) {
    const d = obj[field] as Record<string, unknown> | undefined;
    if (!d || typeof d !== 'object') continue;
    const o = other?.[field] as Record<string, unknown> | undefined;
    out[field] = Object.fromEntries(
      Object.entries(d).map(([k, v]) => {
        const changed = other !== undefined && o?.[k] !== v;
        return [k, `•••• (${bytes(v, field === 'data')} bytes${changed ? ', changed' : ''})`];
      }),
    );
  }
  if (out.metadata.annotations?.[LAST_APPLIED] !== undefined) {
    const annotations = { ...out.metadata.annotations };
    delete annotations[LAST_APPLIED];
    out.metadata.annotations = annotations;
  }
  return out;
}
