/**
 * Any error a handler throws, as the contract's envelope `{ error: { reason, message, details } }`:
 * API errors keep their Kubernetes Status reason and causes, import errors list every problem,
 * runtime errors say the engine cannot be reached; anything else is an InternalError (its
 * message only, never a stack).
 */
import { isApiError } from '../api/errors.ts';
import { ImportError } from '../api/yaml-import.ts';
import { DesktopError } from '../desktop-api.ts';
import { RuntimeError, RuntimeNotFoundError, RuntimeUnavailableError } from '../runtime/runtime.ts';

export function toDesktopError(e: unknown): DesktopError {
  if (e instanceof DesktopError) return e;
  if (isApiError(e)) {
    const d = e.status.details;
    return new DesktopError(e.reason, e.message, {
      ...(d?.causes?.length ? { causes: d.causes.map((c) => ({ field: c.field, reason: c.reason, message: c.message })) } : {}),
      ...(d?.kind ? { kind: d.kind } : {}),
      ...(d?.name ? { name: d.name } : {}),
    });
  }
  if (e instanceof ImportError) return new DesktopError('ImportFailed', e.message, { problems: e.problems.map((p) => ({ ...p })) });
  if (e instanceof RuntimeUnavailableError) return new DesktopError('Unavailable', e.message);
  if (e instanceof RuntimeNotFoundError) return new DesktopError('NotFound', e.message);
  if (e instanceof RuntimeError) return new DesktopError('InternalError', e.message);
  const message = e instanceof Error ? e.message : String(e);
  return new DesktopError('InternalError', message || 'internal error');
}

export const unavailable = (message: string) => new DesktopError('Unavailable', message);
export const notFoundError = (message: string) => new DesktopError('NotFound', message);
export const badRequestError = (message: string) => new DesktopError('BadRequest', message);
