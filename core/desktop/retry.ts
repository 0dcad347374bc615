/**
 * Writes the UI makes on the user's behalf (scale, restart, cordon, undo …) express an intent,
 * not an edit of a version the user saw: a Conflict with a concurrent writer (a controller's
 * status update) is retried a few times, as client-go's RetryOnConflict does — as is a failed
 * JSON-patch `test` (how rollbackTo's resourceVersion guard reports a concurrent change).
 * Edits of a version the user saw (config.save with a resourceVersion) are never retried.
 */
import { isApiError } from '../api/errors.ts';

export async function retryOnConflict<T>(fn: () => Promise<T>, attempts = 6): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (e) {
      const retriable = isApiError(e, 'Conflict') || (isApiError(e, 'Invalid') && /test failed/i.test((e as Error).message));
      if (!retriable || i >= attempts) throw e;
      await new Promise((r) => setTimeout(r, 25 * i));
    }
  }
}
