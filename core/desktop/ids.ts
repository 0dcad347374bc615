import { randomBytes } from 'node:crypto';

/** An unguessable id for something a session opened (`w_…`, `x_…`, `pf_…`). */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(9).toString('base64url')}`;
}
