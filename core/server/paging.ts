/** `continue` tokens for list paging: opaque to clients, carry the last key and the list revision. */
import { ApiError } from '../api/errors.ts';

interface Token {
  v: 1;
  /** Last key returned. */
  k: string;
  /** Revision of the first page. */
  r: number;
}

export function encodeContinue(lastKey: string, revision: number): string {
  const t: Token = { v: 1, k: lastKey, r: revision };
  return Buffer.from(JSON.stringify(t)).toString('base64url');
}

export function decodeContinue(token: string, prefix: string): Token {
  let t: Token;
  try {
    t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Token;
  } catch {
    throw new ApiError('BadRequest', `continue key is not valid: invalid format`);
  }
  if (!t || t.v !== 1 || typeof t.k !== 'string' || typeof t.r !== 'number' || !t.k.startsWith(prefix)) {
    throw new ApiError('BadRequest', 'continue key is not valid: it does not belong to this list');
  }
  return t;
}
